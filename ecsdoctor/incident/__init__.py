"""Post-incident reports: the evidence part of a post-mortem, from live ECS and archived events.

`build_report` gathers (live through a Reader, archived events from files or a CloudWatch Logs
group), diagnoses with the library, and returns an IncidentReport value; `render_report` turns it
into Markdown, self-contained HTML or JSON (`ecsdoctor.report/v1`). The package is named
`incident` because `ecsdoctor.report` holds the diagnosis renderers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecsdoctor.incident.build import build_report
    from ecsdoctor.incident.document import report_document
    from ecsdoctor.incident.model import SCHEMA, IncidentReport
    from ecsdoctor.incident.render import RENDERERS, ReportFormat, render_report

# Loaded on first use: `ecsdoctor.permissions` imports `ecsdoctor.incident.reads` and must not
# pull in the report machinery with it.
_LAZY = {
    "build_report": "ecsdoctor.incident.build",
    "report_document": "ecsdoctor.incident.document",
    "SCHEMA": "ecsdoctor.incident.model",
    "IncidentReport": "ecsdoctor.incident.model",
    "RENDERERS": "ecsdoctor.incident.render",
    "ReportFormat": "ecsdoctor.incident.render",
    "render_report": "ecsdoctor.incident.render",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ecsdoctor.incident' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "RENDERERS",
    "SCHEMA",
    "IncidentReport",
    "ReportFormat",
    "build_report",
    "render_report",
    "report_document",
]
