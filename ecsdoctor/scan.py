"""Services and clusters: from the service's symptoms down to the root cause of its tasks.

A service's stopped tasks are grouped by their normalised failure; each distinct failure is
diagnosed once, on its newest task, with the task checks, and the service checks (deployment,
load balancer, placement) run on the service itself. A cluster scan lists every service and
every stopped task of the cluster once (100 a page), describes services 10 and tasks 100 per
request, reads target groups 20 per request and target health only where the service's own
evidence names its targets, then diagnoses the unhealthy services through one memoised reader,
so shared subnets, endpoints, roles and repositories are read once. Services that fail the same
way on the same resources (`failure_signature`) share one task diagnosis: a deleted log group
breaking forty services is diagnosed once and reported with all forty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3.session

from ecsdoctor.arn import TaskRef, parse_arn, parse_cluster_name, parse_service_ref
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.rounds import rounds_of
from ecsdoctor.aws.session import reader_for
from ecsdoctor.checks import ServiceContext, along, service_checks, symptom_ids
from ecsdoctor.diagnose import cluster_name, run_task_checks, task_facts
from ecsdoctor.errors import AwsSetupError, ReadError
from ecsdoctor.graph import FailurePath, ResourceGraph, build_service_graph
from ecsdoctor.ingest import SignalBuilder
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kinds import Kind
from ecsdoctor.models import (
    CheckResult,
    Diagnosis,
    FailureGroup,
    Finding,
    Match,
    ServiceStatus,
    Severity,
    Signal,
    SignalSource,
    Status,
    Subject,
    SubjectType,
)
from ecsdoctor.pipeline import (
    Collected,
    assemble,
    captures_of,
    failure_kinds,
    hypothesis_checks,
    load_knowledge,
)
from ecsdoctor.redaction import redact
from ecsdoctor.service import (
    ServiceSnapshot,
    TaskGroup,
    describe_services,
    group_tasks,
    list_service_names,
    normalize_reason,
    prefetch_target_groups,
    stopped_at,
    stopped_tasks,
    task_example,
    task_failure_key,
    timestamp,
)
from ecsdoctor.snapshot import TaskSnapshot

Raw = Mapping[str, Any]

MAX_GROUPS = 5  # distinct failures diagnosed live per service; the rest are listed
MAX_EVENTS = 40  # distinct (normalised) service events kept as signals
STUCK_AFTER = 3600.0  # seconds a rollout may stay IN_PROGRESS before a scan calls it stuck
# Failure kinds that make a scan read a service's target health (else it is not worth a request).
TARGET_KINDS = frozenset({Kind.TARGET_GROUP, Kind.LOAD_BALANCER})
# Captures naming the service itself, not what its tasks depend on: no part of a signature.
_OWN_CAPTURES = frozenset({"service", "task", "target_group"})

Signature = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SharedDiagnosis:
    """One distinct failure's task checks, run on one task, shared by every service failing so."""

    snap: TaskSnapshot
    results: tuple[CheckResult, ...]


def _attachment_subnet(task: Raw) -> str | None:
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "subnetId" and detail.get("value"):
                return str(detail["value"])
    return None


def failure_signature(task: Raw, svc: ServiceSnapshot, matches: Sequence[Match]) -> Signature:
    """What two services' failures must share for one task diagnosis to answer for both.

    The same failure (normalised stop code, reasons, exit codes), the same knowledge entries
    matched (so the same checks are chosen) with the same captured values, and the same
    resources the checks read: task definition revision (image, roles, logs, secrets), launch
    type and platform, the subnet the task landed in and the service's network configuration.
    Anything that differs gets its own diagnosis; the service checks always run per service.
    """
    vpc = svc.awsvpc
    captures = captures_of(matches)
    return (
        task_failure_key(task),
        str(task.get("taskDefinitionArn") or ""),
        str(task.get("launchType") or svc.launch_type or ""),
        str(task.get("platformVersion") or ""),
        str(task.get("capacityProviderName") or ""),
        str((task.get("overrides") or {}).get("taskRoleArn") or ""),
        str((task.get("overrides") or {}).get("executionRoleArn") or ""),
        _attachment_subnet(task),
        svc.cluster_arn,
        tuple(sorted(str(x) for x in vpc.get("subnets") or [])),
        tuple(sorted(str(x) for x in vpc.get("securityGroups") or [])),
        str(vpc.get("assignPublicIp") or ""),
        frozenset(m.entry for m in matches),
        tuple(sorted((k, v) for k, v in captures.items() if k not in _OWN_CAPTURES)),
    )


@dataclass(slots=True)
class _ServiceRun:
    """One service diagnosed: its signals and matches, checks, groups and status."""

    svc: ServiceSnapshot
    signals: list[Signal]
    matches: list[Match]
    results: list[CheckResult]
    groups: list[FailureGroup]
    group_results: dict[str, list[CheckResult]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    graph: ResourceGraph | None = None
    path: FailurePath | None = None


def _is_failure(task: Raw, kb: KnowledgeBase) -> bool:
    """A stopped task failed unless everything it says is a known informational message."""
    builder = SignalBuilder("task")
    builder.add(dict(task), "task")
    if not builder.signals:
        return False
    matches = kb.match_all(builder.signals)
    if any(m.severity is Severity.FAILURE for m in matches):
        return True
    matched = {m.signal for m in matches}
    # An unrecognised reason is shown as a failure: silence would hide it.
    return any(
        i not in matched and s.source.value in ("stopped_reason", "container_reason")
        for i, s in enumerate(builder.signals)
    )


def _failure_group(group: TaskGroup, service: str | None) -> FailureGroup:
    stamps = sorted(t for t in map(stopped_at, group.tasks) if t is not None)
    ran = [
        stop - start
        for t in group.tasks
        if (start := timestamp(t.get("startedAt"))) is not None
        and (stop := timestamp(t.get("stoppingAt") or t.get("stoppedAt"))) is not None
    ]
    return FailureGroup(
        reason=redact(group.key),
        example=task_example(group.newest),
        count=len(group.tasks),
        first_seen=datetime.fromtimestamp(stamps[0], UTC).isoformat() if stamps else None,
        last_seen=datetime.fromtimestamp(stamps[-1], UTC).isoformat() if stamps else None,
        tasks=tuple(str(t.get("taskArn")) for t in group.tasks[:5]),
        service=service,
        task_definitions=tuple(sorted({str(t.get("taskDefinitionArn")) for t in group.tasks})),
        diagnosed_task=str(group.newest.get("taskArn")),
        ran_for=min(ran) if ran else None,
    )


def _service_signals(service: Raw, builder: SignalBuilder) -> None:
    """Distinct service events (newest first in ECS, kept oldest first) and failed rollouts."""
    seen: set[str] = set()
    kept: list[Raw] = []
    for event in service.get("events") or []:
        key = normalize_reason(str(event.get("message", "")))
        if key in seen:
            continue
        seen.add(key)
        kept.append(event)
        if len(kept) >= MAX_EVENTS:
            break
    builder.add({**service, "events": kept}, "service")


def _entries(signals: Sequence[Signal], kb: KnowledgeBase) -> frozenset[str]:
    return frozenset(m.entry for m in kb.match_all(signals))


def _run_service(
    svc: ServiceSnapshot,
    tasks: Sequence[Raw],
    failed: Sequence[Raw],
    kb: KnowledgeBase,
    extra_signals: Sequence[Signal] = (),
    thorough: bool = False,
    shared: dict[Signature, SharedDiagnosis] | None = None,
) -> _ServiceRun:
    """Diagnose one service: its events, its distinct task failures, its own settings.

    `tasks` are the service's stopped tasks, `failed` those of them that failed; the checks that
    run are those on the failure's path through the service's dependency graph. `shared` holds
    the task diagnoses of a scan's earlier services by `failure_signature`: a failure already
    diagnosed there is not diagnosed again.
    """
    shared = {} if shared is None else shared
    aws, service, region, account = svc.reader, svc.raw, svc.region, svc.account
    builder = SignalBuilder("service")
    _service_signals(service, builder)
    task_groups = group_tasks(failed)
    groups = [_failure_group(g, svc.name) for g in task_groups]
    notes: list[str] = []
    if not tasks:
        notes.append(
            f"ECS holds no stopped tasks of service {svc.name} (it forgets them about an hour "
            "after they stop): diagnosed from the service events and settings alone"
        )
    elif not failed:
        notes.append(f"the {len(tasks)} stopped task(s) of {svc.name} stopped normally")
    if len(task_groups) > MAX_GROUPS:
        notes.append(
            f"{len(task_groups)} distinct task failures; the {MAX_GROUPS} largest were "
            "diagnosed live"
        )
    snaps: list[tuple[FailureGroup, TaskSnapshot]] = []
    group_entries: dict[str, frozenset[str]] = {}
    for group, task_group in list(zip(groups, task_groups, strict=True))[:MAX_GROUPS]:
        task = task_group.newest
        ref = TaskRef(str(task.get("taskArn")), svc.cluster_arn, region, account)
        snaps.append((group, TaskSnapshot(aws, ref, task=task, service=service)))
        before = len(builder.signals)
        builder.add(dict(task), "task")
        group_entries[group.reason] = _entries(builder.signals[before:], kb)
    signals = [*extra_signals, *builder.signals]
    matches = kb.match_all(signals)
    if not snaps and _failing(svc, matches):
        # No stopped task left to read: check what the service's next task would need instead.
        stand_in = _stand_in_task(svc)
        ref = TaskRef(str(stand_in["taskArn"]), svc.cluster_arn, region, account)
        snaps.append((_STAND_IN_GROUP, TaskSnapshot(aws, ref, task=stand_in, service=service)))
        notes.append(
            "the task checks ran on the service's current task definition and network "
            "configuration (no stopped task to read)"
        )
    keys = [failure_signature(snap.task, svc, matches) for _, snap in snaps]
    todo: dict[Signature, TaskSnapshot] = {}
    for key, (_, snap) in zip(keys, snaps, strict=True):
        if key not in shared:
            todo.setdefault(key, snap)
    runs = aws.parallel(
        [
            partial(run_task_checks, snap, signals, matches, kb, thorough=thorough)
            for snap in todo.values()
        ]
    )
    for (key, snap), answer in zip(todo.items(), runs, strict=True):
        found = () if isinstance(answer, ReadError) else answer.results
        shared[key] = SharedDiagnosis(snap, tuple(found))
    diagnosed = [shared[key] for key in keys]
    group_results: dict[str, list[CheckResult]] = {}
    for (group, _), done in zip(snaps, diagnosed, strict=True):
        group_results[group.reason] = list(done.results)
    svc.prefetch()
    # The snapshots that were read (another service's, for a shared failure): reading this
    # service's own task again would cost the requests the sharing saved.
    graph = build_service_graph(svc, [done.snap for done in diagnosed])
    path = graph.failure_path(failure_kinds(matches, kb, signals))
    named = hypothesis_checks(matches, kb)
    ctx = ServiceContext(
        svc,
        tuple(groups),
        frozenset(m.entry for m in matches),
        captures_of(matches),
        group_entries=group_entries,
        event_entries=tuple(
            m.entry for m in matches if signals[m.signal].source is SignalSource.SERVICE_EVENT
        ),
    )
    chosen = along(service_checks(), path, named, thorough)
    results: list[CheckResult] = [r for rs in group_results.values() for r in rs]
    for batch in aws.parallel([partial(c.run, ctx) for c in chosen]):
        if isinstance(batch, list):
            results.extend(batch)
    facts: dict[str, object] = {
        "region": region,
        "account": account,
        "cluster": svc.cluster_arn,
        "service": svc.name,
        "subnet_ids": list(svc.awsvpc.get("subnets") or []) or None,
        "security_group_ids": list(svc.awsvpc.get("securityGroups") or []) or None,
        "task_definition_arn": svc.task_definition_arn or None,
    }
    if snaps:
        own = {"task_arn": snaps[0][1].task_arn, **{k: v for k, v in facts.items() if v}}
        facts = {**task_facts(diagnosed[0].snap), **own}
    return _ServiceRun(
        svc, signals, matches, results, groups, group_results, notes, facts, graph, path
    )


_STAND_IN_GROUP = FailureGroup(
    reason="(service configuration)", example="", count=0, first_seen=None, last_seen=None, tasks=()
)


def _failing(svc: ServiceSnapshot, matches: Sequence[Match]) -> bool:
    """The service shows a failure: a failed rollout, a failure event, or missing tasks."""
    primary = svc.primary or {}
    return (
        primary.get("rolloutState") == "FAILED"
        or any(m.severity is Severity.FAILURE for m in matches)
        or svc.running < svc.desired
    )


def _stand_in_task(svc: ServiceSnapshot) -> dict[str, Any]:
    """A task as the service would launch it now: its task definition, its network settings."""
    deployment = (svc.primary or {}).get("id") or "primary"
    return {
        "taskArn": f"{svc.arn}#{deployment}",
        "taskDefinitionArn": svc.task_definition_arn,
        "clusterArn": svc.cluster_arn,
        "group": f"service:{svc.name}",
        "lastStatus": "PROVISIONING",
        "attachments": [],
        "containers": [],
    }


def _with_causes(run: _ServiceRun, roots: Sequence[Finding]) -> list[FailureGroup]:
    """Each failure group with the root causes its own task's checks confirmed."""
    keys = {f.key for f in roots}
    out = []
    for group in run.groups:
        causes: list[str] = []
        for r in run.group_results.get(group.reason, []):
            key = f"{r.kind}:{r.resource}"
            if r.status is Status.CONFIRMED and key in keys and key not in causes:
                causes.append(key)
        out.append(replace(group, causes=tuple(causes)))
    return out


def diagnose_service(
    service: str,
    *,
    cluster: str | None = None,
    session: boto3.session.Session | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    deadline: float | None = None,
    knowledge: KnowledgeBase | None = None,
    reader: Reader | None = None,
    extra_signals: Sequence[Signal] = (),
    thorough: bool = False,
) -> Diagnosis:
    """Diagnose a failing service live, read-only: events, deployments, stopped tasks, targets.

    `extra_signals` are messages from elsewhere about this service (a saved EventBridge event).
    """
    kb = knowledge or load_knowledge()
    ref = parse_service_ref(service, cluster)
    aws = reader_for(
        reader,
        session=session,
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        role_arn=role_arn,
        deadline=deadline,
        region_hint=ref.region,
    )
    services, missing = describe_services(aws, ref.cluster, [ref.name], ref.region)
    if not services or missing:
        raise AwsSetupError(
            f"service {ref.name!r} not found in cluster {ref.cluster} "
            f"({ref.region or aws.region}): check the name, the cluster and the region"
        )
    raw = services[0]
    arn = parse_arn(str(raw.get("serviceArn")))
    region_name = (arn.region if arn else None) or ref.region or aws.region
    account = (arn.account if arn else None) or ref.account or aws.account or ""
    try:
        tasks = stopped_tasks(aws, str(raw.get("clusterArn")), ref.region, ref.name)
    except ReadError as err:
        raise AwsSetupError(f"cannot list the service's stopped tasks: {err}") from err
    mine = [t for t in tasks if t.get("group") == f"service:{ref.name}"]
    svc = ServiceSnapshot(aws, raw, region_name, account)
    failed = [t for t in mine if _is_failure(t, kb)]
    run = _run_service(svc, mine, failed, kb, extra_signals, thorough)
    diagnosis = assemble(
        Collected(
            subject=Subject(
                type=SubjectType.SERVICE,
                arn=run.svc.arn,
                cluster=cluster_name(run.svc.cluster_arn),
                service=run.svc.name,
                region=region_name,
                account=account or None,
            ),
            signals=tuple(run.signals),
            matches=tuple(run.matches),
            results=tuple(run.results),
            graph=run.graph,
            path=run.path,
            symptoms=symptom_ids(),
            facts=run.facts,
            notes=tuple(run.notes),
            api_calls=aws.api_calls,
            rounds=rounds_of(aws),
        ),
        kb,
    )
    return replace(diagnosis, failure_groups=tuple(_with_causes(run, diagnosis.root_causes)))


# -- cluster scan ------------------------------------------------------------------------------


def _names_targets(svc: ServiceSnapshot, failed: Sequence[Raw], kb: KnowledgeBase) -> bool:
    """The service's events or failed tasks point at its load balancer's targets.

    Only then does a scan read the service's target health: ECS replaces a task whose targets
    fail their health checks and says so in an event and the task's stopped reason, so a
    service with no such evidence is not worth one DescribeTargetHealth per target group.
    """
    if not svc.load_balancers:
        return False
    builder = SignalBuilder("service")
    _service_signals(svc.raw, builder)
    for group in group_tasks(failed):
        builder.add(dict(group.newest), "task")
    matches = kb.match_all(builder.signals)
    return bool(failure_kinds(matches, kb, builder.signals) & TARGET_KINDS)


def _symptoms(
    svc: ServiceSnapshot, failed: int, kb: KnowledgeBase, now: float, targets: bool
) -> list[str]:
    """Why a scan calls a service unhealthy; empty for a healthy one.

    `targets`: read the target health (the service's evidence names its targets).
    """
    problems: list[str] = []
    primary = svc.primary or {}
    state = primary.get("rolloutState")
    if state == "FAILED":
        problems.append(f"deployment FAILED ({primary.get('rolloutStateReason') or 'no reason'})")
    elif state == "IN_PROGRESS":
        started = timestamp(primary.get("createdAt"))
        if started is not None and now - started > STUCK_AFTER:
            problems.append(f"deployment in progress for {int((now - started) // 60)} min")
    if svc.running < svc.desired:
        problems.append(f"running {svc.running} of {svc.desired}")
    if failed:
        problems.append(f"{failed} failed task(s) in the last hour")
    latest = svc.events[:1]
    if latest:
        message = str(latest[0].get("message", ""))
        top = kb.match(Signal(source=SignalSource.SERVICE_EVENT, text=message))
        if top is not None and top.severity is Severity.FAILURE:
            problems.append(f"latest event: {message[:160]}")
    if targets and svc.running > 0:
        for arn in svc.target_groups:
            health = svc.target_health(arn)
            bad = [h for h in health if (h.get("TargetHealth") or {}).get("State") == "unhealthy"]
            if bad:
                problems.append(f"{len(bad)} unhealthy target(s) in {arn.rsplit('/', 2)[-2]}")
    return problems


def _read_target_health(
    aws: Reader, region: str | None, services: Sequence[ServiceSnapshot]
) -> None:
    """Target groups of `services` in bulk, then each group's target health, concurrently."""
    prefetch_target_groups(aws, region, services)
    reads: list[Callable[[], object]] = []
    for svc in services:
        try:
            groups = svc.target_groups
        except ReadError:
            continue  # its symptoms read it again and say what could not be read
        reads.extend(partial(svc.target_health, arn) for arn in groups)
    aws.parallel(reads)


def _cluster_region(cluster: str | None) -> str | None:
    """The region of a cluster ARN (`scan --cluster arn:...` needs no --region)."""
    arn = parse_arn(cluster) if cluster else None
    return arn.region if arn else None


def _cluster_names(aws: Reader, cluster: str | None, region: str | None) -> list[str]:
    if cluster:
        return [parse_cluster_name(cluster)]
    try:
        return list(aws.pages("ecs", "ListClusters", "clusterArns", region=region))
    except ReadError as err:
        raise AwsSetupError(f"cannot list clusters: {err}") from err


def scan_cluster(
    cluster: str | None = None,
    *,
    all_clusters: bool = False,
    session: boto3.session.Session | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    deadline: float | None = None,
    knowledge: KnowledgeBase | None = None,
    reader: Reader | None = None,
    thorough: bool = False,
) -> Diagnosis:
    """Every service of a cluster (or of every cluster): which are unhealthy, and why, grouped."""
    if not cluster and not all_clusters:
        raise AwsSetupError("name a cluster, or scan all clusters")
    kb = knowledge or load_knowledge()
    aws = reader_for(
        reader,
        session=session,
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        role_arn=role_arn,
        deadline=deadline,
        region_hint=_cluster_region(cluster),
    )
    account = aws.account or ""
    region_name = aws.region
    now = datetime.now(UTC).timestamp()
    statuses: list[ServiceStatus] = []
    runs: list[_ServiceRun] = []
    notes: list[str] = []
    shared: dict[Signature, SharedDiagnosis] = {}
    for name in _cluster_names(aws, cluster, region):
        arns = list_service_names(aws, name, region)
        if not arns:
            notes.append(f"cluster {cluster_name(name)} has no services")
            continue
        services, _ = describe_services(aws, name, arns, region)
        try:
            tasks = stopped_tasks(aws, name, region)
        except ReadError as err:
            raise AwsSetupError(f"cannot list the stopped tasks of {name}: {err}") from err
        by_group: dict[str, list[Raw]] = {}
        for task in tasks:
            by_group.setdefault(str(task.get("group")), []).append(task)
        snaps = [ServiceSnapshot(aws, raw, region_name, account) for raw in services]
        own = {svc.name: by_group.get(f"service:{svc.name}", []) for svc in snaps}
        failed = {key: [t for t in mine if _is_failure(t, kb)] for key, mine in own.items()}
        suspects = [s for s in snaps if s.running > 0 and _names_targets(s, failed[s.name], kb)]
        _read_target_health(aws, region, suspects)
        suspected = {s.name for s in suspects}
        failing: list[ServiceSnapshot] = []
        for svc in snaps:
            try:
                problems = _symptoms(svc, len(failed[svc.name]), kb, now, svc.name in suspected)
            except ReadError as err:
                problems = [f"could not read target health ({err.permission})"]
            if problems:
                failing.append(svc)
            statuses.append(
                ServiceStatus(
                    name=svc.name,
                    arn=svc.arn,
                    healthy=not problems,
                    desired=svc.desired,
                    running=svc.running,
                    rollout_state=(svc.primary or {}).get("rolloutState"),
                    problems=tuple(problems),
                    failed_tasks=len(failed[svc.name]),
                )
            )
        prefetch_target_groups(aws, region, failing)
        for svc in failing:
            run = _run_service(
                svc, own[svc.name], failed[svc.name], kb, thorough=thorough, shared=shared
            )
            runs.append(run)
    signals: list[Signal] = []
    matches: list[Match] = []
    results: list[CheckResult] = []
    for run in runs:
        offset = len(signals)
        signals.extend(run.signals)
        matches.extend(replace(m, signal=m.signal + offset) for m in run.matches)
        results.extend(run.results)
    unhealthy = sum(1 for s in statuses if not s.healthy)
    notes.insert(0, f"{len(statuses)} service(s) scanned, {unhealthy} unhealthy")
    facts = runs[0].facts if len(runs) == 1 else {"region": region_name, "account": account}
    diagnosis = assemble(
        Collected(
            subject=Subject(
                type=SubjectType.CLUSTER,
                arn=None,
                cluster=cluster_name(cluster) if cluster else None,
                region=region_name,
                account=account or None,
            ),
            signals=tuple(signals),
            matches=tuple(matches),
            results=tuple(results),
            symptoms=symptom_ids(),
            facts=facts,
            notes=tuple(notes),
            api_calls=aws.api_calls,
            rounds=rounds_of(aws),
        ),
        kb,
    )
    # Which services each root cause breaks: a shared endpoint can break twelve of them.
    affected: dict[str, list[str]] = {}
    causes_of: dict[str, list[str]] = {}
    groups: list[FailureGroup] = []
    for run in runs:
        mine = {f"{r.kind}:{r.resource}" for r in run.results if r.status is Status.CONFIRMED}
        for finding in diagnosis.root_causes:
            if finding.key in mine:
                affected.setdefault(finding.key, []).append(run.svc.name)
                causes_of.setdefault(run.svc.name, []).append(finding.key)
        groups.extend(_with_causes(run, diagnosis.root_causes))
    roots = sorted(
        (replace(f, affected=tuple(affected.get(f.key, ()))) for f in diagnosis.root_causes),
        key=lambda f: -len(f.affected),
    )
    statuses = [replace(s, causes=tuple(causes_of.get(s.name, ()))) for s in statuses]
    statuses.sort(key=lambda s: (s.healthy, s.name))
    return replace(
        diagnosis,
        root_causes=tuple(roots),
        failure_groups=tuple(groups),
        services=tuple(statuses),
    )


__all__ = ["MAX_GROUPS", "SharedDiagnosis", "diagnose_service", "failure_signature", "scan_cluster"]
