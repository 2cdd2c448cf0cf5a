"""The report as one self-contained HTML page: inline styles, inline SVG, no script, no fetch.

It opens from a ticket attachment or an air-gapped laptop the same way, and prints on A4/Letter
without cut tables. Every value is HTML-escaped; the diagram is SVG drawn here, not Mermaid.
"""

from __future__ import annotations

from html import escape
from itertools import pairwise

from ecsdoctor.incident.markdown import duration_text, when
from ecsdoctor.incident.model import IncidentReport, PathNode, RootCause

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1d2733; margin: 0 auto; padding: 24px 32px; max-width: 1100px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #e3e8ee; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #5b6b7c; font-size: 12px; margin-bottom: 16px; }
.summary { display: grid; grid-template-columns: 150px 1fr; gap: 4px 16px; background: #f6f8fa;
  border: 1px solid #e3e8ee; border-radius: 6px; padding: 12px 16px; }
.summary dt { font-weight: 600; color: #3b4a5a; }
.summary dd { margin: 0; }
.cause { border-left: 4px solid #c0392b; padding-left: 8px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #d9dee4; padding: 4px 6px; text-align: left; vertical-align: top;
  overflow-wrap: break-word; word-break: break-word; }
td.tight, th.tight { white-space: nowrap; width: 1%; }
td code { word-break: break-all; }
th { background: #eef1f4; }
tr.failure td:nth-child(2), tr.rollback td:nth-child(2) { color: #b03a2e; font-weight: 600; }
tr.recovery td:nth-child(2) { color: #1e8449; font-weight: 600; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f5f7;
  padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
.diagram { margin: 8px 0 12px; }
.fix { background: #eaf6ee; border: 1px solid #c8e6d0; border-radius: 6px; padding: 6px 10px; }
.muted { color: #5b6b7c; }
footer { margin-top: 24px; color: #5b6b7c; font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; }
  table, .diagram, .summary, .fix { break-inside: avoid; }
  tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

_KIND_LABEL = {
    "change": "Change",
    "deployment": "Deployment",
    "failure": "Failure",
    "event": "Event",
    "rollback": "Rollback",
    "recovery": "Recovery",
}


def e(text: object) -> str:
    """HTML-escaped text (quotes included: values also go into attributes and SVG)."""
    return escape("" if text is None else str(text), quote=True)


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines[:3] or [""]


def svg_path(path: tuple[PathNode, ...], joining: tuple[PathNode, ...] = ()) -> str:
    """The dependency path as a vertical chain of boxes, the failing one red, drawn in SVG;
    services sharing the cause are named in the first box."""
    if joining and path:
        more = ", ".join(n.label for n in joining)
        first = PathNode(path[0].id, f"{path[0].label} (and {more})", path[0].failing)
        path = (first, *path[1:])
    width, box_w, line_h, gap = 620, 560, 16, 26
    x = (width - box_w) // 2
    parts: list[str] = []
    y = 10
    centers: list[tuple[int, int]] = []
    for node in path:
        lines = _wrap(("✗ " if node.failing else "") + node.label, 66)
        height = 14 + line_h * len(lines)
        fill, stroke, color = (
            ("#fde2e1", "#c0392b", "#7b241c") if node.failing else ("#eef3f8", "#5d7a99", "#1d2733")
        )
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{height}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2 if node.failing else 1}"/>'
        )
        for index, text in enumerate(lines):
            parts.append(
                f'<text x="{width // 2}" y="{y + 19 + index * line_h}" text-anchor="middle" '
                f'font-size="12" font-family="ui-monospace, Menlo, Consolas, monospace" '
                f'fill="{color}">{e(text)}</text>'
            )
        centers.append((y, y + height))
        y += height + gap
    for (_, bottom), (top, _) in pairwise(centers):
        parts.append(
            f'<line x1="{width // 2}" y1="{bottom}" x2="{width // 2}" y2="{top - 4}" '
            'stroke="#5d7a99" stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
    total = y - gap + 10
    labels = " → ".join(n.label for n in path)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{total}" '
        f'viewBox="0 0 {width} {total}"><title>{e("Dependency path: " + labels)}</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#5d7a99"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _cause(number: int, cause: RootCause) -> list[str]:
    f = cause.finding
    out = [f'<section class="cause"><h3>{number}. {e(f.summary)}</h3><ul>']
    out.append(f"<li>Resource: <code>{e(f.resource)}</code> ({e(f.kind)})</li>")
    if f.check:
        out.append(f"<li>Confirmed by: <code>{e(f.check)}</code></li>")
    if f.entry:
        out.append(f"<li>Failure family: <code>{e(f.entry)}</code></li>")
    if f.affected:
        out.append(f"<li>Affects {len(f.affected)} service(s): {e(', '.join(f.affected))}</li>")
    out.append("</ul>")
    rows = [x for x in f.evidence if x.source != "dependency graph"]
    if rows:
        out.append("<table><tr><th>Resource</th><th>Source</th><th>Observed</th></tr>")
        out += [
            f"<tr><td><code>{e(x.resource)}</code></td><td>{e(x.source)}</td>"
            f"<td>{e(x.detail)}</td></tr>"
            for x in rows
        ]
        out.append("</table>")
    if cause.path:
        out.append(f'<div class="diagram">{svg_path(cause.path, cause.joining)}</div>')
    if f.remediation:
        out.append(f'<p class="fix"><strong>Fix:</strong> {e(f.remediation)}</p>')
    out.append("</section>")
    return out


def render_html(report: IncidentReport) -> str:
    """The report as one HTML document."""
    s = report.summary
    window = (
        f"{when(report.window.start)} to {when(report.window.end)}"
        if report.window.start
        else f"everything up to {when(report.window.end)}"
    )
    if s.first_failure:
        end = (
            f"recovered at {when(s.recovered_at)}"
            if s.recovered_at
            else f"still failing at {when(s.ended)} (end of the window)"
        )
        duration = f"{duration_text(s.duration_seconds)}, from {when(s.first_failure)}, {end}"
    else:
        duration = "no failure time known"
    h = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{e(s.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(s.title)}</h1>",
        f'<p class="meta">Generated {e(when(report.generated_at))} by ecsdoctor. Window: '
        f"{e(window)}. Region {e(report.region or 'unknown')}, account "
        f"{e(report.account or 'unknown')}.</p>",
        '<h2 id="summary">Summary</h2><dl class="summary">',
        f"<dt>What failed</dt><dd>{e(s.what_failed)}</dd>",
        f"<dt>Services</dt><dd>{e(', '.join(s.services) or 'none identified')}</dd>",
        f"<dt>Failed tasks</dt><dd>{s.failed_tasks}</dd>",
        f"<dt>Duration</dt><dd>{e(duration)}</dd>",
        f"<dt>Root cause</dt><dd><strong>{e(s.root_cause)}</strong></dd></dl>",
        '<h2 id="timeline">Timeline</h2>',
    ]
    if report.timeline:
        h.append(
            '<table><tr><th class="tight">Time</th><th class="tight">What</th><th>Detail</th>'
            '<th class="tight">Count</th></tr>'
        )
        for t in report.timeline:
            detail = e(t.text) + (
                f' <span class="muted">(last at {e(when(t.last_at))})</span>' if t.last_at else ""
            )
            h.append(
                f'<tr class="{e(t.kind)}"><td class="tight">{e(when(t.at))}</td>'
                f'<td class="tight">{e(_KIND_LABEL.get(t.kind, t.kind))}</td><td>{detail}</td>'
                f'<td class="tight">{t.count if t.count > 1 else ""}</td></tr>'
            )
        h.append("</table>")
    else:
        h.append("<p>No event in the window.</p>")
    h.append('<h2 id="root-cause">Root cause</h2>')
    if report.root_causes:
        for number, cause in enumerate(report.root_causes, start=1):
            h += _cause(number, cause)
    else:
        h.append(f"<p>{e(s.root_cause)}</p>")
        if report.diagnosis.hypotheses:
            h.append("<p>Hypotheses from the failure messages, most likely first:</p><ol>")
            h += [f"<li>{e(x.claim)}</li>" for x in report.diagnosis.hypotheses[:5]]
            h.append("</ol>")
    h.append('<h2 id="consequences">Consequences</h2>')
    if report.consequences:
        h.append("<ul>")
        h += [
            f"<li>{e(f.summary)} (<code>{e(f.resource)}</code>)</li>" for f in report.consequences
        ]
        h.append("</ul>")
    else:
        h.append("<p>No failing resource beyond the root cause was found.</p>")
    h.append('<h2 id="ruled-out">Ruled out</h2>')
    if report.ruled_out:
        h.append(
            "<table><tr><th>Checked</th><th>Resource</th><th>Why it is not the cause</th></tr>"
        )
        h += [
            f"<tr><td><code>{e(f.check or f.kind)}</code></td><td><code>{e(f.resource)}</code>"
            f"</td><td>{e(f.summary)}</td></tr>"
            for f in report.ruled_out
        ]
        h.append("</table>")
    else:
        h.append(
            "<p>Nothing was ruled out" + (" (no AWS check ran).</p>" if report.offline else ".</p>")
        )
    h.append('<h2 id="data-gaps">Data gaps</h2>')
    if report.data_gaps:
        h.append(
            "<table><tr><th>Check</th><th>Why it could not run</th>"
            "<th>Permission that would close it</th></tr>"
        )
        h += [
            f"<tr><td><code>{e(g.check)}</code></td><td>{e(g.reason)}</td>"
            f"<td>{('<code>' + e(g.permission) + '</code>') if g.permission else 'none'}</td></tr>"
            for g in report.data_gaps
        ]
        h.append("</table>")
    else:
        h.append("<p>None: every check could read what it needed.</p>")
    h.append('<h2 id="remediation">Remediation</h2>')
    if report.remediation:
        h.append("<ol>" + "".join(f"<li>{e(r)}</li>" for r in report.remediation) + "</ol>")
    else:
        h.append("<p>No remediation: no root cause was confirmed.</p>")
    h.append('<h2 id="prevention">Prevention</h2>')
    h.append("<ul>" + "".join(f"<li>{e(p)}</li>" for p in report.prevention) + "</ul>")
    h.append('<h2 id="appendix">Appendix: raw signals (redacted)</h2>')
    if report.sources:
        h.append(f'<p class="muted">Sources: {e("; ".join(report.sources))}.</p>')
    if report.appendix:
        h.append("<table><tr><th>First seen</th><th>Source</th><th>Count</th><th>Message</th></tr>")
        h += [
            f"<tr><td>{e(when(r.at) if r.at else '')}</td><td>{e(r.source)}</td>"
            f"<td>{r.count}</td><td>{e(r.text)}</td></tr>"
            for r in report.appendix
        ]
        h.append("</table>")
        if report.appendix_omitted:
            h.append(f"<p>{report.appendix_omitted} more distinct signal(s) left out.</p>")
    else:
        h.append("<p>No raw signal.</p>")
    if report.notes:
        h.append("<p>Notes:</p><ul>" + "".join(f"<li>{e(n)}</li>" for n in report.notes) + "</ul>")
    h.append(
        f"<footer>{report.api_calls} AWS request(s); schema ecsdoctor.report/v1.</footer>"
        "</body></html>"
    )
    return "\n".join(h) + "\n"


__all__ = ["render_html", "svg_path"]
