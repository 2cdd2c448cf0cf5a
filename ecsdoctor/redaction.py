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

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Presigned URL query parameters: signature, token and credential scope.
    (
        re.compile(
            r"(?i)(X-Amz-(?:Signature|Security-Token|Credential)|Signature|AWSAccessKeyId"
            r"|x-amz-security-token)=[^&\s\"'<>]+"
        ),
        r"\1=REDACTED",
    ),
    # Access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "REDACTED_ACCESS_KEY_ID"),
    # HTTP authorization schemes: `Authorization: Bearer xyz`, `Basic dXNlcjpw...`, `token xyz`.
    (
        re.compile(r"(?i)\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
        r"\1\2REDACTED",
    ),
    (
        re.compile(r"(?i)\b(Basic)(\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}"),
        r"\1\2REDACTED",
    ),
    # key=value / key: value pairs whose key says secret (`token=`, `password: `, `"secret":`).
    (
        re.compile(
            r"(?i)(?<!:)\b((?:[a-z0-9]+[_-])*(?:" + _SECRET_KEYS + r"))(\"?\s*[=:]\s*)"
            r"(?!arn:|REDACTED)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'<>)\]}]+)"
        ),
        r"\1\2REDACTED",
    ),
    # Authorization headers with any other scheme.
    (re.compile(r"(?i)\b(authorization\s*[=:]\s*)(?!REDACTED|Bearer\b|Basic\b)\S+"), r"\1REDACTED"),
    # Credentials inside URLs: https://user:pass@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1REDACTED@"),
    # curl / wget style credentials: `-u admin:PASSWORD`, `--user=admin:pw`, `--password pw`.
    (re.compile(r"(?i)(\s(?:-u|--user|--proxy-user)[\s=]+)[^\s:]+:\S+"), r"\1REDACTED"),
    (re.compile(r"(?i)(\s--(?:password|http-password|passwd)[\s=]+)\S+"), r"\1REDACTED"),
    # Tokens recognisable by their shape wherever they appear: private keys, GitHub, Slack,
    # Stripe and Google API keys, JSON web tokens.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        "REDACTED",
    ),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "REDACTED"),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"), "REDACTED"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), "REDACTED"),
    (re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b"), "REDACTED"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "REDACTED"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"), "REDACTED"),
)

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


# Every rule above needs one of these words: one search spares most messages the nine rules.
_HINT = re.compile(
    r"(?i)akia|asia|bearer|basic|@|sig|credential|accesskeyid|token|pass|pwd|secret|key"
    r"|authorization|-u\b|--user|--proxy-user|gh[pousr]_|github_pat|xox|[sr]k_|aiza|eyj"
)


def redact(text: str) -> str:
    """Return `text` with credentials replaced by REDACTED markers."""
    if not _HINT.search(text):
        return text
    for pattern, replacement in _RULES:
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
