"""Renderers: pure functions of a Diagnosis (no I/O here; posting to Slack lives in chatops).

`render` is the one way out: it scrubs every string of the diagnosis (credentials redacted,
terminal escapes and line breaks neutralized: `ecsdoctor.redaction.scrub_value`) before any
format sees it; each format then escapes for its own markup.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from ecsdoctor.models import Diagnosis
from ecsdoctor.redaction import scrub_value
from ecsdoctor.report.document import diagnosis_document as _diagnosis_document
from ecsdoctor.report.markdown import render_markdown
from ecsdoctor.report.slack import slack_payload as _slack_payload
from ecsdoctor.report.text import render_text


class Format(StrEnum):
    """Output formats of `ecsdoctor diagnose`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    SLACK = "slack"


def _json(diagnosis: Diagnosis, width: int | None) -> str:
    return json.dumps(_diagnosis_document(diagnosis), indent=2, ensure_ascii=False)


def _slack(diagnosis: Diagnosis, width: int | None) -> str:
    return json.dumps(_slack_payload(diagnosis), indent=2, ensure_ascii=False)


def _markdown(diagnosis: Diagnosis, width: int | None) -> str:
    return render_markdown(diagnosis)


RENDERERS: dict[Format, Callable[[Diagnosis, int | None], str]] = {
    Format.TEXT: render_text,
    Format.JSON: _json,
    Format.MARKDOWN: _markdown,
    Format.SLACK: _slack,
}


def render(fmt: Format, diagnosis: Diagnosis, *, width: int | None = None) -> str:
    """Render `diagnosis` in `fmt`; text wraps at `width` columns (None: no wrapping)."""
    return RENDERERS[Format(fmt)](scrub_value(diagnosis), width)


def diagnosis_document(diagnosis: Diagnosis) -> dict[str, Any]:
    """The `ecsdoctor.diagnosis/v1` document of `diagnosis`, scrubbed like every other output."""
    return _diagnosis_document(scrub_value(diagnosis))


def slack_payload(diagnosis: Diagnosis) -> dict[str, Any]:
    """The Block Kit payload of `diagnosis`, scrubbed like every other output."""
    return _slack_payload(scrub_value(diagnosis))


__all__ = ["RENDERERS", "Format", "diagnosis_document", "render", "slack_payload"]
