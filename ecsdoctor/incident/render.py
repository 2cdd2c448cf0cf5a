"""Pick a renderer: Markdown to paste into a ticket, HTML to attach or print, JSON for tools."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ecsdoctor.incident.document import render_json
from ecsdoctor.incident.html import render_html
from ecsdoctor.incident.markdown import render_markdown
from ecsdoctor.incident.model import IncidentReport


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


__all__ = ["RENDERERS", "ReportFormat", "render_report"]
