"""Renderers: pure functions of a Diagnosis (no I/O here; posting to Slack lives in chatops)."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum

from ecsdoctor.models import Diagnosis
from ecsdoctor.report.document import diagnosis_document
from ecsdoctor.report.markdown import render_markdown
from ecsdoctor.report.slack import slack_payload
from ecsdoctor.report.text import render_text


class Format(StrEnum):
    """Output formats of `ecsdoctor diagnose`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    SLACK = "slack"


def _json(diagnosis: Diagnosis) -> str:
    return json.dumps(diagnosis_document(diagnosis), indent=2, ensure_ascii=False)


def _slack(diagnosis: Diagnosis) -> str:
    return json.dumps(slack_payload(diagnosis), indent=2, ensure_ascii=False)


RENDERERS: dict[Format, Callable[[Diagnosis], str]] = {
    Format.TEXT: render_text,
    Format.JSON: _json,
    Format.MARKDOWN: render_markdown,
    Format.SLACK: _slack,
}


def render(fmt: Format, diagnosis: Diagnosis) -> str:
    """Render `diagnosis` in `fmt`."""
    return RENDERERS[fmt](diagnosis)


__all__ = ["RENDERERS", "Format", "diagnosis_document", "render", "slack_payload"]
