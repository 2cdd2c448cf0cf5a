"""A Slack Block Kit payload (a dict): posting it is the ChatOps layer's job, not this one's.

Every value from AWS or the user goes through `_escape` (and so does the top-level `text`, which
Slack shows in notifications): `&`, `<` and `>` become entities, so no `<!channel>`, `<@user>` or
`<url|disguised link>` can come from data, and URLs are shown as code, never linked.
"""

from __future__ import annotations

import re
from typing import Any

from ecsdoctor.models import Diagnosis
from ecsdoctor.report.commands import split_remediation
from ecsdoctor.report.text import recognised, subject_line

_MAX_TEXT = 2900  # Block Kit section text is limited to 3000 characters
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>`]*[^\s<>`\"'.,;:)\]]")


def _section(text: str) -> dict[str, Any]:
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _URL.sub(lambda m: "`" + m.group().replace("`", "'") + "`", text)


def _fix(remediation: str) -> str:
    remedy = split_remediation(remediation)
    body = _escape(remedy.prose)
    if remedy.commands:
        commands = "\n".join(_escape(c).replace("```", "'''") for c in remedy.commands)
        body += f"\n```{commands}```"
    return body


def slack_payload(diagnosis: Diagnosis) -> dict[str, Any]:
    """The message a ChatOps bot posts for `diagnosis`."""
    failures = recognised(diagnosis)
    if diagnosis.root_causes:
        fallback = f"Root cause: {diagnosis.root_causes[0].summary}"
        headline = f":rotating_light: *Root cause:* {_escape(diagnosis.root_causes[0].summary)}"
    elif diagnosis.offline and failures:
        fallback = f"Recognised failure: {failures[0][0]}: {failures[0][1]}"
        headline = (
            f":mag: *Recognised failure:* `{failures[0][0]}`: {_escape(failures[0][1][:500])}"
            "\n_Not confirmed: offline, no AWS check ran._"
        )
    else:
        fallback = "No root cause confirmed"
        headline = ":grey_question: *No root cause confirmed*"
    blocks: list[dict[str, Any]] = [
        _section(headline),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _escape(subject_line(diagnosis))}],
        },
    ]
    if diagnosis.offline and not diagnosis.root_causes and diagnosis.hypotheses:
        hyps = "\n".join(
            f"{n}. {_escape(h.claim)}" for n, h in enumerate(diagnosis.hypotheses[:5], 1)
        )
        blocks.append(_section(f"*Most likely causes*\n{hyps}"))
    unhealthy = [s for s in diagnosis.services if not s.healthy]
    if diagnosis.services:
        listed = "\n".join(
            f"• *{_escape(s.name)}* {s.running}/{s.desired}: {_escape('; '.join(s.problems))}"
            for s in unhealthy[:10]
        )
        blocks.append(
            _section(
                f"*{len(unhealthy)} of {len(diagnosis.services)} services unhealthy*\n{listed}"
            )
        )
    if diagnosis.failure_groups:
        groups = "\n".join(
            f"• {g.count} x {_escape(g.example[:200])}" for g in diagnosis.failure_groups[:5]
        )
        blocks.append(_section(f"*Failed tasks*\n{groups}"))
    for finding in diagnosis.root_causes:
        evidence = "\n".join(f"• {_escape(e.detail)}" for e in finding.evidence[:6])
        resource = _escape(finding.resource).replace("`", "'")
        body = f"*{_escape(finding.kind)}* `{resource}`\n{evidence}"
        if finding.affected:
            body += f"\n*Affects:* {_escape(', '.join(finding.affected[:20]))}"
        if finding.remediation:
            body += f"\n*Fix:* {_fix(finding.remediation)}"
        blocks.append(_section(body))
    if diagnosis.other_problems:
        others = "\n".join(f"• {_escape(f.summary)}" for f in diagnosis.other_problems[:8])
        blocks.append(_section(f"*Other problems (not why this failed)*\n{others}"))
    if diagnosis.ruled_out:
        ruled = "\n".join(f"• {_escape(f.summary)}" for f in diagnosis.ruled_out[:8])
        blocks.append(_section(f"*Ruled out*\n{ruled}"))
    if diagnosis.data_gaps:
        gaps = "\n".join(
            f"• {_escape(g.check)}: {_escape(g.reason)}" for g in diagnosis.data_gaps[:8]
        )
        blocks.append(_section(f"*Could not check*\n{gaps}"))
    if not diagnosis.offline and not diagnosis.root_causes and diagnosis.hypotheses:
        hyps = "\n".join(
            f"{n}. {_escape(h.claim)}" for n, h in enumerate(diagnosis.hypotheses[:5], 1)
        )
        blocks.append(_section(f"*Hypotheses to check*\n{hyps}"))
    return {"text": _escape(fallback[:_MAX_TEXT]), "blocks": blocks}
