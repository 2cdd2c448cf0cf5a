"""Scrub credentials and terminal control out of every string before anyone can see it.

Two layers, one entry point each:

- `redact(text)` replaces credentials (presigned URL signatures, access key ids, bearer and basic
  tokens, `token=` / `password=` / `secret=` values, credentials inside URLs and `curl -u`) with
  REDACTED markers. Ingest applies it on the way in; `scrub` applies it again on the way out.
- `scrub(text)` is what every output path uses (the renderers through `scrub_diagnosis`, the CLI's
  error and `explain` lines): `redact`, then terminal escapes (CSI, OSC 8 links, OSC 52 clipboard
  writes), control characters, line breaks inside a value and bidirectional overrides (U+202E)
  neutralized, so a value from AWS or the user can neither drive a terminal nor forge a line.

Format-specific escaping (Markdown, Slack) happens in the renderers, on values already scrubbed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

_SECRET_KEYS = (
    r"password|passwd|pwd|secret|client[_-]?secret|secret[_-]?key|secret[_-]?access[_-]?key"
    r"|aws_secret_access_key|token|access[_-]?token|refresh[_-]?token|auth[_-]?token"
    r"|session[_-]?token|security[_-]?token|id[_-]?token|api[_-]?key|apikey|private[_-]?key"
    r"|credentials?|sig|signature"
)

#: Every rule: (pattern, replacement, needs). `needs` lists groups of lower-case literals; the rule
#: can match only a text whose `_probe` holds at least one literal of every group (each group is
#: what any match of the pattern must contain, read off the pattern by hand; the property test in
#: tests/test_redaction_speed.py compares the result with running every rule on every text).
_RULES: tuple[tuple[re.Pattern[str], str, tuple[tuple[str, ...], ...]], ...] = (
    # Presigned URL query parameters: signature, token and credential scope.
    (
        re.compile(
            r"(?i)(X-Amz-(?:Signature|Security-Token|Credential)|Signature|AWSAccessKeyId"
            r"|x-amz-security-token)=[^&\s\"'<>]+"
        ),
        r"\1=REDACTED",
        (("signature=", "security-token=", "credential=", "awsaccesskeyid="),),
    ),
    # Access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "REDACTED_ACCESS_KEY_ID", (("akia", "asia"),)),
    # HTTP authorization schemes: `Authorization: Bearer xyz`, `Basic dXNlcjpw...`, `token xyz`.
    (
        re.compile(r"(?i)\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
        r"\1\2REDACTED",
        (("bearer",),),
    ),
    (
        re.compile(r"(?i)\b(Basic)(\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"),
        r"\1\2REDACTED",
        (("basic",),),
    ),
    # key=value / key: value pairs whose key says secret (`token=`, `password: `, `"secret":`).
    (
        re.compile(
            r"(?i)(?<!:)\b((?:[a-z0-9]+[_-])*(?:" + _SECRET_KEYS + r"))(\"?\s*[=:]\s*)"
            r"(?!arn:|REDACTED)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'<>)\]}]+)"
        ),
        r"\1\2REDACTED",
        (("pass", "pwd", "secret", "token", "key", "credential", "sig"), ("=", ":")),
    ),
    # Authorization headers with any other scheme.
    (
        re.compile(r"(?i)\b(authorization\s*[=:]\s*)(?!REDACTED|Bearer\b|Basic\b)\S+"),
        r"\1REDACTED",
        (("authorization",), ("=", ":")),
    ),
    # Credentials inside URLs: https://user:pass@host
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"),
        r"\1REDACTED@",
        (("://",), ("@",)),
    ),
    # curl / wget style credentials: `-u admin:PASSWORD`, `--user=admin:pw`, `--password pw`.
    (
        re.compile(r"(?i)(\s(?:-u|--user|--proxy-user)[\s=]+)[^\s:]+:\S+"),
        r"\1REDACTED",
        (("-u",), (":",)),
    ),
    (
        re.compile(r"(?i)(\s--(?:password|http-password|passwd)[\s=]+)\S+"),
        r"\1REDACTED",
        (("-password", "--passwd"),),
    ),
    # Tokens recognisable by their shape wherever they appear: private keys, GitHub, Slack,
    # Stripe and Google API keys, JSON web tokens.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        "REDACTED",
        (("-----begin ",), ("private key-----",)),
    ),
    (
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
        "REDACTED",
        (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),),
    ),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"), "REDACTED", (("github_pat_",),)),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), "REDACTED", (("xox",),)),
    (
        re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b"),
        "REDACTED",
        (("k_live_", "k_test_"),),
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "REDACTED", (("aiza",),)),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
        "REDACTED",
        (("eyj",),),
    ),
)

#: One literal of every rule's first group: a text holding none of them needs no rule at all.
_SECRET_RULE = 4
_FIRSTS = frozenset(literal for _, _, needs in _RULES for literal in needs[0])
_ANY = tuple(sorted(w for w in _FIRSTS if not any(o != w and o in w for o in _FIRSTS)))

#: The only non-ASCII characters a case-insensitive `re` pattern matches to an ASCII letter:
#: dotted capital I and dotless i (i), long s (s) and the Kelvin sign (k).
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}


#: The costliest rule (secret-named keys) also needs its key word right before `=` or `:`: every
#: key it names is one of these words plus letters, `_` or `-`, then `"?\s*[=:]`.
_SECRET_SHAPE = re.compile(r'(?:pass|pwd|secret|token|key|credential|sig)[a-z_-]*"?\s*[=:]')


def _probe(text: str) -> str:
    """`text` lower-cased so that every case-insensitive match of a rule shows its literals."""
    return text.lower() if text.isascii() else text.translate(_FOLD).lower()


def _wanted(needs: tuple[tuple[str, ...], ...], probe: str) -> bool:
    return all(any(literal in probe for literal in group) for group in needs)


# ESC-initiated sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC
# (ESC P/X/^/_ ... ESC \), and any other two-character escape. C1 forms (U+009B CSI, U+009D OSC).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-~]?"
)
# Breaks that would start a new line inside one value: a forged `ROOT CAUSE:` line.
_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
# Remaining controls, plus bidi overrides/isolates and invisible characters that disguise text.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u2069\ufeff\ufff9-\ufffb]"
)

_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def redact(text: str) -> str:
    """Return `text` with credentials replaced by REDACTED markers.

    Every rule runs, in order, on every text that could hold what it looks for: a few substring
    tests of the lower-cased text decide which (one case-insensitive regex alternation over all
    the rules' words cost more than the rest of reading a message).
    """
    probe = _probe(text)
    if not any(literal in probe for literal in _ANY):
        return text
    for index, (pattern, replacement, needs) in enumerate(_RULES):
        if not _wanted(needs, probe):
            continue
        if index == _SECRET_RULE and _SECRET_SHAPE.search(probe) is None:
            continue
        text, count = pattern.subn(replacement, text)
        if count:
            probe = _probe(text)
    return text


def redact_every_rule(text: str) -> str:
    """`redact` without the literal pre-checks: every rule on every text (the reference that the
    property tests compare `redact` with)."""
    for pattern, replacement, _ in _RULES:
        text = pattern.sub(replacement, text)
    return text


def printable(text: str) -> str:
    """Neutralize terminal escapes and control characters; keep line breaks (multi-line output)."""
    text = _ESCAPES.sub(_REPLACEMENT, text)
    return _CONTROL.sub(_REPLACEMENT, text)


def scrub(text: str) -> str:
    """One value, safe to show anywhere: credentials redacted, one line, nothing that drives a tty."""
    text = _ESCAPES.sub(_REPLACEMENT, redact(text))
    return _CONTROL.sub(_REPLACEMENT, _BREAKS.sub(" ", text))


T = TypeVar("T")


def scrub_value(value: T) -> T:
    """`scrub` every string inside a value: frozen dataclasses, tuples, lists, mappings."""
    if isinstance(value, Enum):  # our own vocabulary (Status, SignalSource), not data
        return value
    if isinstance(value, str):
        return scrub(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: scrub_value(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if _holds_text(getattr(value, f.name))
        }
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        return tuple(scrub_value(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [scrub_value(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}  # type: ignore[return-value]
    return value


def _holds_text(value: object) -> bool:
    return (isinstance(value, str | tuple | list | Mapping) and not isinstance(value, Enum)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    )
