"""Terminal output: the root cause in one line first, then evidence, fix, ruled out, gaps."""

from __future__ import annotations

import textwrap

from ecsdoctor.models import Diagnosis, Finding, Status
from ecsdoctor.redaction import printable


def _wrap(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in printable(text).strip().splitlines() or [""]:
        lines.extend(
            textwrap.wrap(paragraph, width=100, initial_indent=indent, subsequent_indent=indent)
            or [indent]
        )
    return lines


def _finding(lines: list[str], finding: Finding, label: str, fix: bool = True) -> None:
    lines.append(f"{label} {printable(finding.summary)}")
    lines.append(f"  resource: {printable(finding.resource)} ({finding.kind})")
    if finding.affected:
        lines.extend(
            _wrap(
                f"affects {len(finding.affected)} service(s): {', '.join(finding.affected)}", "  "
            )
        )
    for evidence in finding.evidence:
        lines.extend(_wrap(f"- {evidence.detail} [{evidence.source}]", "    "))
    if fix and finding.remediation:
        lines.append("  fix:")
        lines.extend(_wrap(finding.remediation, "    "))


def subject_line(diagnosis: Diagnosis) -> str:
    """One line naming what was diagnosed."""
    subject = diagnosis.subject
    name = subject.arn or subject.service or subject.cluster or "saved events"
    where = ", ".join(p for p in (subject.region, subject.account) if p)
    return f"{subject.type} {name}" + (f" ({where})" if where else "")


def render_text(diagnosis: Diagnosis) -> str:
    """The diagnosis for a person at a terminal."""
    lines: list[str] = []
    if diagnosis.root_causes:
        first = diagnosis.root_causes[0]
        lines.append(f"ROOT CAUSE: {printable(first.summary)}")
    elif diagnosis.offline:
        lines.append("No root cause confirmed: offline, so no AWS check ran (hypotheses below).")
    else:
        lines.append("No root cause confirmed.")
    lines.append(f"Subject: {printable(subject_line(diagnosis))}")
    lines.append("")
    if diagnosis.services:
        healthy = [s.name for s in diagnosis.services if s.healthy]
        lines.append(
            f"Services: {len(diagnosis.services) - len(healthy)} unhealthy, {len(healthy)} healthy"
        )
        for svc in diagnosis.services:
            if svc.healthy:
                continue
            state = "UNHEALTHY"
            lines.append(
                f"  {state:<9} {printable(svc.name):<32} {svc.running}/{svc.desired} running"
            )
            for problem in svc.problems:
                lines.extend(_wrap(f"- {problem}", "      "))
        if healthy:
            shown = ", ".join(healthy[:12]) + (", ..." if len(healthy) > 12 else "")
            lines.extend(_wrap(f"ok: {shown}", "  "))
        lines.append("")
    if diagnosis.failure_groups:
        lines.append("Failed tasks, grouped by failure:")
        for group in diagnosis.failure_groups:
            where = f"{group.service}: " if group.service and diagnosis.services else ""
            seen = f", last {group.last_seen}" if group.last_seen else ""
            lines.extend(_wrap(f"- {where}{group.count} x {group.example}{seen}", "  "))
        lines.append("")
    for number, finding in enumerate(diagnosis.root_causes, start=1):
        label = "Root cause" if len(diagnosis.root_causes) == 1 else f"Root cause {number}:"
        _finding(lines, finding, label + ("" if label.endswith(":") else ":"))
        lines.append("")
    if diagnosis.consequences:
        lines.append("Consequences (explained by the root cause):")
        for finding in diagnosis.consequences:
            lines.extend(_wrap(f"- {finding.summary}", "  "))
        lines.append("")
    if diagnosis.ruled_out:
        lines.append("Ruled out:")
        for finding in diagnosis.ruled_out:
            lines.extend(_wrap(f"- {finding.summary}", "  "))
        lines.append("")
    if diagnosis.data_gaps:
        lines.append("Could not check:")
        for gap in diagnosis.data_gaps:
            need = f" (needs {gap.permission})" if gap.permission else ""
            lines.extend(_wrap(f"- {gap.check}: {gap.reason}{need}", "  "))
        lines.append("")
    open_hypotheses = [h for h in diagnosis.hypotheses if h.status is not Status.RULED_OUT]
    if not diagnosis.root_causes and open_hypotheses:
        lines.append("Hypotheses to check, most likely first:")
        for number, hypothesis in enumerate(open_hypotheses, start=1):
            state = f" [{hypothesis.status.value}]" if hypothesis.status else ""
            lines.extend(_wrap(f"{number}. {hypothesis.claim}{state}", "  "))
            lines.append(f"     check: {', '.join(hypothesis.kinds)}")
            lines.extend(_wrap(f"fix: {hypothesis.remediation}", "     "))
        lines.append("")
    lines.append("Signals:")
    matched = {m.signal: m for m in diagnosis.matches}
    for index, signal in enumerate(diagnosis.signals):
        where = f" ({signal.container})" if signal.container else ""
        match = matched.get(index)
        tag = f" -> {match.entry}" if match else " -> (not recognised)"
        lines.extend(_wrap(f"- [{signal.source.value}{where}] {signal.text}{tag}", "  "))
    for note in diagnosis.notes:
        lines.extend(_wrap(f"note: {note}", ""))
    if not diagnosis.offline:
        lines.append(f"({diagnosis.api_calls} read-only AWS requests)")
    return "\n".join(lines).rstrip() + "\n"
