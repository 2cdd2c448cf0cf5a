"""Scrub credentials out of free text before anything downstream can hold or print it.

ECS messages can carry presigned S3 URLs (with credentials in the query string), access key ids
and session tokens; ingest passes every string through `redact` so no renderer ever sees them.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Presigned URL query parameters: signature, token and credential scope.
    (
        re.compile(
            r"(?i)(X-Amz-(?:Signature|Security-Token|Credential)|Signature|AWSAccessKeyId"
            r"|x-amz-security-token)=[^&\s\"']+"
        ),
        r"\1=REDACTED",
    ),
    # Access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "REDACTED_ACCESS_KEY_ID"),
    # key=value / key: value pairs whose key says secret.
    (
        re.compile(
            r"(?i)\b(password|passwd|secret[_-]?access[_-]?key|aws_secret_access_key|"
            r"session[_-]?token|api[_-]?key|authorization)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
        ),
        r"\1\2REDACTED",
    ),
    # Basic-auth credentials inside URLs: https://user:pass@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1REDACTED@"),
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def redact(text: str) -> str:
    """Return `text` with credentials replaced by REDACTED markers."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def printable(text: str) -> str:
    """Drop terminal control characters so a hostile message cannot drive the reader's terminal."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
