"""The library entry points: ingest -> match -> (graph -> checks -> ranking) -> Diagnosis.

Offline diagnosis stops after matching and reports the knowledge hypotheses unconfirmed; live
diagnosis (`diagnose_task`) checks each hypothesis with read-only AWS calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from ecsdoctor.ingest import Document, parse_document, read_source
from ecsdoctor.kb import KnowledgeBase, load_entries, render_template
from ecsdoctor.models import (
    CheckResult,
    DataGap,
    Diagnosis,
    Evidence,
    Finding,
    Hypothesis,
    Match,
    Severity,
    Status,
    Subject,
)

if TYPE_CHECKING:
    from ecsdoctor.aws.protocol import Reader
    from ecsdoctor.snapshot import TaskSnapshot


@cache
def _default_knowledge() -> KnowledgeBase:
    return KnowledgeBase(load_entries(known_checks=known_check_ids()))


def known_check_ids() -> frozenset[str] | None:
    """Ids of the registered live checks (knowledge hypotheses may only name these)."""
    try:
        from ecsdoctor.checks import REGISTRY
    except ImportError:  # pragma: no cover - checks arrive with live diagnosis
        return None
    return frozenset(REGISTRY)


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base: the shipped one (cached), or the entries under `directory`."""
    if directory is None:
        return _default_knowledge()
    return KnowledgeBase(load_entries(Path(directory), known_checks=known_check_ids()))


def offline_hypotheses(
    matches: Sequence[Match], kb: KnowledgeBase, facts: Mapping[str, object]
) -> tuple[Hypothesis, ...]:
    """The hypotheses of every failure entry matched, each once, remediation filled in."""
    result: list[Hypothesis] = []
    seen: set[tuple[str, str]] = set()
    for match in sorted(matches, key=lambda m: (-m.priority, m.signal)):
        if match.severity is Severity.INFO:
            continue
        entry = kb.by_id[match.entry]
        values = {**facts, **match.captures}
        for spec in entry.hypotheses:
            if (entry.id, spec.id) in seen:
                continue
            seen.add((entry.id, spec.id))
            result.append(
                Hypothesis(
                    entry=entry.id,
                    id=spec.id,
                    claim=render_template(spec.claim, values),
                    kinds=spec.kinds,
                    remediation=render_template(spec.remediation, values),
                )
            )
    return tuple(result)


def diagnose_document(document: Document, knowledge: KnowledgeBase | None = None) -> Diagnosis:
    """Offline diagnosis of an ingested document: knowledge matches and open hypotheses."""
    kb = knowledge or load_knowledge()
    matches = kb.match_all(document.signals)
    facts: dict[str, object] = {"region": document.region, "account": document.account}
    clusters = {t.cluster for t in document.tasks if t.cluster}
    if len(clusters) == 1:
        facts["cluster"] = clusters.pop()
    notes: list[str] = []
    if not document.signals:
        notes.append("the input holds no failure messages (no stopped reason, exit code or event)")
    elif not matches:
        notes.append("no message was recognised by the knowledge base (see `ecsdoctor explain`)")
    return Diagnosis(
        subject=Subject(type="events", region=document.region, account=document.account),
        signals=document.signals,
        matches=tuple(matches),
        hypotheses=offline_hypotheses(matches, kb, facts),
        offline=True,
        notes=tuple(notes),
    )


def diagnose_events(source: str, knowledge: KnowledgeBase | None = None) -> Diagnosis:
    """Diagnose saved events: a file path, or `-` for standard input, without AWS calls."""
    name = "standard input" if source == "-" else source
    return diagnose_document(parse_document(read_source(source), name), knowledge)


def _finding(
    result: CheckResult, graph: object, start: str, linked: Mapping[str, tuple[str, str]]
) -> Finding:
    from ecsdoctor.graph import explanation_path

    evidence = list(result.evidence)
    path = explanation_path(graph, result.resource, start)  # type: ignore[arg-type]
    if len(path) > 1:
        evidence.append(
            Evidence(
                result.resource, "dependency graph", "Dependency path: " + " -> ".join(path) + "."
            )
        )
    entry, hypothesis = linked.get(result.check, (None, None))
    return Finding(
        kind=result.kind,
        resource=result.resource,
        summary=result.detail,
        evidence=tuple(evidence),
        remediation=result.remediation,
        entry=entry,
        hypothesis=hypothesis,
        check=result.check,
    )


def _merge(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per (kind, resource): a missing route can block ECR, logs and secrets at once."""
    merged: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.kind, finding.resource)
        if key not in merged:
            merged[key] = finding
            continue
        first = merged[key]
        extra = tuple(e for e in finding.evidence if e not in first.evidence)
        summary = (
            first.summary
            if finding.summary == first.summary
            else f"{first.summary} {finding.summary}"
        )
        merged[key] = Finding(
            first.kind,
            first.resource,
            summary,
            first.evidence + extra,
            first.remediation,
            first.entry,
            first.hypothesis,
            first.check,
        )
    return list(merged.values())


@dataclass(slots=True)
class _Verdicts:
    """What the checks of one diagnosis concluded, ranked into root causes and the rest."""

    results: list[CheckResult]
    roots: list[Finding]
    consequences: list[Finding]
    ruled_out: list[Finding]
    gaps: list[DataGap]
    statuses: dict[str, Status]


def _task_results(snap: TaskSnapshot, captures: Mapping[str, str]) -> list[CheckResult]:
    """Every task-scope check on one snapshot, concurrently over the shared reader."""
    from ecsdoctor.checks import REGISTRY, CheckContext, run_check

    snap.prefetch()
    ctx = CheckContext(snap, captures)
    checks = [c for c in REGISTRY.values() if c.scope == "task"]
    results: list[CheckResult] = []
    for batch in snap.reader.parallel([partial(run_check, c, ctx) for c in checks]):
        if isinstance(batch, list):
            results.extend(batch)
    return results


def _linked(
    matches: Sequence[Match], kb: KnowledgeBase
) -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    """Which knowledge hypothesis each check answers, and its order, from the matched entries."""
    linked: dict[str, tuple[str, str]] = {}
    order: dict[str, int] = {}
    for match in sorted(matches, key=lambda m: (-m.priority, m.signal)):
        for position, spec in enumerate(kb.by_id[match.entry].hypotheses):
            for check_id in spec.checks:
                linked.setdefault(check_id, (match.entry, spec.id))
                order.setdefault(check_id, len(order) * 10 + position)
    return linked, order


def _verdicts(
    results: Sequence[CheckResult],
    matches: Sequence[Match],
    kb: KnowledgeBase,
    graph: object = None,
    start: str = "",
) -> _Verdicts:
    """Rank confirmed results into root causes and consequences; keep the ruled out and gaps."""
    from ecsdoctor.graph import split_causes

    # The same check on the same resource from two failure groups is one verdict.
    unique: dict[str, CheckResult] = {}
    for r in results:
        if r.key not in unique or r.status is Status.CONFIRMED:
            unique[r.key] = r
    kept = list(unique.values())
    linked, order = _linked(matches, kb)
    roots, consequences = split_causes(kept)
    roots.sort(key=lambda r: (order.get(r.check, 1000), r.rank, r.check, r.resource))
    statuses: dict[str, Status] = {}
    for r in kept:
        current = statuses.get(r.check)
        if (
            r.status is Status.CONFIRMED
            or current is None
            or (current is Status.INCONCLUSIVE and r.status is Status.RULED_OUT)
        ):
            statuses[r.check] = r.status if current is not Status.CONFIRMED else current
    return _Verdicts(
        results=kept,
        roots=_merge([_finding(r, graph, start, linked) for r in roots]),
        consequences=_merge([_finding(r, graph, start, linked) for r in consequences]),
        ruled_out=[_finding(r, graph, start, linked) for r in kept if r.status is Status.RULED_OUT],
        gaps=[r.gap for r in kept if r.gap is not None],
        statuses=statuses,
    )


def _hypotheses(
    matches: Sequence[Match],
    kb: KnowledgeBase,
    facts: Mapping[str, object],
    statuses: Mapping[str, Status],
) -> tuple[Hypothesis, ...]:
    """The matched entries' hypotheses, each marked with what its linked checks concluded."""
    hypotheses = []
    for hypothesis in offline_hypotheses(matches, kb, facts):
        spec = next(h for h in kb.by_id[hypothesis.entry].hypotheses if h.id == hypothesis.id)
        known = [statuses[c] for c in spec.checks if c in statuses]
        status = (
            Status.CONFIRMED
            if Status.CONFIRMED in known
            else Status.RULED_OUT
            if known and all(s is Status.RULED_OUT for s in known)
            else Status.INCONCLUSIVE
            if known
            else None
        )
        hypotheses.append(replace(hypothesis, status=status))
    return tuple(hypotheses)


def _captures(matches: Sequence[Match]) -> dict[str, str]:
    captures: dict[str, str] = {}
    for match in matches:
        for key, value in match.captures.items():
            captures.setdefault(key, value)
    return captures


def _task_facts(snap: TaskSnapshot) -> dict[str, object]:
    return {
        "region": snap.region,
        "account": snap.account,
        "cluster": snap.cluster_arn,
        "service": snap.service_name,
        "task_arn": snap.task_arn,
        "task_definition_arn": snap.task_definition_arn,
        "subnet_ids": list(snap.network.subnet_ids) if snap.network else None,
        "security_group_ids": list(snap.network.security_group_ids) if snap.network else None,
        "execution_role_arn": snap.execution_role_arn,
        "task_role_arn": snap.task_role_arn,
    }


def diagnose_task(
    task: str,
    *,
    cluster: str | None = None,
    session: object | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    knowledge: KnowledgeBase | None = None,
    reader: Reader | None = None,
) -> Diagnosis:
    """Diagnose one task live, read-only: its signals, each hypothesis checked, the root cause."""
    from ecsdoctor.arn import parse_task_ref
    from ecsdoctor.graph import build_resource_graph
    from ecsdoctor.ingest import SignalBuilder
    from ecsdoctor.snapshot import TaskSnapshot

    kb = knowledge or load_knowledge()
    ref = parse_task_ref(task, cluster)
    aws = _reader(reader, session, region or ref.region, profile, endpoint_url, role_arn)
    snap = TaskSnapshot(aws, ref)
    builder = SignalBuilder("task")
    builder.add(dict(snap.task), "task")
    signals = tuple(builder.signals)
    matches = kb.match_all(signals)
    results = _task_results(snap, _captures(matches))
    verdicts = _verdicts(results, matches, kb, build_resource_graph(snap), snap.task_arn)
    notes = []
    if snap.network and snap.network.source != "ec2:DescribeNetworkInterfaces":
        notes.append(
            f"the task's network interface is gone; its network settings come from {snap.network.source}"
        )
    return Diagnosis(
        subject=Subject(
            type="task",
            arn=snap.task_arn,
            cluster=parse_arn_subject(snap.cluster_arn),
            service=snap.service_name,
            region=snap.region,
            account=snap.account or None,
        ),
        signals=signals,
        matches=tuple(matches),
        root_causes=tuple(verdicts.roots),
        consequences=tuple(verdicts.consequences),
        ruled_out=tuple(verdicts.ruled_out),
        checks=tuple(verdicts.results),
        data_gaps=tuple(verdicts.gaps),
        hypotheses=_hypotheses(matches, kb, _task_facts(snap), verdicts.statuses),
        api_calls=aws.api_calls,
        offline=False,
        notes=tuple(notes),
    )


def _reader(
    reader: Reader | None,
    session: object | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    role_arn: str | None,
) -> Reader:
    """The caller's reader, or a live one for these access settings."""
    if reader is not None:
        return reader
    import boto3.session

    from ecsdoctor.aws.session import AwsAccess, open_reader

    if session is not None and not isinstance(session, boto3.session.Session):
        raise TypeError("session must be a boto3.session.Session")
    return open_reader(AwsAccess(session, None, profile, endpoint_url, role_arn), region)


def parse_arn_subject(cluster_arn: str) -> str:
    """The cluster name from its ARN (or the name itself)."""
    return cluster_arn.rsplit("/", 1)[-1]
