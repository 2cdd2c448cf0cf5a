"""Terminal output: the answer first (root cause, or the recognised failure), then the proof.

Values arrive already scrubbed (`render` passes every diagnosis through `scrub_value`): one line
each, no escapes. Prose wraps at `width` (the terminal's; None when piped: no wrapping), only at
spaces, so a word, ARN or resource id is never split; commands sit on their own indented lines
and are never wrapped, so they paste whole.
"""

from __future__ import annotations

import textwrap

from ecsdoctor.models import Diagnosis, Finding, Hypothesis, Severity, Status
from ecsdoctor.report.commands import split_remediation

COMMAND_INDENT = "      "


def _wrap(text: str, indent: str, width: int | None, hang: str | None = None) -> list[str]:
    """`text` as lines at `indent`, wrapped at spaces only when a width is known."""
    text = " ".join(text.split())
    if width is None:
        return [indent + text]
    return textwrap.wrap(
        text,
        width=max(width, len(indent) + 20),
        initial_indent=indent,
        subsequent_indent=hang if hang is not None else indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _fix(lines: list[str], remediation: str, indent: str, width: int | None) -> None:
    """Prose wrapped, then each command alone on its own line, indented, never wrapped."""
    remedy = split_remediation(remediation)
    if remedy.prose:
        lines.extend(_wrap(remedy.prose, indent, width))
    lines.extend(f"{indent}{COMMAND_INDENT[len(indent) // 2 :]}{c}" for c in remedy.commands)


def _details(lines: list[str], finding: Finding, width: int | None) -> None:
    """Resource, affected services, evidence and fix of one finding (its summary is the caller's)."""
    lines.extend(_wrap(f"resource: {finding.resource} ({finding.kind})", "  ", width, "    "))
    if finding.affected:
        text = f"affects {len(finding.affected)} service(s): {', '.join(finding.affected)}"
        lines.extend(_wrap(text, "  ", width, "    "))
    if finding.evidence:
        lines.append("  evidence:")
    for evidence in finding.evidence:
        lines.extend(_wrap(f"- {evidence.detail} [{evidence.source}]", "    ", width, "      "))
    if finding.remediation:
        lines.append("  fix:")
        _fix(lines, finding.remediation, "    ", width)


def subject_line(diagnosis: Diagnosis) -> str:
    """One line naming what was diagnosed."""
    subject = diagnosis.subject
    name = subject.arn or subject.service or subject.cluster
    where = ", ".join(p for p in (subject.region, subject.account) if p)
    what = f"{subject.type} {name}" if name else "saved events"
    return what + (f" ({where})" if where else "")


def recognised(diagnosis: Diagnosis) -> list[tuple[str, str]]:
    """(knowledge entry, message) of each recognised failure, most telling first, each once."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    order = sorted(
        diagnosis.matches, key=lambda m: (m.severity is not Severity.FAILURE, -m.priority, m.signal)
    )
    for match in order:
        if match.entry in seen or not 0 <= match.signal < len(diagnosis.signals):
            continue
        seen.add(match.entry)
        found.append((match.entry, diagnosis.signals[match.signal].text))
    return found


def _hypotheses(lines: list[str], hypotheses: list[Hypothesis], width: int | None) -> None:
    for number, hypothesis in enumerate(hypotheses, start=1):
        state = f" [{hypothesis.status.value}]" if hypothesis.status else ""
        lines.extend(_wrap(f"{number}. {hypothesis.claim}{state}", "  ", width, "     "))
        lines.extend(_wrap(f"check: {', '.join(hypothesis.kinds)}", "     ", width))
        lines.append("     fix:")
        _fix(lines, hypothesis.remediation, "       ", width)


def render_text(diagnosis: Diagnosis, width: int | None = None) -> str:
    """The diagnosis for a person at a terminal (`width` columns; None: do not wrap)."""
    lines: list[str] = []
    roots = diagnosis.root_causes
    open_hypotheses = [h for h in diagnosis.hypotheses if h.status is not Status.RULED_OUT]
    failures = recognised(diagnosis)
    if roots:
        lines.extend(_wrap(f"ROOT CAUSE: {roots[0].summary}", "", width, "  "))
        if len(roots) > 1:
            lines.append(f"  (1 of {len(roots)} independent root causes; the others below)")
    elif diagnosis.offline and failures:
        entry, message = failures[0]
        failed = any(m.severity is Severity.FAILURE for m in diagnosis.matches)
        label = "RECOGNISED FAILURE" if failed else "RECOGNISED (not a failure)"
        lines.extend(_wrap(f"{label}: {entry}: {message}", "", width, "  "))
        for other, message in failures[1:4]:
            lines.extend(_wrap(f"also recognised: {other}: {message}", "  ", width, "    "))
    elif diagnosis.offline:
        lines.append("No failure recognised: offline, so no AWS check ran.")
    else:
        lines.append("No root cause confirmed.")
    lines.extend(_wrap(f"Subject: {subject_line(diagnosis)}", "", width, "  "))
    lines.append("")
    if roots:
        _details(lines, roots[0], width)
        lines.append("")
    elif diagnosis.offline and open_hypotheses:
        lines.append("Most likely causes (not confirmed: offline, no AWS check ran):")
        _hypotheses(lines, open_hypotheses, width)
        lines.append("")
    if diagnosis.services:
        healthy = [s.name for s in diagnosis.services if s.healthy]
        lines.append(
            f"Services: {len(diagnosis.services) - len(healthy)} unhealthy, {len(healthy)} healthy"
        )
        for svc in diagnosis.services:
            if svc.healthy:
                continue
            lines.append(f"  UNHEALTHY {svc.name:<32} {svc.running}/{svc.desired} running")
            for problem in svc.problems:
                lines.extend(_wrap(f"- {problem}", "      ", width, "        "))
        if healthy:
            shown = ", ".join(healthy[:12]) + (", ..." if len(healthy) > 12 else "")
            lines.extend(_wrap(f"ok: {shown}", "  ", width, "    "))
        lines.append("")
    if diagnosis.failure_groups:
        lines.append("Failed tasks, grouped by failure:")
        for group in diagnosis.failure_groups:
            where = f"{group.service}: " if group.service and diagnosis.services else ""
            seen = f", last {group.last_seen}" if group.last_seen else ""
            text = f"- {where}{group.count} x {group.example}{seen}"
            lines.extend(_wrap(text, "  ", width, "    "))
        lines.append("")
    for number, finding in enumerate(roots[1:], start=2):
        lines.extend(_wrap(f"Root cause {number}: {finding.summary}", "", width, "  "))
        _details(lines, finding, width)
        lines.append("")
    if diagnosis.consequences:
        lines.append("Consequences (explained by the root cause):")
        for finding in diagnosis.consequences:
            lines.extend(_wrap(f"- {finding.summary}", "  ", width, "    "))
        lines.append("")
    if diagnosis.other_problems:
        lines.append("Other problems found (real, but not why this failed):")
        for finding in diagnosis.other_problems:
            lines.extend(_wrap(f"- {finding.summary}", "  ", width, "    "))
            if finding.remediation:
                _fix(lines, finding.remediation, "    ", width)
        lines.append("")
    if diagnosis.ruled_out:
        lines.append("Ruled out:")
        for finding in diagnosis.ruled_out:
            lines.extend(_wrap(f"- {finding.summary}", "  ", width, "    "))
        lines.append("")
    if diagnosis.data_gaps:
        lines.append("Could not check:")
        for gap in diagnosis.data_gaps:
            need = f" (needs {gap.permission})" if gap.permission else ""
            lines.extend(_wrap(f"- {gap.check}: {gap.reason}{need}", "  ", width, "    "))
        lines.append("")
    if not roots and not diagnosis.offline and open_hypotheses:
        lines.append("Hypotheses to check, most likely first:")
        _hypotheses(lines, open_hypotheses, width)
        lines.append("")
    lines.append("Signals:")
    matched = {m.signal: m for m in diagnosis.matches}
    for index, signal in enumerate(diagnosis.signals):
        where = f" ({signal.container})" if signal.container else ""
        match = matched.get(index)
        via = f" (reported through {match.wrapper})" if match and match.wrapper else ""
        tag = f" -> {match.entry}{via}" if match else " -> (not recognised)"
        text = f"- [{signal.source.value}{where}] {signal.text}{tag}"
        lines.extend(_wrap(text, "  ", width, "    "))
    for note in diagnosis.notes:
        lines.extend(_wrap(f"note: {note}", "", width, "  "))
    if not diagnosis.offline:
        rounds = "" if diagnosis.rounds is None else f" in {diagnosis.rounds} sequential rounds"
        lines.append(f"({diagnosis.api_calls} read-only AWS requests{rounds})")
    return "\n".join(lines).rstrip() + "\n"
