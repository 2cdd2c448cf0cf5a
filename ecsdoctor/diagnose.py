"""Live diagnosis of one task or one saved event: short collectors over the pipeline.

A collector reads the subject through one Reader, walks the dependency graph from the task to the
resource kinds its failure names, runs the checks on that path, and hands everything to
`pipeline.assemble`. Saved events diagnosed offline live in `ecsdoctor.offline`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import boto3.session

from ecsdoctor.arn import parse_task_ref
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.rounds import rounds_of
from ecsdoctor.aws.session import reader_for
from ecsdoctor.checks import AnyCheck, CheckContext, along, symptom_ids, task_checks
from ecsdoctor.errors import ReadError
from ecsdoctor.graph import FailurePath, ResourceGraph, build_task_graph
from ecsdoctor.ingest import SignalBuilder
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import CheckResult, Diagnosis, Match, Signal, Subject, SubjectType
from ecsdoctor.offline import diagnose_document, diagnose_events
from ecsdoctor.pipeline import (
    Collected,
    assemble,
    captures_of,
    failure_kinds,
    hypothesis_checks,
    load_knowledge,
)
from ecsdoctor.snapshot import TaskSnapshot


def declared_reads_of(checks: Iterable[AnyCheck]) -> frozenset[str]:
    """Every read the checks declare: what is worth prefetching for them."""
    return frozenset(op for c in checks for op in c.reads)


@dataclass(frozen=True, slots=True)
class TaskRun:
    """The checks of one task, run along its failure's path, with the graph that chose them."""

    results: tuple[CheckResult, ...]
    graph: ResourceGraph
    path: FailurePath
    ran: tuple[str, ...]  # ids of the checks that ran


def run_task_checks(
    snap: TaskSnapshot,
    signals: Sequence[Signal],
    matches: Sequence[Match],
    kb: KnowledgeBase,
    *,
    thorough: bool = False,
) -> TaskRun:
    """Walk from the task to the kinds its failure names; run the checks on that path.

    With `thorough`, the checks off the path run too: what they confirm is reported as other
    problems (real, and likely to bite next), never as this failure's root cause.
    """
    kinds = failure_kinds(matches, kb, signals)
    named = hypothesis_checks(matches, kb)
    checks = task_checks()
    # The critical path, in waves (see TaskSnapshot.prefetch): the task's own reads; then the
    # network and whatever the task definition names that a check on the failure's path could
    # read (walked before the network is read, so that wave needs no round of its own); then
    # the deeper reads of the checks the whole graph chooses. The checks run on answers in hand.
    snap.prefetch_task()
    early = build_task_graph(snap.without_network()).failure_path(kinds)
    snap.prefetch_dependencies(declared_reads_of(along(checks, early, named, thorough)))
    graph = build_task_graph(snap)
    path = graph.failure_path(kinds)
    chosen = along(checks, path, named, thorough)
    snap.prefetch_path(declared_reads_of(chosen))
    ctx = CheckContext(snap, captures_of(matches), frozenset(m.entry for m in matches))
    results: list[CheckResult] = []
    for batch in snap.reader.parallel([partial(c.run, ctx) for c in chosen]):
        if isinstance(batch, list):
            results.extend(batch)
    return TaskRun(tuple(results), graph, path, tuple(c.id for c in chosen))


def task_facts(snap: TaskSnapshot) -> dict[str, object]:
    """What remediation templates may name about a task (`{subnet_ids}`, `{execution_role_arn}`)."""
    facts: dict[str, object] = {
        "region": snap.region,
        "account": snap.account,
        "cluster": snap.cluster_arn,
        "service": snap.service_name,
        "task_arn": snap.task_arn,
        "task_definition_arn": snap.task_definition_arn,
    }
    try:
        network = snap.network
        facts["execution_role_arn"] = snap.execution_role_arn
        facts["task_role_arn"] = snap.task_role_arn
    except ReadError:
        return facts
    facts["subnet_ids"] = list(network.subnet_ids) if network else None
    facts["security_group_ids"] = list(network.security_group_ids) if network else None
    return facts


def cluster_name(cluster_arn: str) -> str:
    """The cluster name from its ARN (or the name itself)."""
    return cluster_arn.rsplit("/", 1)[-1]


def _task_signals(task: Mapping[str, Any]) -> tuple[Signal, ...]:
    builder = SignalBuilder("task")
    builder.add(dict(task), "task")
    return tuple(builder.signals)


def diagnose_snapshot(
    snap: TaskSnapshot, signals: tuple[Signal, ...], kb: KnowledgeBase, thorough: bool = False
) -> Diagnosis:
    """The diagnosis of a task already read (live, or from a saved event) given its signals."""
    matches = tuple(kb.match_all(signals))
    run = run_task_checks(snap, signals, matches, kb, thorough=thorough)
    notes: list[str] = []
    try:
        network = snap.network
    except ReadError as err:
        network = None
        notes.append(f"the task's network settings could not be read ({err.permission})")
    if network and network.source != "ec2:DescribeNetworkInterfaces":
        notes.append(
            f"the task's network interface is gone; its network settings come from {network.source}"
        )
    return assemble(
        Collected(
            subject=Subject(
                type=SubjectType.TASK,
                arn=snap.task_arn,
                cluster=cluster_name(snap.cluster_arn),
                service=snap.service_name,
                region=snap.region,
                account=snap.account or None,
            ),
            signals=signals,
            matches=matches,
            results=run.results,
            graph=run.graph,
            path=run.path,
            symptoms=symptom_ids(),
            facts=task_facts(snap),
            notes=tuple(notes),
            api_calls=snap.reader.api_calls,
            rounds=rounds_of(snap.reader),
        ),
        kb,
    )


def diagnose_task(
    task: str,
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
    thorough: bool = False,
) -> Diagnosis:
    """Diagnose one task live, read-only: its signals, each hypothesis checked, the root cause."""
    kb = knowledge or load_knowledge()
    ref = parse_task_ref(task, cluster)
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
    snap = TaskSnapshot(aws, ref)
    return diagnose_snapshot(snap, _task_signals(snap.task), kb, thorough)


__all__ = [
    "TaskRun",
    "cluster_name",
    "diagnose_document",
    "diagnose_events",
    "diagnose_snapshot",
    "diagnose_task",
    "load_knowledge",
    "run_task_checks",
    "task_facts",
]
