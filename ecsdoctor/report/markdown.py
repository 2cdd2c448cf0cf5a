"""The post-incident report: fixed sections, evidence tables, nothing the account keeps secret."""

from __future__ import annotations

from ecsdoctor.models import Diagnosis, Finding, Status
from ecsdoctor.report.text import subject_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _finding(lines: list[str], finding: Finding, heading: str) -> None:
    lines.append(f"### {heading}")
    lines.append("")
    lines.append(f"{finding.summary}")
    lines.append("")
    lines.append(f"- Resource: `{finding.resource}` ({finding.kind})")
    if finding.affected:
        lines.append(f"- Affects {len(finding.affected)} service(s): {', '.join(finding.affected)}")
    if finding.entry:
        lines.append(f"- Knowledge entry: `{finding.entry}` / `{finding.hypothesis}`")
    lines.append("")
    if finding.evidence:
        lines.append("| Resource | Source | Observed |")
        lines.append("| --- | --- | --- |")
        lines.extend(
            f"| `{_cell(e.resource)}` | {_cell(e.source)} | {_cell(e.detail)} |"
            for e in finding.evidence
        )
        lines.append("")


def render_markdown(diagnosis: Diagnosis) -> str:
    """A Markdown post-incident report."""
    lines = ["# ECS incident report", ""]
    lines.append("## Summary")
    lines.append("")
    lines.append(f"- Subject: {subject_line(diagnosis)}")
    if diagnosis.root_causes:
        lines.append(f"- Root cause: {diagnosis.root_causes[0].summary}")
    else:
        why = " (offline: no AWS check ran)" if diagnosis.offline else ""
        lines.append(f"- Root cause: not confirmed{why}")
    lines.append("")
    if diagnosis.services:
        lines.append("## Services")
        lines.append("")
        lines.append("| Service | Running | Health | Symptoms | Root causes |")
        lines.append("| --- | --- | --- | --- | --- |")
        lines.extend(
            f"| {_cell(s.name)} | {s.running}/{s.desired} | {'ok' if s.healthy else 'unhealthy'} "
            f"| {_cell('; '.join(s.problems))} | {_cell(', '.join(s.causes))} |"
            for s in diagnosis.services
        )
        lines.append("")
    if diagnosis.failure_groups:
        lines.append("## Failed tasks")
        lines.append("")
        lines.append("| Service | Count | First seen | Last seen | Failure |")
        lines.append("| --- | --- | --- | --- | --- |")
        lines.extend(
            f"| {_cell(g.service or '')} | {g.count} | {g.first_seen or ''} | {g.last_seen or ''} "
            f"| {_cell(g.example)} |"
            for g in diagnosis.failure_groups
        )
        lines.append("")
    lines.append("## Timeline")
    lines.append("")
    lines.append("| When | Source | Message |")
    lines.append("| --- | --- | --- |")
    for signal in diagnosis.signals:
        where = f" ({signal.container})" if signal.container else ""
        lines.append(f"| {signal.at or ''} | {signal.source.value}{where} | {_cell(signal.text)} |")
    lines.append("")
    lines.append("## Root cause")
    lines.append("")
    if not diagnosis.root_causes:
        lines.append("No root cause was confirmed.")
        lines.append("")
    for number, finding in enumerate(diagnosis.root_causes, start=1):
        _finding(lines, finding, f"{number}. {finding.kind}: {finding.resource}")
    lines.append("## Remediation")
    lines.append("")
    fixes = [f for f in diagnosis.root_causes if f.remediation]
    open_hypotheses = [h for h in diagnosis.hypotheses if h.status is not Status.RULED_OUT]
    if fixes:
        lines.extend(f"- **{f.resource}**: {f.remediation}" for f in fixes)
    elif open_hypotheses:
        lines.append("Unconfirmed hypotheses, most likely first:")
        lines.append("")
        lines.extend(f"- {h.claim} Fix: {h.remediation}" for h in open_hypotheses)
    else:
        lines.append("None.")
    lines.append("")
    if diagnosis.consequences:
        lines.append("## Consequences")
        lines.append("")
        lines.extend(f"- {f.summary}" for f in diagnosis.consequences)
        lines.append("")
    lines.append("## Ruled out")
    lines.append("")
    lines.extend(f"- {f.summary}" for f in diagnosis.ruled_out)
    if not diagnosis.ruled_out:
        lines.append("Nothing was ruled out.")
    lines.append("")
    lines.append("## Data gaps")
    lines.append("")
    for gap in diagnosis.data_gaps:
        need = f" (needs `{gap.permission}`)" if gap.permission else ""
        lines.append(f"- `{gap.check}`: {gap.reason}{need}")
    if not diagnosis.data_gaps:
        lines.append("None: every check could run." if not diagnosis.offline else "Offline run.")
    lines.append("")
    return "\n".join(lines)
