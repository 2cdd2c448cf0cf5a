"""Messages people read: Slack Block Kit, a Teams Adaptive Card, or the JSON document.

Built from the `ecsdoctor.diagnosis/v1` document (so a repeat can be rendered again from the stored
result without AWS). Everything that came from AWS or a user is redacted, then escaped for the
platform: Slack's `&`, `<`, `>` (no `<!channel>`, no `<url|label>` links) inside `plain_text`
objects that Slack never formats; Teams' TextRuns, which render no Markdown. Only our own labels
and our own console links are formatted. Sizes stay inside each platform's limits and a cut says
what was left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ecsdoctor.redaction import redact

#: Slack: a header holds 150 characters, a section text 3000, a message 50 blocks.
SLACK_HEADER = 150
SLACK_SECTION = 3000
SLACK_BLOCKS = 50
#: Teams: an incoming webhook payload is limited to 28 KB.
TEAMS_BYTES = 28_000
EVIDENCE_SHOWN = 6


@dataclass(frozen=True, slots=True)
class Occurrence:
    """How often this failure was seen in the current window."""

    key: str
    count: int
    first_seen: float
    last_seen: float

    def as_json(self, repeat: bool) -> dict[str, Any]:
        """The `notification` object of the JSON format."""
        return {
            "dedup_key": self.key,
            "count": self.count,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "repeat": repeat,
        }


def iso(when: float) -> str:
    """UTC ISO-8601, seconds precision."""
    return datetime.fromtimestamp(when, tz=UTC).isoformat(timespec="seconds")


def slack_escape(text: str) -> str:
    """Redacted, control characters dropped, and Slack's three control characters escaped."""
    cleaned = "".join(ch if ch >= " " or ch in "\n\t" else " " for ch in redact(text))
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_code(text: str) -> str:
    """Text for inside a ``` block: escaped, and no backtick run that could close the block."""
    return slack_escape(text).replace("`", "ˋ")


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, saying how many were cut; never half an `&amp;` entity."""
    if len(text) <= limit:
        return text
    keep = limit - len(f"… ({len(text)} characters cut)")
    head = re.sub(r"&[a-z]{0,3}$", "", text[: max(0, keep)])
    return f"{head}… ({len(text) - len(head)} characters cut)"


# --- what to say, whatever the platform -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """The parts of a message, still raw text (escaping is per platform)."""

    headline: str
    confirmed: bool
    subject: str
    reason: str | None
    evidence: tuple[str, ...]
    evidence_cut: int
    fix: str | None
    links: tuple[tuple[str, str], ...]  # (label, url): our own URLs, built from parsed ARNs
    footer: str


def _first(items: Any) -> Mapping[str, Any] | None:
    if isinstance(items, list) and items and isinstance(items[0], Mapping):
        return items[0]
    return None


def summarize(doc: Mapping[str, Any]) -> Summary:
    """The headline, decisive evidence, fix and links of one diagnosis document."""
    root = _first(doc.get("root_causes"))
    hypothesis = _first([h for h in doc.get("hypotheses") or [] if h.get("status") != "ruled_out"])
    signal = _first(doc.get("signals"))
    subject = doc.get("subject") or {}
    if root:
        headline = f"Root cause: {root.get('summary', '')}"
        evidence_all = [str(e.get("detail", "")) for e in root.get("evidence") or []]
        fix = root.get("remediation")
    elif hypothesis:
        headline = f"Likely cause (not confirmed): {hypothesis.get('claim', '')}"
        evidence_all = []
        fix = hypothesis.get("remediation")
    else:
        text = signal.get("text", "") if signal else "no failure message"
        headline = f"ECS failure, cause unknown: {text}"
        evidence_all = []
        fix = None
    name = subject.get("arn") or subject.get("service") or subject.get("cluster") or "event"
    where = ", ".join(str(p) for p in (subject.get("region"), subject.get("account")) if p)
    subject_text = f"{subject.get('type', 'task')} {name}" + (f" ({where})" if where else "")
    calls = doc.get("api_calls") or 0
    footer = "ecsdoctor" + (
        " · offline: no AWS check ran"
        if doc.get("offline")
        else f" · {calls} read-only AWS requests"
    )
    return Summary(
        headline=headline,
        confirmed=root is not None,
        subject=subject_text,
        reason=str(signal.get("text")) if signal and signal.get("text") else None,
        evidence=tuple(evidence_all[:EVIDENCE_SHOWN]),
        evidence_cut=max(0, len(evidence_all) - EVIDENCE_SHOWN),
        fix=str(fix) if fix else None,
        links=tuple(console_links(doc)),
        footer=footer,
    )


# --- AWS console links ----------------------------------------------------------------------


def _arn(text: Any) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource) of an ARN, or None."""
    if not isinstance(text, str) or not text.startswith("arn:"):
        return None
    parts = text.split(":", 5)
    if len(parts) < 6:
        return None
    return parts[2], parts[3], parts[4], parts[5]


def _console(region: str, path: str) -> str:
    return f"https://{quote(region, safe='')}.console.aws.amazon.com/{path}"


def _q(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


def resource_link(kind: str, resource: str, region: str) -> str | None:
    """The console page of a resource a root cause names (None when there is no such page)."""
    r, q = _q(region), _q(resource)
    vpc = f"vpcconsole/home?region={r}#"
    ec2 = {
        "subnet": f"{vpc}SubnetDetails:subnetId={q}",
        "route_table": f"{vpc}RouteTableDetails:RouteTableId={q}",
        "security_group": f"ec2/home?region={r}#SecurityGroup:groupId={q}",
        "vpc_endpoint": f"{vpc}EndpointDetails:vpcEndpointId={q}",
        "nat_gateway": f"{vpc}NatGatewayDetails:natGatewayId={q}",
        "network_acl": f"{vpc}NetworkAclDetails:networkAclId={q}",
    }
    if resource.startswith("vpc-"):
        return _console(region, f"{vpc}VpcDetails:VpcId={q}")
    if kind in ec2 and not resource.startswith("arn:"):
        return _console(region, ec2[kind])
    arn = _arn(resource)
    if arn is None:
        return None
    service, where, account, path = arn
    where = where or region
    r = _q(where)
    name = path.split("/", 1)[1] if "/" in path else path.split(":", 1)[-1]
    if service == "iam" and path.startswith("role/"):
        role = _q(name.rsplit("/", 1)[-1])
        return f"https://console.aws.amazon.com/iam/home#/roles/details/{role}"
    if service == "ecr" and path.startswith("repository/"):
        return _console(where, f"ecr/repositories/private/{account}/{_q(name, '/')}?region={r}")
    if service == "secretsmanager":
        return _console(where, f"secretsmanager/secret?name={_q(name)}&region={r}")
    if service == "ssm" and path.startswith("parameter"):
        parameter = _q(path.removeprefix("parameter").lstrip("/"))
        return _console(where, f"systems-manager/parameters/{parameter}/description?region={r}")
    if service == "logs":
        group = path.split(":", 1)[1] if ":" in path else path
        group = _q(_q(group.removesuffix(":*")))
        return _console(where, f"cloudwatch/home?region={r}#logsV2:log-groups/log-group/{group}")
    if service == "kms" and path.startswith("key/"):
        return _console(where, f"kms/home?region={r}#/kms/keys/{_q(name)}")
    if service == "ecs" and path.startswith("task-definition/"):
        family, _, revision = name.partition(":")
        return _console(where, f"ecs/v2/task-definitions/{_q(family)}/{_q(revision)}?region={r}")
    if service == "elasticloadbalancing" and path.startswith("targetgroup/"):
        return _console(where, f"ec2/home?region={r}#TargetGroup:targetGroupArn={q}")
    return None


def console_links(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Task, service and root-cause resource pages in the AWS console."""
    subject = doc.get("subject") or {}
    region = str(subject.get("region") or "us-east-1")
    links: list[tuple[str, str]] = []
    task = _arn(subject.get("arn")) if subject.get("type") == "task" else None
    cluster = subject.get("cluster")
    if task is None:
        for signal in doc.get("signals") or []:
            parsed = _arn(signal.get("subject"))
            if parsed and parsed[3].startswith("task/"):
                task = parsed
                break
    if task:
        parts = task[3].split("/")
        if len(parts) == 3:
            cluster = cluster or parts[1]
            page = f"ecs/v2/clusters/{_q(parts[1])}/tasks/{_q(parts[2])}/configuration"
            links.append(("Task", _console(task[1], f"{page}?region={_q(task[1])}")))
    service = subject.get("service")
    if isinstance(service, str) and ":service/" in service:
        cluster_name, _, service = service.split(":service/", 1)[1].rpartition("/")
        cluster = cluster or cluster_name
    if service and cluster:
        name = str(cluster).rsplit("/", 1)[-1]
        page = f"ecs/v2/clusters/{_q(name)}/services/{_q(str(service))}/health"
        links.append(("Service", _console(region, f"{page}?region={_q(region)}")))
    root = _first(doc.get("root_causes"))
    if root:
        url = resource_link(str(root.get("kind", "")), str(root.get("resource", "")), region)
        if url:
            label = str(root.get("kind", "resource")).replace("_", " ").capitalize()
            links.append((label, url))
    return links


# --- Slack ------------------------------------------------------------------------------------


def _plain(text: str, limit: int = SLACK_SECTION) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(slack_escape(text), limit), "emoji": False}


def _mrkdwn(text: str) -> dict[str, Any]:
    """Only for text we wrote ourselves (labels, our links, escaped code blocks)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _occurrence_line(occurrence: Occurrence | None) -> str | None:
    if occurrence is None:
        return None
    if occurrence.count <= 1:
        return f"First seen {iso(occurrence.first_seen)}"
    return (
        f"Seen {occurrence.count} times · first {iso(occurrence.first_seen)} · "
        f"last {iso(occurrence.last_seen)}"
    )


def slack_message(doc: Mapping[str, Any], occurrence: Occurrence | None = None) -> dict[str, Any]:
    """A Block Kit message: headline, subject, reason, evidence, fix, links, count."""
    s = summarize(doc)
    icon = "🚨" if s.confirmed else "❔"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(f"{icon} {s.headline}", SLACK_HEADER)},
    ]
    if len(slack_escape(s.headline)) + 2 > SLACK_HEADER:
        blocks.append({"type": "section", "text": _plain(s.headline)})
    blocks.append({"type": "context", "elements": [_plain(s.subject, 2000)]})
    if s.reason:
        blocks.append({"type": "section", "text": _mrkdwn("*What ECS said*")})
        blocks.append({"type": "section", "text": _plain(s.reason)})
    if s.evidence:
        body = "\n".join(f"• {e}" for e in s.evidence)
        if s.evidence_cut:
            body += f"\n… {s.evidence_cut} more evidence items cut (see the JSON document)"
        blocks.append({"type": "section", "text": _mrkdwn("*Evidence*")})
        blocks.append({"type": "section", "text": _plain(body)})
    if s.fix:
        fence = "```\n{}\n```"
        room = SLACK_SECTION - len("*Fix*\n") - len(fence) + 2
        code = slack_code(s.fix)
        if len(code) > room:
            code = code[: room - 40] + "\n… (fix cut: see the JSON document)"
        blocks.append({"type": "section", "text": _mrkdwn("*Fix*\n" + fence.format(code))})
    if s.links:
        linked = " · ".join(f"<{url}|{label}>" for label, url in s.links)
        blocks.append({"type": "section", "text": _mrkdwn("*AWS console:* " + linked)})
    context = [s.footer]
    line = _occurrence_line(occurrence)
    if line:
        context.insert(0, line)
    blocks.append({"type": "context", "elements": [_plain(" · ".join(context), 2000)]})
    blocks = blocks[:SLACK_BLOCKS]
    return {"text": _cut(slack_escape(s.headline), 3000), "blocks": blocks}


def slack_update(headline: str, occurrence: Occurrence) -> dict[str, Any]:
    """A repeat's short message (a thread reply, or a webhook's count update)."""
    line = _occurrence_line(occurrence) or ""
    text = f"Still failing: {headline}"
    return {
        "text": _cut(slack_escape(f"{text} ({line})"), 3000),
        "blocks": [
            {"type": "section", "text": _plain(text)},
            {"type": "context", "elements": [_plain(line, 2000)]},
        ],
    }


# --- Teams ------------------------------------------------------------------------------------


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": redact(text), **style}


def _rich(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs)}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def teams_message(doc: Mapping[str, Any], occurrence: Occurrence | None = None) -> dict[str, Any]:
    """An Adaptive Card in the envelope Teams incoming webhooks and workflows accept."""
    s = summarize(doc)
    body: list[dict[str, Any]] = [
        _rich(
            _run(
                _cut(s.headline, 500),
                weight="Bolder",
                size="Medium",
                color="Attention" if s.confirmed else "Default",
            )
        ),
        _rich(_run(s.subject, isSubtle=True)),
    ]
    if s.reason:
        body.append(_rich(_run("What ECS said: ", weight="Bolder"), _run(_cut(s.reason, 2000))))
    body.extend(_rich(_run("• "), _run(_cut(item, 1000))) for item in s.evidence)
    if s.evidence_cut:
        body.append(_rich(_run(f"… {s.evidence_cut} more evidence items cut", isSubtle=True)))
    if s.fix:
        body.append(_rich(_run("Fix", weight="Bolder")))
        body.append(_rich(_run(_cut(s.fix, 3000), fontType="Monospace")))
    line = _occurrence_line(occurrence)
    body.append(_rich(_run(" · ".join(p for p in (line, s.footer) if p), isSubtle=True)))
    actions = [{"type": "Action.OpenUrl", "title": label, "url": url} for label, url in s.links]
    payload = _card(body, actions)
    while len(json.dumps(payload).encode()) > TEAMS_BYTES and len(body) > 3:
        body.pop(-2)
        payload = _card(
            [
                *body[:-1],
                _rich(_run("… some details cut to fit Teams' size limit", isSubtle=True)),
                body[-1],
            ],
            actions,
        )
    return payload


def teams_update(headline: str, occurrence: Occurrence) -> dict[str, Any]:
    """A repeat's short card."""
    return _card(
        [
            _rich(_run(f"Still failing: {_cut(headline, 500)}", weight="Bolder")),
            _rich(_run(_occurrence_line(occurrence) or "", isSubtle=True)),
        ],
        [],
    )


# --- JSON -------------------------------------------------------------------------------------


def json_message(
    doc: Mapping[str, Any], occurrence: Occurrence, repeat: bool = False
) -> dict[str, Any]:
    """The diagnosis document plus the `notification` object (DESIGN.md)."""
    return {**doc, "notification": occurrence.as_json(repeat)}


def headline_of(doc: Mapping[str, Any]) -> str:
    """The one line a repeat repeats."""
    return summarize(doc).headline


def texts(payload: Mapping[str, Any]) -> Sequence[str]:
    """Every string in a payload (tests and log-safety checks walk it)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload)
    return found
