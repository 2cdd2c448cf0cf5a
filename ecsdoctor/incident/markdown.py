"""The report as Markdown a reviewer pastes into a ticket: GitHub-flavoured, Mermaid diagrams.

Every value from AWS is escaped for Markdown (a task reason cannot open a link, a table cell or
an HTML tag) and for Mermaid inside the diagram blocks.
"""

from __future__ import annotations

import re

from ecsdoctor.incident.model import IncidentReport, PathNode, RootCause, TimelineEntry
from ecsdoctor.models import Finding

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#!&])")
_KIND_LABEL = {
    "change": "Change",
    "deployment": "Deployment",
    "failure": "Failure",
    "event": "Event",
    "rollback": "Rollback",
    "recovery": "Recovery",
}


def md(text: str | None) -> str:
    """One line of Markdown text with every character that could format, link or tag escaped."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", flat)


def code(text: str | None) -> str:
    """An inline code span (for ids and ARNs); backticks and pipes cannot break out of it."""
    flat = " ".join(str(text or "").split()).replace("`", "'").replace("|", "\\|")
    return f"`{flat}`" if flat else ""


def mermaid_label(text: str) -> str:
    """A Mermaid node label: quotes, angle brackets and backticks as entities."""
    flat = " ".join(text.split())
    for char, entity in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        flat = flat.replace(char, entity)
    return flat


def mermaid(path: tuple[PathNode, ...], joining: tuple[PathNode, ...] = ()) -> list[str]:
    """A top-down flowchart of the dependency path, the failing node marked; `joining` nodes
    (other services with the same cause) point at the path's second node."""
    lines = ["```mermaid", "flowchart TD"]
    for index, node in enumerate(path):
        mark = "✗ " if node.failing else ""
        lines.append(f'    n{index}["{mark}{mermaid_label(node.label)}"]')
    lines += [f'    j{index}["{mermaid_label(node.label)}"]' for index, node in enumerate(joining)]
    lines += [f"    n{index} --> n{index + 1}" for index in range(len(path) - 1)]
    lines += [f"    j{index} --> n1" for index in range(len(joining)) if len(path) > 1]
    lines.append("    classDef failing fill:#fde2e1,stroke:#c0392b,stroke-width:2px,color:#7b241c;")
    failing = [f"n{i}" for i, node in enumerate(path) if node.failing]
    if failing:
        lines.append(f"    class {','.join(failing)} failing;")
    lines.append("```")
    return lines


def duration_text(seconds: float | None) -> str:
    """'2 h 05 min', '12 min', '40 s'."""
    if seconds is None:
        return "unknown"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def when(at: str | None) -> str:
    """An ISO time as '2026-11-29 19:05:00 UTC'."""
    if not at:
        return "unknown"
    return at.replace("T", " ").replace("Z", " UTC")


def _timeline_row(entry: TimelineEntry) -> str:
    count = str(entry.count) if entry.count > 1 else ""
    text = md(entry.text)
    if entry.last_at:
        text += f" (last at {when(entry.last_at)})"
    return (
        f"| {when(entry.at)} | {_KIND_LABEL.get(entry.kind, md(entry.kind))} | {text} | {count} |"
    )


def _evidence_table(finding: Finding) -> list[str]:
    rows = [e for e in finding.evidence if e.source != "dependency graph"]
    if not rows:
        return []
    lines = ["| Resource | Source | Observed |", "| --- | --- | --- |"]
    lines += [f"| {code(e.resource)} | {md(e.source)} | {md(e.detail)} |" for e in rows]
    return [*lines, ""]


def _root_cause(lines: list[str], number: int, cause: RootCause) -> None:
    finding = cause.finding
    lines += [f"### {number}. {md(finding.summary)}", ""]
    lines.append(f"- Resource: {code(finding.resource)} ({md(finding.kind)})")
    if finding.check:
        lines.append(f"- Confirmed by: {code(finding.check)}")
    if finding.entry:
        lines.append(f"- Failure family: {code(finding.entry)}")
    if finding.affected:
        lines.append(
            f"- Affects {len(finding.affected)} service(s): {md(', '.join(finding.affected))}"
        )
    lines += ["", "Evidence:", ""]
    lines += _evidence_table(finding)
    if cause.path:
        lines += ["Dependency path (the failing resource marked ✗):", ""]
        lines += mermaid(cause.path, cause.joining)
        lines.append("")
    if finding.remediation:
        lines += [f"Fix: {md(finding.remediation)}", ""]


def render_markdown(report: IncidentReport) -> str:
    """The whole post-mortem evidence section as Markdown."""
    s = report.summary
    lines = [f"# {md(s.title)}", ""]
    window = f"{when(report.window.start)} to {when(report.window.end)}"
    if report.window.start is None:
        window = f"everything up to {when(report.window.end)}"
    lines += [
        f"_Generated {when(report.generated_at)} by ecsdoctor. Window: {window}. "
        f"Region {md(report.region or 'unknown')}, account {md(report.account or 'unknown')}._",
        "",
        "## Summary",
        "",
        f"- **What failed:** {md(s.what_failed)}",
        f"- **Services:** {md(', '.join(s.services)) or 'none identified'}",
        f"- **Failed tasks:** {s.failed_tasks}",
    ]
    if s.first_failure:
        end = (
            f"recovered at {when(s.recovered_at)}"
            if s.recovered_at
            else f"still failing at {when(s.ended)} (end of the window)"
        )
        lines.append(
            f"- **Duration:** {duration_text(s.duration_seconds)}, from the first failure at "
            f"{when(s.first_failure)}, {end}"
        )
    else:
        lines.append("- **Duration:** no failure time known")
    lines += [f"- **Root cause:** {md(s.root_cause)}", ""]

    lines += ["## Timeline", ""]
    if report.timeline:
        lines += ["| Time | What | Detail | Count |", "| --- | --- | --- | --- |"]
        lines += [_timeline_row(e) for e in report.timeline]
    else:
        lines.append("No event in the window.")
    lines.append("")

    lines += ["## Root cause", ""]
    if report.root_causes:
        for number, cause in enumerate(report.root_causes, start=1):
            _root_cause(lines, number, cause)
    else:
        lines += [md(s.root_cause), ""]
        hypotheses = report.diagnosis.hypotheses
        if hypotheses:
            lines += ["Hypotheses from the failure messages, most likely first:", ""]
            lines += [f"{i}. {md(h.claim)}" for i, h in enumerate(hypotheses[:5], start=1)]
            lines.append("")

    lines += ["## Consequences", ""]
    if report.consequences:
        lines += [f"- {md(f.summary)} ({code(f.resource)})" for f in report.consequences]
    else:
        lines.append("No failing resource beyond the root cause was found.")
    lines.append("")

    lines += ["## Ruled out", ""]
    if report.ruled_out:
        lines += ["| Checked | Resource | Why it is not the cause |", "| --- | --- | --- |"]
        lines += [
            f"| {code(f.check or f.kind)} | {code(f.resource)} | {md(f.summary)} |"
            for f in report.ruled_out
        ]
    else:
        lines.append("Nothing was ruled out" + (" (no AWS check ran)." if report.offline else "."))
    lines.append("")

    lines += ["## Data gaps", ""]
    if report.data_gaps:
        lines += ["| Check | Why it could not run | Permission that would close it |"]
        lines += ["| --- | --- | --- |"]
        lines += [
            f"| {code(g.check)} | {md(g.reason)} | {code(g.permission) or 'none'} |"
            for g in report.data_gaps
        ]
    else:
        lines.append("None: every check could read what it needed.")
    lines.append("")

    lines += ["## Remediation", ""]
    if report.remediation:
        lines += [f"{i}. {md(r)}" for i, r in enumerate(report.remediation, start=1)]
    else:
        lines.append("No remediation: no root cause was confirmed.")
    lines += ["", "## Prevention", ""]
    lines += [f"- {md(p)}" for p in report.prevention]
    lines.append("")

    lines += ["## Appendix: raw signals (redacted)", ""]
    lines += [
        "Sources: " + "; ".join(md(x) for x in report.sources) + "." if report.sources else ""
    ]
    lines.append("")
    if report.appendix:
        lines += ["| First seen | Source | Count | Message |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {when(r.at) if r.at else ''} | {md(r.source)} | {r.count} | {md(r.text)} |"
            for r in report.appendix
        ]
        if report.appendix_omitted:
            lines.append("")
            lines.append(f"{report.appendix_omitted} more distinct signal(s) left out.")
    else:
        lines.append("No raw signal.")
    if report.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {md(n)}" for n in report.notes]
    lines += ["", f"_{report.api_calls} AWS request(s); schema ecsdoctor.report/v1._", ""]
    return "\n".join(lines)


__all__ = ["code", "duration_text", "md", "mermaid", "mermaid_label", "render_markdown", "when"]
