"""From gathered records and a diagnosis to the report value.

The root cause always comes from the diagnosis library (`diagnose_service`, `scan_cluster`, or
`diagnose_document` when only archived events are at hand); this module adds what a post-mortem
needs around it: the merged timeline, the impact figures, the dependency path, prevention.
Every string that reaches the report passes through `redact_text` here, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ecsdoctor.arn import parse_arn
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.recording import redact_text
from ecsdoctor.errors import CallDenied, InputError, ReadError
from ecsdoctor.incident.gather import (
    Gathered,
    ServiceEvent,
    TaskRecord,
    TimeSpan,
    gather,
    group_failures,
    moment,
    parse_window,
    reference_now,
)
from ecsdoctor.incident.model import (
    IncidentReport,
    PathNode,
    RawSignal,
    RootCause,
    Summary,
    TimelineEntry,
    Window,
)
from ecsdoctor.ingest import Document
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kinds import Kind
from ecsdoctor.models import DataGap, Diagnosis, Evidence, Finding, Severity, Signal
from ecsdoctor.offline import diagnose_document
from ecsdoctor.pipeline import load_knowledge
from ecsdoctor.service import normalize_reason

#: Distinct raw signals kept in the appendix (the rest are counted).
APPENDIX_LIMIT = 60
#: Resources whose configuration changes are looked up in CloudTrail (root causes only).
CHANGE_LOOKUPS = 3
_NETWORK_KINDS = frozenset(
    {
        "vpc_endpoint",
        "route_table",
        "nat_gateway",
        "internet_gateway",
        "security_group",
        "network_acl",
        "subnet",
        "vpc_dns",
        "public_ip",
    }
)
_KIND_ORDER = {"change": 0, "deployment": 1, "failure": 2, "event": 3, "rollback": 4, "recovery": 5}
_AWS_ID = re.compile(r"^(?:vpc|subnet|rtb|sg|vpce|nat|igw|acl|eni)-[0-9a-f]{8,17}$")


def iso(at: datetime | None) -> str | None:
    """UTC ISO-8601 with a Z, seconds precision: the one time format of every renderer."""
    if at is None:
        return None
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _clean_finding(finding: Finding) -> Finding:
    return replace(
        finding,
        resource=redact_text(finding.resource),
        summary=redact_text(finding.summary),
        remediation=redact_text(finding.remediation) if finding.remediation else None,
        evidence=tuple(
            Evidence(redact_text(e.resource), e.source, redact_text(e.detail))
            for e in finding.evidence
        ),
    )


def short_label(resource: str) -> str:
    """A diagram label: the resource part of an ARN, the deployment of a stand-in task."""
    head, _, deployment = resource.partition("#")
    arn = parse_arn(head)
    label = arn.resource if arn else head
    if deployment:
        label = f"next task of {label} ({deployment})"
    return label if len(label) <= 80 else label[:79] + "…"


def dependency_path(
    finding: Finding, subject: str | None
) -> tuple[tuple[PathNode, ...], tuple[PathNode, ...]]:
    """The path the diagnosis walked (its "Dependency path" evidence), the root cause last, and
    the other affected services that reach the same cause (a scan's shared cause)."""
    nodes: list[str] = []
    for evidence in finding.evidence:
        if evidence.source == "dependency graph" and evidence.detail.startswith("Dependency path:"):
            text = evidence.detail.removeprefix("Dependency path:").strip().rstrip(".")
            nodes = [n.strip() for n in text.split(" -> ") if n.strip()]
            break
    joining: list[str] = []
    if not nodes:
        parents = [f"service/{s}" for s in finding.affected] or ([subject] if subject else [])
        nodes = [*parents[:1], finding.resource]
        joining = parents[1:6]
    if nodes[-1] != finding.resource:
        nodes.append(finding.resource)

    def node(name: str, failing: bool = False) -> PathNode:
        return PathNode(redact_text(name), redact_text(short_label(name)), failing=failing)

    path = tuple(node(n, failing=i == len(nodes) - 1) for i, n in enumerate(nodes))
    return path, (tuple(node(n) for n in joining) if len(path) > 1 else ())


# -- timeline ------------------------------------------------------------------------------------


def _event_kind(message: str, kb: KnowledgeBase) -> str:
    lower = message.lower()
    if "steady state" in lower:
        return "recovery"
    if "rolling back" in lower or "rolled back" in lower or "rollback" in lower:
        return "rollback"
    from ecsdoctor.models import SignalSource

    match = kb.match(Signal(source=SignalSource.SERVICE_EVENT, text=message))
    if match is not None and match.severity is Severity.FAILURE:
        return "failure"
    return "event"


def _deployment_entries(gathered: Gathered, span: TimeSpan) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for svc in gathered.services:
        name = str(svc.get("serviceName") or "")
        config = svc.get("deploymentConfiguration") or {}
        breaker = config.get("deploymentCircuitBreaker") or {}
        for deployment in svc.get("deployments") or []:
            ident = str(deployment.get("id") or "deployment")
            definition = str(deployment.get("taskDefinition") or "")
            created = moment(deployment.get("createdAt"))
            if created is not None and span.holds(created):
                entries.append(
                    TimelineEntry(
                        at=iso(created) or "",
                        kind="deployment",
                        text=redact_text(
                            f"Deployment {ident} of service {name} started with "
                            f"{short_label(definition)} ({deployment.get('status', '?')}, "
                            f"{deployment.get('desiredCount', '?')} desired)."
                        ),
                        source="ecs:DescribeServices",
                    )
                )
            if deployment.get("rolloutState") == "FAILED":
                updated = moment(deployment.get("updatedAt")) or created
                if updated is None or not span.holds(updated):
                    continue
                rolled = bool(breaker.get("enable") and breaker.get("rollback"))
                reason = str(deployment.get("rolloutStateReason") or "no reason given")
                text = f"Deployment {ident} of service {name} FAILED: {reason}"
                if rolled:
                    text += " The circuit breaker rolled the service back."
                entries.append(
                    TimelineEntry(
                        at=iso(updated) or "",
                        kind="rollback" if rolled else "failure",
                        text=redact_text(text),
                        count=int(deployment.get("failedTasks") or 0) or 1,
                        source="ecs:DescribeServices",
                    )
                )
    return entries


def _event_entries(
    events: Sequence[ServiceEvent], kb: KnowledgeBase, last_failure: datetime | None
) -> tuple[list[TimelineEntry], datetime | None]:
    """Service events, each distinct message once with its count; steady state only as recovery."""
    grouped: dict[tuple[str | None, str], list[ServiceEvent]] = {}
    recovery: ServiceEvent | None = None
    for event in sorted(events, key=lambda e: e.at or datetime.min.replace(tzinfo=UTC)):
        kind = _event_kind(event.message, kb)
        if kind == "recovery":
            if (
                last_failure is not None
                and event.at is not None
                and event.at > last_failure
                and (recovery is None or (recovery.at is not None and event.at < recovery.at))
            ):
                recovery = event
            continue
        grouped.setdefault((event.service, normalize_reason(event.message)), []).append(event)
    entries = []
    for members in grouped.values():
        first, last = members[0], members[-1]
        entries.append(
            TimelineEntry(
                at=iso(first.at) or "",
                kind=_event_kind(first.message, kb),
                text=redact_text(first.message),
                count=len(members),
                last_at=iso(last.at) if len(members) > 1 else None,
                source=first.source,
            )
        )
    recovered_at = None
    if recovery is not None:
        recovered_at = recovery.at
        entries.append(
            TimelineEntry(
                at=iso(recovery.at) or "",
                kind="recovery",
                text=redact_text(recovery.message),
                source=recovery.source,
            )
        )
    return entries, recovered_at


def _failure_entries(groups: Sequence[Sequence[TaskRecord]]) -> list[TimelineEntry]:
    entries = []
    for members in groups:
        first, last = members[0], members[-1]
        owners = sorted({m.service for m in members if m.service})
        owner = (
            f"service {owners[0]}"
            if len(owners) == 1
            else f"services {', '.join(owners)}"
            if owners
            else "a task"
        )
        entries.append(
            TimelineEntry(
                at=iso(first.at) or "",
                kind="failure",
                text=redact_text(f"First failure of {owner}: {first.example}"),
                count=len(members),
                last_at=iso(last.at) if len(members) > 1 else None,
                source=first.source,
            )
        )
    return entries


def _task_recovery(tasks: Sequence[TaskRecord], last_failure: datetime | None) -> TaskRecord | None:
    """The first task seen RUNNING after the last failure (from archived task events)."""
    if last_failure is None:
        return None
    running = [
        t for t in tasks if t.last_status == "RUNNING" and t.at is not None and t.at > last_failure
    ]
    return min(running, key=lambda t: t.at or last_failure, default=None)


def _changes(
    reader: Reader, causes: Sequence[Finding], start: datetime, end: datetime
) -> tuple[list[TimelineEntry], list[DataGap]]:
    """CloudTrail configuration changes of the root-cause resources (read-only LookupEvents)."""
    entries: list[TimelineEntry] = []
    gaps: list[DataGap] = []
    for finding in causes[:CHANGE_LOOKUPS]:
        resource = finding.resource
        if not (_AWS_ID.match(resource) or resource.startswith("arn:")):
            continue
        try:
            found = reader.call(
                "cloudtrail",
                "LookupEvents",
                LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": resource}],
                StartTime=start,
                EndTime=end,
                MaxResults=20,
            ).get("Events", [])
        except ReadError as err:
            denied = isinstance(err, CallDenied)
            reason = f"configuration changes of {resource} not read: " + (
                "access denied" if denied else f"{err.code}: {err.message[:120]}"
            )
            gaps.append(
                DataGap(
                    "report.config_changes", redact_text(reason), err.permission if denied else None
                )
            )
            continue
        for event in found:
            at = moment(event.get("EventTime"))
            if at is None:
                continue
            who = str(event.get("Username") or "unknown principal")
            entries.append(
                TimelineEntry(
                    at=iso(at) or "",
                    kind="change",
                    text=redact_text(f"{event.get('EventName', 'change')} on {resource} by {who}"),
                    source="cloudtrail:LookupEvents",
                )
            )
    return entries, gaps


# -- the rest of the post-mortem -----------------------------------------------------------------


def _prevention(gathered: Gathered, roots: Sequence[Finding], archived: bool) -> list[str]:
    """Changes that would have stopped this incident or shortened it, from what was found."""
    out: list[str] = []
    unprotected = sorted(
        str(svc.get("serviceName"))
        for svc in gathered.services
        if not (
            ((svc.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}).get(
                "enable"
            )
            and (
                (svc.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
            ).get("rollback")
        )
    )
    if unprotected:
        out.append(
            "Enable the deployment circuit breaker with rollback on "
            + ", ".join(unprotected)
            + " (deploymentConfiguration.deploymentCircuitBreaker enable=true, rollback=true), "
            "so a deployment whose tasks cannot start is rolled back instead of retried forever."
        )
    kinds = {f.kind for f in roots}
    if kinds & _NETWORK_KINDS:
        out.append(
            "Manage the task network path (VPC endpoints, routes, security groups) in "
            "infrastructure code next to the service, so removing an endpoint the tasks need "
            "shows up in review."
        )
    if kinds & {"ecr_repository", "ecr_image", "image_uri"}:
        out.append(
            "Check in the deployment pipeline that the image exists in ECR before the task "
            "definition is registered, and deploy by digest."
        )
    if kinds & {"execution_role", "task_role", "iam_policy", "kms_key", "secret", "ssm_parameter"}:
        out.append(
            "Keep the execution role's policy and the secrets it reads in the same "
            "infrastructure-code stack as the task definition that references them."
        )
    out.append(
        "Alarm on SERVICE_TASK_START_IMPAIRED: an EventBridge rule on source aws.ecs, detail-type "
        '"ECS Service Action", detail.eventName SERVICE_TASK_START_IMPAIRED, notifying on-call.'
    )
    if not archived:
        out.append(
            "Archive ECS Task State Change events to a CloudWatch Logs group (EventBridge rule, "
            "see docs/reports.md): ECS forgets stopped tasks about an hour after they stop."
        )
    return out


def _impact(gathered: Gathered) -> list[Finding]:
    """What the failure did to each service, as ECS reported it when the report was written."""
    out: list[Finding] = []
    for svc in gathered.services:
        name = str(svc.get("serviceName") or "")
        arn = str(svc.get("serviceArn") or name)
        running, desired = int(svc.get("runningCount") or 0), int(svc.get("desiredCount") or 0)
        if running < desired:
            detail = f"Service {name} runs {running} of {desired} desired task(s)."
            out.append(
                Finding(
                    kind=Kind.SERVICE,
                    resource=arn,
                    summary=redact_text(detail),
                    evidence=(Evidence(arn, "ecs:DescribeServices", redact_text(detail)),),
                )
            )
        breaker = (svc.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
        for deployment in svc.get("deployments") or []:
            if deployment.get("rolloutState") != "FAILED":
                continue
            detail = (
                f"Deployment {deployment.get('id', '?')} of service {name} failed with "
                f"{int(deployment.get('failedTasks') or 0)} failed task(s)"
                + (
                    "; the circuit breaker rolled the service back to its previous revision."
                    if breaker.get("enable") and breaker.get("rollback")
                    else "."
                )
            )
            out.append(
                Finding(
                    kind=Kind.SERVICE_DEPLOYMENT,
                    resource=arn,
                    summary=redact_text(detail),
                    evidence=(Evidence(arn, "ecs:DescribeServices", redact_text(detail)),),
                )
            )
    return out


def _appendix(signals: Sequence[Signal]) -> tuple[list[RawSignal], int]:
    """Distinct signals (compared redacted, as a replay sees them) with their counts."""
    seen: dict[tuple[str, str], RawSignal] = {}
    for signal in signals:
        text = redact_text(signal.text)
        key = (signal.source.value, text)
        if key in seen:
            seen[key] = replace(seen[key], count=seen[key].count + 1)
            continue
        at = moment(signal.at) if signal.at else None
        seen[key] = RawSignal(
            source=signal.source.value,
            text=text,
            at=iso(at),
            subject=redact_text(signal.subject) if signal.subject else None,
        )
    ordered = sorted(seen.values(), key=lambda s: (s.at or "", s.source, s.text))
    return ordered[:APPENDIX_LIMIT], max(0, len(ordered) - APPENDIX_LIMIT)


def _duration(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _diagnose(
    reader: Reader | None,
    cluster: str | None,
    service: str | None,
    gathered: Gathered,
    kb: KnowledgeBase,
) -> Diagnosis:
    if reader is not None and cluster:
        from ecsdoctor.scan import diagnose_service, scan_cluster

        if service:
            return diagnose_service(service, cluster=cluster, reader=reader, knowledge=kb)
        return scan_cluster(cluster, reader=reader, knowledge=kb)
    if not gathered.signals:
        raise InputError(
            "nothing to report: the archives hold no failure message for this cluster/service "
            "in the window"
        )
    return diagnose_document(Document(signals=gathered.signals), kb)


def build_report(
    *,
    cluster: str | None = None,
    service: str | None = None,
    reader: Reader | None = None,
    archives: Sequence[str] = (),
    log_group: str | None = None,
    since: str | None = None,
    start: str | None = None,
    end: str | None = None,
    knowledge: KnowledgeBase | None = None,
    now: datetime | None = None,
    generated_at: datetime | None = None,
) -> IncidentReport:
    """Gather, diagnose and assemble the post-incident report.

    `reader` None means offline: archived events only. `now` defaults to the clock (or, in a
    replay, the recorded run's clock); `generated_at` to the real clock.
    """
    if reader is None and not archives:
        raise InputError("offline reports need archived events (--events PATH)")
    if reader is not None and not cluster:
        raise InputError("name the cluster (--cluster NAME)")
    kb = knowledge or load_knowledge()
    reference = reference_now(reader, now)
    span = parse_window(since, start, end, reference)
    gathered = gather(
        cluster=cluster,
        service=service,
        span=span,
        reader=reader,
        archives=archives,
        log_group=log_group,
    )
    diagnosis = _diagnose(reader, cluster, service, gathered, kb)
    roots = [_clean_finding(f) for f in diagnosis.root_causes]
    subject = diagnosis.subject.arn

    groups = group_failures(gathered.tasks)
    failing = {t.arn: t for g in groups for t in g}
    stamps = [t.at for t in failing.values() if t.at is not None]
    timeline = _failure_entries(groups) + _deployment_entries(gathered, span)
    failure_times: list[datetime] = stamps + [
        at for e in timeline if e.kind in ("failure", "rollback") and (at := moment(e.at))
    ]
    service_entries, recovered_at = _event_entries(
        gathered.events, kb, max(failure_times, default=None)
    )
    timeline += service_entries
    failure_times += [
        at for e in service_entries if e.kind == "failure" and (at := moment(e.at)) is not None
    ]
    first_failure = min(failure_times, default=None)
    last_failure = max(failure_times, default=None)
    back = _task_recovery(gathered.tasks, last_failure)
    if (
        back is not None
        and back.at is not None
        and (recovered_at is None or back.at < recovered_at)
    ):
        recovered_at = back.at
        timeline.append(
            TimelineEntry(
                at=iso(back.at) or "",
                kind="recovery",
                text=redact_text(
                    f"A task of {('service ' + back.service) if back.service else 'the cluster'} "
                    f"is RUNNING again ({short_label(back.task_definition or back.arn)})."
                ),
                source=back.source,
            )
        )
    gaps = list(diagnosis.data_gaps) + list(gathered.gaps)
    if reader is not None and roots:
        lookback = span.start or ((first_failure or span.end) - timedelta(hours=24))
        changes, change_gaps = _changes(reader, roots, lookback, span.end)
        timeline += changes
        gaps += change_gaps
    timeline.sort(key=lambda e: (e.at, _KIND_ORDER.get(e.kind, 9), e.text))

    services = sorted(
        {t.service for t in failing.values() if t.service}
        | {s.name for s in diagnosis.services if not s.healthy}
        | ({diagnosis.subject.service} if diagnosis.subject.service else set())
    )
    ended = recovered_at or (span.end if first_failure else None)
    if groups:
        top = max(groups, key=len)
        what = (
            f"{len(failing)} task(s) of "
            + (", ".join(f"service {s}" for s in services) if services else "the cluster")
            + f" failed; the most frequent failure ({len(top)} task(s)): {top[-1].example}"
        )
    elif diagnosis.services and any(not s.healthy for s in diagnosis.services):
        what = "; ".join(
            f"{s.name}: {', '.join(s.problems)}" for s in diagnosis.services if not s.healthy
        )
    elif any(e.kind in ("failure", "rollback") for e in timeline):
        what = next(e.text for e in timeline if e.kind in ("failure", "rollback"))
    else:
        what = "No failed task or failure event was found in the window."
    if roots:
        cause = roots[0].summary
    elif diagnosis.offline and diagnosis.hypotheses:
        cause = (
            "Not confirmed (archived events only, no AWS check ran); most likely: "
            + diagnosis.hypotheses[0].claim
        )
    else:
        cause = "No root cause was confirmed; see the hypotheses ruled out and the data gaps."
    name = service or diagnosis.subject.service
    where = diagnosis.subject.cluster or cluster
    title = (
        f"service {name} in cluster {where}"
        if name and where
        else f"cluster {where}"
        if where
        else "ECS tasks"
    )
    summary = Summary(
        title=redact_text(f"Incident report: {title}"),
        what_failed=redact_text(what),
        services=tuple(services),
        failed_tasks=len(failing),
        first_failure=iso(first_failure),
        recovered_at=iso(recovered_at),
        ended=iso(ended),
        duration_seconds=_duration(first_failure, ended),
        root_cause=redact_text(cause),
    )
    remediation = list(dict.fromkeys(f.remediation for f in roots if f.remediation))
    if not roots and diagnosis.offline:
        remediation = list(dict.fromkeys(redact_text(h.remediation) for h in diagnosis.hypotheses))[
            :3
        ]
    appendix, omitted = _appendix(list(diagnosis.signals) + list(gathered.signals))
    unique_gaps = list(dict.fromkeys(replace(g, reason=redact_text(g.reason)) for g in gaps))
    notes = [redact_text(n) for n in (*gathered.notes, *diagnosis.notes)]
    return IncidentReport(
        generated_at=iso(generated_at or datetime.now(UTC)) or "",
        cluster=where,
        service=name,
        region=diagnosis.subject.region,
        account=diagnosis.subject.account,
        window=Window(iso(span.start), iso(span.end) or ""),
        sources=tuple(redact_text(s) for s in gathered.sources),
        summary=summary,
        timeline=tuple(timeline),
        root_causes=tuple(RootCause(f, *dependency_path(f, subject)) for f in roots),
        consequences=tuple([_clean_finding(f) for f in diagnosis.consequences] + _impact(gathered)),
        ruled_out=tuple(_clean_finding(f) for f in diagnosis.ruled_out),
        data_gaps=tuple(unique_gaps),
        remediation=tuple(remediation),
        prevention=tuple(_prevention(gathered, roots, bool(archives or log_group))),
        appendix=tuple(appendix),
        diagnosis=diagnosis,
        offline=reader is None,
        api_calls=reader.api_calls if reader is not None else 0,
        notes=tuple(notes),
        appendix_omitted=omitted,
    )


__all__ = ["build_report", "dependency_path", "iso", "short_label"]
