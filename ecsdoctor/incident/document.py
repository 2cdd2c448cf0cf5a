"""The report as JSON, schema `ecsdoctor.report/v1` (docs/reports.md): stable for tooling.

Fields may be added, never removed or renamed. The full diagnosis it rests on is embedded under
`diagnosis` in its own schema (`ecsdoctor.diagnosis/v1`), redacted like the rest.
"""

from __future__ import annotations

import json
from typing import Any

from ecsdoctor.aws.recording import sanitize
from ecsdoctor.incident.model import SCHEMA, IncidentReport, RootCause
from ecsdoctor.models import DataGap, Finding
from ecsdoctor.report.document import diagnosis_document


def _finding(finding: Finding, remediation: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": finding.kind,
        "resource": finding.resource,
        "summary": finding.summary,
        "check": finding.check,
        "entry": finding.entry,
        "hypothesis": finding.hypothesis,
        "affected": list(finding.affected),
        "evidence": [
            {"resource": e.resource, "source": e.source, "detail": e.detail}
            for e in finding.evidence
        ],
    }
    if remediation:
        out["remediation"] = finding.remediation
    return out


def _root(cause: RootCause) -> dict[str, Any]:
    return {
        **_finding(cause.finding),
        "path": [{"id": n.id, "label": n.label, "failing": n.failing} for n in cause.path],
        "joining": [{"id": n.id, "label": n.label} for n in cause.joining],
    }


def _gap(gap: DataGap) -> dict[str, Any]:
    return {"check": gap.check, "reason": gap.reason, "permission": gap.permission}


def report_document(report: IncidentReport) -> dict[str, Any]:
    """The JSON-ready dictionary of `ecsdoctor.report/v1`."""
    s = report.summary
    document = {
        "schema": SCHEMA,
        "generated_at": report.generated_at,
        "subject": {
            "cluster": report.cluster,
            "service": report.service,
            "region": report.region,
            "account": report.account,
        },
        "window": {"start": report.window.start, "end": report.window.end},
        "sources": list(report.sources),
        "offline": report.offline,
        "summary": {
            "title": s.title,
            "what_failed": s.what_failed,
            "services": list(s.services),
            "failed_tasks": s.failed_tasks,
            "first_failure": s.first_failure,
            "recovered_at": s.recovered_at,
            "ended": s.ended,
            "duration_seconds": s.duration_seconds,
            "root_cause": s.root_cause,
        },
        "timeline": [
            {
                "at": e.at,
                "kind": e.kind,
                "text": e.text,
                "count": e.count,
                "last_at": e.last_at,
                "source": e.source,
            }
            for e in report.timeline
        ],
        "root_causes": [_root(c) for c in report.root_causes],
        "consequences": [_finding(f) for f in report.consequences],
        "ruled_out": [_finding(f, remediation=False) for f in report.ruled_out],
        "data_gaps": [_gap(g) for g in report.data_gaps],
        "remediation": list(report.remediation),
        "prevention": list(report.prevention),
        "appendix": {
            "signals": [
                {
                    "at": r.at,
                    "source": r.source,
                    "text": r.text,
                    "count": r.count,
                    "subject": r.subject,
                }
                for r in report.appendix
            ],
            "omitted": report.appendix_omitted,
        },
        "notes": list(report.notes),
        "api_calls": report.api_calls,
        "diagnosis": diagnosis_document(report.diagnosis),
    }
    cleaned: dict[str, Any] = sanitize(document)
    return cleaned


def render_json(report: IncidentReport) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n"


__all__ = ["render_json", "report_document"]
