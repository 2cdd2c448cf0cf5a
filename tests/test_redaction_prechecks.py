"""Redaction's literal pre-checks only skip work: `redact` equals running every rule on every text.

The pre-checks decide which rules run from a lower-cased copy of the text; they are correct only
if every case-insensitive match of a rule leaves its literals in that copy, including the four
non-ASCII characters `re` matches to ASCII letters. Texts are built from the pieces the rules look
for (in every case), the separators around them and those characters.
"""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from ecsdoctor.redaction import _FOLD, _RULES, redact, redact_every_rule

PIECES = [
    "X-Amz-Signature=",
    "x-amz-security-token=",
    "X-Amz-Credential=",
    "AWSAccessKeyId=",
    "Signature=",
    "AKIA",
    "ASIA",
    "ABCDEFGHIJKLMNOP",
    "0123456789",
    "Bearer ",
    "Basic ",
    "dXNlcjpwYXNz",
    "token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "secret-key",
    "aws_secret_access_key",
    "api-key",
    "apikey",
    "id_token",
    "private_key",
    "credentials",
    "sig",
    "signature",
    ": ",
    "=",
    " = ",
    '"',
    "'",
    '": "',
    "arn:",
    "REDACTED",
    "authorization",
    "Authorization: ",
    "https://",
    "user:pw@",
    "@",
    " -u ",
    " --user=",
    " --proxy-user ",
    " --password ",
    " --http-password=",
    " --passwd ",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "ghp_",
    "gho_",
    "github_pat_",
    "xoxb-",
    "sk_live_",
    "rk_test_",
    "AIza",
    "eyJ",
    "eyJhbGciOiJIUzI1NiJ9.",
    "abcdefghij1234567890",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",
    "\u00df",
    "\u017fecret",
    "\u0130d_token",
    "pa\u017f\u017fword",
    "api_\u212aey",
    "\u0131d_token",
    " ",
    "\n",
    "\t",
    "\u00a0",
    "\u2003",
    ",",
    ";",
    "/",
    ":",
    "-",
    "_",
    ".",
    "+",
    "&",
    "a",
    "Z",
]


@st.composite
def texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14))
    flips = draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
    return "".join(p.swapcase() if flip else p for p, flip in zip(pieces, flips, strict=True))


@settings(max_examples=3000, deadline=None)
@given(texts())
def test_prechecks_never_skip_a_rule_that_would_match(text: str) -> None:
    assert redact(text) == redact_every_rule(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_prechecks_on_any_text(text: str) -> None:
    assert redact(text) == redact_every_rule(text)


def test_the_fold_table_is_every_non_ascii_character_re_matches_to_a_letter() -> None:
    letter = re.compile(r"(?i)[a-z]")
    found = {
        code: chr(code).lower() if chr(code).lower().isascii() else None
        for code in range(128, sys.maxunicode + 1)
        if letter.fullmatch(chr(code))
    }
    assert set(found) == set(_FOLD)
    for code in _FOLD:
        assert re.fullmatch(f"(?i){_FOLD[code]}", chr(code))


def test_every_rule_names_the_literals_it_needs() -> None:
    for pattern, _, needs in _RULES:
        assert needs and all(group and all(w == w.lower() for w in group) for group in needs)
        assert pattern.pattern


def test_keys_spelled_with_the_characters_re_folds_are_still_redacted() -> None:
    for text in (
        "\u017fecret=hunter2",
        "\u0130d_token=hunter2",
        "\u0131d_token: hunter2",
        "pa\u017f\u017fword = hunter2",
        "api_\u212aey=hunter2",
        "\u017fig=hunter2",
        "X-Amz-\u017fignature=hunter2",
        "\u0130D_TO\u212aEN=hunter2",
    ):
        assert redact(text) == redact_every_rule(text)
        assert "hunter2" not in redact(text), text
