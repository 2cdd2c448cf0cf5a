"""The `ecsdoctor.diagnosis/v1` JSON document (DESIGN.md): add fields, never rename or remove.

`commands` (added) lists the shell commands of a remediation, one string each, ready to run.
`matches[].wrapper` (added) names the tool whose error text carried the message (terraform,
cloudformation, cdk, copilot, pulumi, aws-cli, boto3, ...), or null: as `explain --json` does.
"""

from __future__ import annotations

from typing import Any

from ecsdoctor.models import CheckResult, Diagnosis, Evidence, Finding, Match, Signal
from ecsdoctor.report.commands import split_remediation

SCHEMA = "ecsdoctor.diagnosis/v1"


def diagnosis_document(diagnosis: Diagnosis) -> dict[str, Any]:
    """The diagnosis as a JSON-ready dict."""
    subject = diagnosis.subject
    return {
        "schema": SCHEMA,
        "subject": {
            "type": subject.type,
            "arn": subject.arn,
            "cluster": subject.cluster,
            "service": subject.service,
            "region": subject.region,
            "account": subject.account,
        },
        "signals": [_signal(s) for s in diagnosis.signals],
        "matches": [_match(m) for m in diagnosis.matches],
        "root_causes": [_finding(f) for f in diagnosis.root_causes],
        "consequences": [_finding(f) for f in diagnosis.consequences],
        "other_problems": [_finding(f) for f in diagnosis.other_problems],
        "ruled_out": [_finding(f, remediation=False) for f in diagnosis.ruled_out],
        "checks": [_check(c) for c in diagnosis.checks],
        "data_gaps": [
            {"check": g.check, "reason": g.reason, "permission": g.permission}
            for g in diagnosis.data_gaps
        ],
        "hypotheses": [
            {
                "entry": h.entry,
                "id": h.id,
                "claim": h.claim,
                "kinds": list(h.kinds),
                "status": h.status.value if h.status else None,
                "remediation": h.remediation,
                "commands": list(split_remediation(h.remediation).commands),
            }
            for h in diagnosis.hypotheses
        ],
        "failure_groups": [
            {
                "reason": g.reason,
                "example": g.example,
                "count": g.count,
                "first_seen": g.first_seen,
                "last_seen": g.last_seen,
                "tasks": list(g.tasks),
                "service": g.service,
                "task_definitions": list(g.task_definitions),
                "diagnosed_task": g.diagnosed_task,
                "root_causes": list(g.causes),
            }
            for g in diagnosis.failure_groups
        ],
        "services": [
            {
                "name": s.name,
                "arn": s.arn,
                "healthy": s.healthy,
                "desired": s.desired,
                "running": s.running,
                "rollout_state": s.rollout_state,
                "failed_tasks": s.failed_tasks,
                "problems": list(s.problems),
                "root_causes": list(s.causes),
            }
            for s in diagnosis.services
        ],
        "offline": diagnosis.offline,
        "notes": list(diagnosis.notes),
        "api_calls": diagnosis.api_calls,
        "rounds": diagnosis.rounds,
    }


def _signal(signal: Signal) -> dict[str, Any]:
    return {
        "source": signal.source.value,
        "text": signal.text,
        "container": signal.container,
        "at": signal.at,
        "subject": signal.subject,
    }


def _match(match: Match) -> dict[str, Any]:
    return {
        "entry": match.entry,
        "signal": match.signal,
        "captures": dict(match.captures),
        "severity": match.severity.value,
        "wrapper": match.wrapper,
    }


def _evidence(evidence: Evidence) -> dict[str, Any]:
    return {"resource": evidence.resource, "source": evidence.source, "detail": evidence.detail}


def _finding(finding: Finding, remediation: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": finding.kind,
        "resource": finding.resource,
        "summary": finding.summary,
        "entry": finding.entry,
        "hypothesis": finding.hypothesis,
        "check": finding.check,
        "affected": list(finding.affected),
        "evidence": [_evidence(e) for e in finding.evidence],
    }
    if remediation:
        doc["remediation"] = finding.remediation
        doc["commands"] = list(split_remediation(finding.remediation or "").commands)
    return doc


def _check(check: CheckResult) -> dict[str, Any]:
    return {
        "id": check.check,
        "kind": check.kind,
        "resource": check.resource,
        "status": check.status.value,
        "detail": check.detail,
    }
