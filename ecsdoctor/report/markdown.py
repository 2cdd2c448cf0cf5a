"""The post-incident report: fixed sections, evidence tables, commands in fenced code blocks.

Every value that came from AWS or the user goes through `md` (or `code` for identifiers): HTML
becomes entities, Markdown punctuation is backslash-escaped (no links, images or emphasis from
data) and URLs are shown as code, never as links.
"""

from __future__ import annotations

import re

from ecsdoctor.models import Diagnosis, Finding, Status
from ecsdoctor.report.commands import split_remediation
from ecsdoctor.report.text import recognised, subject_line

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]#+!|~$])")
_LINE_START = re.compile(r"^(\s*)([-+>#=]|\d+[.)])")
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>`|]*[^\s<>`|\"'.,;:)\]]")


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCTUATION.sub(r"\\\1", text)


def md(text: str) -> str:
    """A value as inert inline Markdown: literal text, URLs as code, nothing interpreted."""
    parts: list[str] = []
    cursor = 0
    for match in _URL.finditer(text):
        parts.append(_escape_plain(text[cursor : match.start()]))
        parts.append(code(match.group()))
        cursor = match.end()
    parts.append(_escape_plain(text[cursor:]))
    return _LINE_START.sub(r"\1\\\2", "".join(parts))


def code(text: str) -> str:
    """A value as an inline code span whose fence its own backticks cannot close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    body = text.replace("|", "\\|")
    return f"{fence}{pad}{body}{pad}{fence}"


def fenced(commands: tuple[str, ...]) -> list[str]:
    """Commands, one per line, in a fenced `sh` block whose fence no command can close."""
    longest = max((len(run) for c in commands for run in re.findall(r"`+", c)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", *commands, fence]


def _cell(text: str) -> str:
    return md(text).strip()


def _remedy(lines: list[str], remediation: str, lead: str = "") -> None:
    remedy = split_remediation(remediation)
    prose = md(remedy.prose) if remedy.prose else ""
    if lead or prose:
        lines.append(f"{lead}{prose}".strip())
        lines.append("")
    if remedy.commands:
        lines.extend(fenced(remedy.commands))
        lines.append("")


def _finding(lines: list[str], finding: Finding, heading: str) -> None:
    lines.append(f"### {heading}")
    lines.append("")
    lines.append(md(finding.summary))
    lines.append("")
    lines.append(f"- Resource: {code(finding.resource)} ({md(finding.kind)})")
    if finding.affected:
        names = ", ".join(md(a) for a in finding.affected)
        lines.append(f"- Affects {len(finding.affected)} service(s): {names}")
    if finding.entry:
        lines.append(f"- Knowledge entry: {code(finding.entry)} / {code(finding.hypothesis or '')}")
    lines.append("")
    if finding.evidence:
        lines.append("| Resource | Source | Observed |")
        lines.append("| --- | --- | --- |")
        lines.extend(
            f"| {code(e.resource)} | {_cell(e.source)} | {_cell(e.detail)} |"
            for e in finding.evidence
        )
        lines.append("")


def render_markdown(diagnosis: Diagnosis) -> str:
    """A Markdown post-incident report."""
    lines = ["# ECS incident report", ""]
    lines.append("## Summary")
    lines.append("")
    failures = recognised(diagnosis)
    if diagnosis.root_causes:
        lines.append(f"- Root cause: {md(diagnosis.root_causes[0].summary)}")
    elif diagnosis.offline and failures:
        for entry, message in failures:
            lines.append(f"- Recognised failure: {code(entry)}: {md(message)}")
        lines.append("- Root cause: not confirmed (offline: no AWS check ran)")
    else:
        why = " (offline: no AWS check ran)" if diagnosis.offline else ""
        lines.append(f"- Root cause: not confirmed{why}")
    lines.append(f"- Subject: {md(subject_line(diagnosis))}")
    lines.append("")
    open_hypotheses = [h for h in diagnosis.hypotheses if h.status is not Status.RULED_OUT]
    if diagnosis.offline and open_hypotheses and not diagnosis.root_causes:
        lines.append("## Most likely causes")
        lines.append("")
        for number, h in enumerate(open_hypotheses, start=1):
            lines.append(f"{number}. {md(h.claim)} (check: {md(', '.join(h.kinds))})")
            lines.append("")
            _remedy(lines, h.remediation, "   Fix: ")
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
            f"| {_cell(g.service or '')} | {g.count} | {_cell(g.first_seen or '')} "
            f"| {_cell(g.last_seen or '')} | {_cell(g.example)} |"
            for g in diagnosis.failure_groups
        )
        lines.append("")
    lines.append("## Timeline")
    lines.append("")
    lines.append("| When | Source | Message |")
    lines.append("| --- | --- | --- |")
    for signal in diagnosis.signals:
        where = f" ({signal.container})" if signal.container else ""
        lines.append(
            f"| {_cell(signal.at or '')} | {_cell(signal.source.value + where)} "
            f"| {_cell(signal.text)} |"
        )
    lines.append("")
    lines.append("## Root cause")
    lines.append("")
    if not diagnosis.root_causes:
        lines.append("No root cause was confirmed.")
        lines.append("")
    for number, finding in enumerate(diagnosis.root_causes, start=1):
        _finding(lines, finding, f"{number}. {md(finding.kind)}: {md(finding.resource)}")
    lines.append("## Remediation")
    lines.append("")
    fixes = [f for f in diagnosis.root_causes if f.remediation]
    for f in fixes:
        _remedy(lines, f.remediation or "", f"**{md(f.resource)}**: ")
    if not fixes and open_hypotheses and not diagnosis.offline:
        lines.append("Unconfirmed hypotheses, most likely first:")
        lines.append("")
        for h in open_hypotheses:
            _remedy(lines, h.remediation, f"- {md(h.claim)} Fix: ")
    elif not fixes and not (diagnosis.offline and open_hypotheses):
        lines.append("None.")
        lines.append("")
    elif not fixes:
        lines.append("See the most likely causes above.")
        lines.append("")
    if diagnosis.consequences:
        lines.append("## Consequences")
        lines.append("")
        lines.extend(f"- {md(f.summary)}" for f in diagnosis.consequences)
        lines.append("")
    if diagnosis.other_problems:
        lines.append("## Other problems")
        lines.append("")
        lines.append("Confirmed, but not why this failed:")
        lines.append("")
        for f in diagnosis.other_problems:
            _remedy(lines, f.remediation or "", f"- {md(f.summary)} Fix: " if f.remediation else "")
            if not f.remediation:
                lines.append(f"- {md(f.summary)}")
        lines.append("")
    lines.append("## Ruled out")
    lines.append("")
    lines.extend(f"- {md(f.summary)}" for f in diagnosis.ruled_out)
    if not diagnosis.ruled_out:
        lines.append("Nothing was ruled out.")
    lines.append("")
    lines.append("## Data gaps")
    lines.append("")
    for gap in diagnosis.data_gaps:
        need = f" (needs {code(gap.permission)})" if gap.permission else ""
        lines.append(f"- {code(gap.check)}: {md(gap.reason)}{need}")
    if not diagnosis.data_gaps:
        lines.append("None: every check could run." if not diagnosis.offline else "Offline run.")
    lines.append("")
    for note in diagnosis.notes:
        lines.append(f"Note: {md(note)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
