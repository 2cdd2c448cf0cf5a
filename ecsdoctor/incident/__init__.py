"""Post-incident reports: the evidence part of a post-mortem, from live ECS and archived events.

`build_report` gathers (live through a Reader, archived events from files or a CloudWatch Logs
group), diagnoses with the library, and returns an IncidentReport value; `render_report` turns it
into Markdown, self-contained HTML or JSON (`ecsdoctor.report/v1`). The package is named
`incident` because `ecsdoctor.report` holds the diagnosis renderers.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ecsdoctor.incident.build import build_report
from ecsdoctor.incident.document import render_json, report_document
from ecsdoctor.incident.html import render_html
from ecsdoctor.incident.markdown import render_markdown
from ecsdoctor.incident.model import SCHEMA, IncidentReport


class ReportFormat(StrEnum):
    """Output formats of `ecsdoctor report`."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"


RENDERERS: dict[ReportFormat, Callable[[IncidentReport], str]] = {
    ReportFormat.MARKDOWN: render_markdown,
    ReportFormat.HTML: render_html,
    ReportFormat.JSON: render_json,
}


def render_report(fmt: ReportFormat | str, report: IncidentReport) -> str:
    """Render `report` as Markdown, HTML or JSON."""
    return RENDERERS[ReportFormat(fmt)](report)


__all__ = [
    "RENDERERS",
    "SCHEMA",
    "IncidentReport",
    "ReportFormat",
    "build_report",
    "render_report",
    "report_document",
]
