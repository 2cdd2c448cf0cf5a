"""Decide, without any AWS call, whether an EventBridge ECS event is worth a message, and about what.

A stopped task is a failure only when the knowledge base says so: a user's StopTask, a scale-in, a
deployment replacing a task that exited cleanly and a handled Spot interruption are normal and
send nothing. What the event's own messages match (the knowledge entry) is the failure's identity
for deduplication, so a repeat is recognised before anything is read from AWS.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ecsdoctor.errors import InputError
from ecsdoctor.ingest import Document, parse_document
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Match, Severity, SignalSource

TASK_STATE = "ECS Task State Change"
DEPLOYMENT_STATE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"

#: Stop codes that mean someone or something stopped the task on purpose.
#: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (stopCode)
USER_STOP = "UserInitiated"
SCHEDULER_STOP = "ServiceSchedulerInitiated"
#: Spot and capacity reclaim: the service scheduler replaces the task, nothing is misconfigured.
CAPACITY_RECLAIMED = frozenset({"SpotInterruption", "TerminationNotice"})
#: Exit codes of a container that shut down as asked (0, or 143 = terminated by SIGTERM).
CLEAN_EXITS = frozenset({0, 143})
#: Service actions that are failures whatever their eventType says (test tools send them as INFO).
FAILING_ACTIONS = frozenset(
    {
        "SERVICE_TASK_START_IMPAIRED",
        "SERVICE_TASK_PLACEMENT_FAILURE",
        "SERVICE_TASK_CONFIGURATION_FAILURE",
    }
)


class EventKind(StrEnum):
    """The three EventBridge ECS events the bot reacts to."""

    TASK_STOPPED = "task_stopped"
    DEPLOYMENT_FAILED = "deployment_failed"
    SERVICE_ACTION = "service_action"


@dataclass(frozen=True, slots=True)
class Incident:
    """A failure event, with what deduplication and the live diagnosis need to know about it."""

    kind: EventKind
    account: str
    region: str
    cluster: str
    group: str  # "service:NAME" or "family:NAME": what keeps failing
    cause: str  # knowledge entry id of the decisive message, or "unrecognised:<digest>"
    title: str  # the entry's title (or the message), for a repeat's one-line update
    task_arn: str | None
    service_arn: str | None
    task_definition_arn: str | None
    at: str | None
    document: Document

    @property
    def service(self) -> str | None:
        """The service name, when the failing thing is a service."""
        return self.group.split(":", 1)[1] if self.group.startswith("service:") else None


@dataclass(frozen=True, slots=True)
class Skip:
    """An event that sends nothing, and why (for the handler's return value, never a message)."""

    reason: str


def triage(event: Mapping[str, Any], kb: KnowledgeBase) -> Incident | Skip:
    """Classify one EventBridge event; InputError for something that is not an ECS event."""
    if not isinstance(event, Mapping) or "detail-type" not in event:
        raise InputError("not an EventBridge event (no detail-type)")
    kind = event.get("detail-type")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise InputError("EventBridge event without a detail object")
    if kind == TASK_STATE:
        return _task(event, detail, kb)
    if kind == DEPLOYMENT_STATE:
        if detail.get("eventName") != "SERVICE_DEPLOYMENT_FAILED":
            return Skip(f"deployment event {str(detail.get('eventName'))[:60]} is not a failure")
        return _service(event, detail, kb, EventKind.DEPLOYMENT_FAILED)
    if kind == SERVICE_ACTION:
        if detail.get("eventType") not in ("WARN", "ERROR") and (
            detail.get("eventName") not in FAILING_ACTIONS
        ):
            return Skip(f"service action {str(detail.get('eventName'))[:60]} is informational")
        return _service(event, detail, kb, EventKind.SERVICE_ACTION)
    return Skip(f"detail-type {str(kind)[:60]!r} is not handled")


def _document(event: Mapping[str, Any]) -> Document:
    return parse_document(json.dumps(event, default=str), "event")


def _arn_parts(arn: Any) -> tuple[str, str, str]:
    """(region, account, last path segment) of an ARN, or empty strings."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return "", "", ""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", "", ""
    return parts[3], parts[4], parts[5].rsplit("/", 1)[-1]


def _where(event: Mapping[str, Any], arn: Any) -> tuple[str, str]:
    region, account, _ = _arn_parts(arn)
    region = str(event.get("region") or region or "")
    account = str(event.get("account") or account or "")
    if not region or not account:
        raise InputError("the event names no region or account")
    return region, account


def _failures(doc: Document, kb: KnowledgeBase, ignore: frozenset[SignalSource]) -> list[Match]:
    matches = kb.match_all(doc.signals)
    failing = [
        m
        for m in matches
        if m.severity is Severity.FAILURE and doc.signals[m.signal].source not in ignore
    ]
    # What ECS said about the failure (a reason) identifies it better than the stop code or the
    # exit code that every failure of its kind shares.
    generic = (SignalSource.STOP_CODE, SignalSource.EXIT_CODE)
    return sorted(
        failing, key=lambda m: (doc.signals[m.signal].source in generic, -m.priority, m.signal)
    )


def _unrecognised(text: str) -> str:
    """A stable identity for a message no entry knows: ids, numbers and addresses stripped."""
    shape = re.sub(r"[0-9a-f]{8,}|\d+", "#", text.lower())
    return "unrecognised:" + hashlib.sha256(shape.encode()).hexdigest()[:16]


def _exit_codes(detail: Mapping[str, Any]) -> list[int | None]:
    containers = detail.get("containers")
    if not isinstance(containers, list):
        return []
    codes: list[int | None] = []
    for container in containers:
        if isinstance(container, Mapping):
            code = container.get("exitCode")
            codes.append(code if isinstance(code, int) and not isinstance(code, bool) else None)
    return codes


def _task(
    event: Mapping[str, Any], detail: Mapping[str, Any], kb: KnowledgeBase
) -> Incident | Skip:
    if detail.get("lastStatus") != "STOPPED":
        return Skip(f"task is {str(detail.get('lastStatus'))[:20]}, not STOPPED")
    stop_code = detail.get("stopCode")
    if stop_code == USER_STOP:
        return Skip("stopped by a user (UserInitiated)")
    if stop_code in CAPACITY_RECLAIMED:
        return Skip(f"capacity reclaimed ({stop_code}); the scheduler replaces the task")
    doc = _document(event)
    codes = _exit_codes(detail)
    clean = all(c is None or c in CLEAN_EXITS for c in codes)
    if stop_code == SCHEDULER_STOP:
        # A deployment or scale-in replaced the task: normal unless a reason names a failure
        # (failed health checks) or a container did not shut down cleanly.
        failing = _failures(doc, kb, frozenset({SignalSource.STOP_CODE, SignalSource.EXIT_CODE}))
        if not failing and clean:
            return Skip("replaced by the service scheduler after a clean exit")
    else:
        failing = _failures(doc, kb, frozenset())
    group = detail.get("group") if isinstance(detail.get("group"), str) else ""
    taskdef = detail.get("taskDefinitionArn")
    if not group:
        family = _arn_parts(taskdef)[2].split(":", 1)[0]
        group = f"family:{family}" if family else "family:unknown"
    if (
        stop_code == "EssentialContainerExited"
        and group.startswith("family:")
        and codes
        and all(c == 0 for c in codes)
    ):
        return Skip("a standalone task finished: every container exited 0")
    if not doc.signals:
        return Skip("the stopped task carries no reason, stop code or exit code")
    matches = kb.match_all(doc.signals)
    if not failing and clean and matches and all(m.severity is Severity.INFO for m in matches):
        return Skip("every message is normal operation")
    task_arn = detail.get("taskArn") if isinstance(detail.get("taskArn"), str) else None
    region, account = _where(event, task_arn)
    cluster = _arn_parts(detail.get("clusterArn"))[2] or "default"
    cause, title = _cause(doc, failing, kb)
    service = group.split(":", 1)[1] if group.startswith("service:") else None
    service_arn = f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}" if service else None
    return Incident(
        kind=EventKind.TASK_STOPPED,
        account=account,
        region=region,
        cluster=cluster,
        group=group,
        cause=cause,
        title=title,
        task_arn=task_arn,
        service_arn=service_arn,
        task_definition_arn=taskdef if isinstance(taskdef, str) else None,
        at=_text(detail.get("stoppedAt") or event.get("time")),
        document=doc,
    )


def _service(
    event: Mapping[str, Any], detail: Mapping[str, Any], kb: KnowledgeBase, kind: EventKind
) -> Incident | Skip:
    resources = event.get("resources")
    service_arn = resources[0] if isinstance(resources, list) and resources else None
    if not isinstance(service_arn, str) or ":service/" not in service_arn:
        raise InputError("a service event without a service ARN in resources")
    region, account = _where(event, service_arn)
    path = service_arn.split(":service/", 1)[1].split("/")
    service = path[-1]
    cluster = path[0] if len(path) > 1 else _arn_parts(detail.get("clusterArn"))[2] or "default"
    doc = _document(event)
    failing = _failures(doc, kb, frozenset())
    cause, title = _cause(doc, failing, kb)
    return Incident(
        kind=kind,
        account=account,
        region=region,
        cluster=cluster,
        group=f"service:{service}",
        cause=cause,
        title=title,
        task_arn=None,
        service_arn=service_arn,
        task_definition_arn=None,
        at=_text(detail.get("updatedAt") or detail.get("createdAt") or event.get("time")),
        document=doc,
    )


#: Reasons every crashing container shares; the exit code tells such crashes apart.
GENERIC_EXIT = "container_exit.essential_container_exited"


def _cause(doc: Document, failing: list[Match], kb: KnowledgeBase) -> tuple[str, str]:
    if failing:
        decisive = failing[0]
        if decisive.entry == GENERIC_EXIT:
            exits = [m for m in failing if doc.signals[m.signal].source is SignalSource.EXIT_CODE]
            decisive = exits[0] if exits else decisive
        entry = kb.by_id[decisive.entry]
        return entry.id, entry.title
    text = doc.signals[0].text if doc.signals else "no failure message"
    return _unrecognised(text), text[:200]


def _text(value: Any) -> str | None:
    return value[:40] if isinstance(value, str) and value else None
