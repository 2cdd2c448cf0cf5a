"""The one place a diagnosis is assembled: collected evidence in, `Diagnosis` out.

Every entry point (a task, a service, a cluster, saved events, the ChatOps bot, the report writer)
is a short collector: it gathers signals, knowledge matches, check results, the resource graph and
facts into a `Collected`, and calls `assemble`. Ranking, linking results to hypotheses, merging
and the split into root causes, consequences and other problems happen here and nowhere else.

This module is offline-safe: it imports neither boto3 nor networkx (the graph arrives as a value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ecsdoctor.kb import KnowledgeBase, load_entries, render_template
from ecsdoctor.kinds import Kind
from ecsdoctor.models import (
    CheckResult,
    DataGap,
    Diagnosis,
    Evidence,
    FailureGroup,
    Finding,
    Hypothesis,
    Match,
    ServiceStatus,
    Severity,
    Signal,
    SignalSource,
    Status,
    Subject,
)

if TYPE_CHECKING:
    from ecsdoctor.graph import FailurePath, ResourceGraph

Facts = Mapping[str, object]


@cache
def _default_knowledge() -> KnowledgeBase:
    return KnowledgeBase(load_entries())


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base: the shipped one (cached), or the entries under `directory`."""
    if directory is None:
        return _default_knowledge()
    return KnowledgeBase(load_entries(Path(directory)))


@dataclass(frozen=True, slots=True)
class Collected:
    """Everything a collector gathered for one diagnosis, before ranking."""

    subject: Subject
    signals: tuple[Signal, ...]
    matches: tuple[Match, ...]
    results: tuple[CheckResult, ...] = ()
    graph: ResourceGraph | None = None
    path: FailurePath | None = None  # the failure's path; None: every result is on it
    symptoms: frozenset[str] = frozenset()
    facts: Facts = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    failure_groups: tuple[FailureGroup, ...] = ()
    services: tuple[ServiceStatus, ...] = ()
    api_calls: int = 0
    rounds: int | None = None
    offline: bool = False


def telling_matches(matches: Sequence[Match], signals: Sequence[Signal]) -> list[Match]:
    """The failure matches that say what failed.

    A stop code (`TaskFailedToStart`, `EssentialContainerExited`) is a category: it says which
    stage failed, not what. When a subject's reason or exit code is recognised too, the category
    adds nothing to the failure's path; alone, it is all there is to go on.
    """
    failures = [m for m in matches if m.severity is Severity.FAILURE]
    precise = {
        signals[m.signal].subject
        for m in failures
        if signals[m.signal].source is not SignalSource.STOP_CODE
    }
    return [
        m
        for m in failures
        if signals[m.signal].source is not SignalSource.STOP_CODE
        or signals[m.signal].subject not in precise
    ]


def failure_kinds(
    matches: Sequence[Match], kb: KnowledgeBase, signals: Sequence[Signal]
) -> frozenset[Kind]:
    """The resource kinds the telling failure matches' hypotheses name (info entries name none)."""
    return frozenset(
        Kind(kind)
        for match in telling_matches(matches, signals)
        for spec in kb.by_id[match.entry].hypotheses
        for kind in spec.kinds
    )


def hypothesis_checks(matches: Sequence[Match], kb: KnowledgeBase) -> frozenset[str]:
    """Check ids the matched failure entries' hypotheses name: always on the failure's path."""
    return frozenset(
        check_id
        for match in matches
        if match.severity is Severity.FAILURE
        for spec in kb.by_id[match.entry].hypotheses
        for check_id in spec.checks
    )


def captures_of(matches: Sequence[Match]) -> dict[str, str]:
    """The regex captures of every match, the first value of each name winning."""
    captures: dict[str, str] = {}
    for match in matches:
        for key, value in match.captures.items():
            captures.setdefault(key, value)
    return captures


def offline_hypotheses(
    matches: Sequence[Match], kb: KnowledgeBase, facts: Facts
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
                    kinds=tuple(Kind(k) for k in spec.kinds),
                    remediation=render_template(spec.remediation, values),
                )
            )
    return tuple(result)


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


def _finding(
    result: CheckResult,
    graph: ResourceGraph | None,
    linked: Mapping[str, tuple[str, str]],
) -> Finding:
    evidence = list(result.evidence)
    path = graph.path(graph.root, result.resource) if graph is not None else []
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


def merge_findings(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per (kind, resource): a missing route can block ECR, logs and secrets at once."""
    merged: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.kind, finding.resource)
        first = merged.get(key)
        if first is None:
            merged[key] = finding
            continue
        extra = tuple(e for e in finding.evidence if e not in first.evidence)
        summary = (
            first.summary
            if finding.summary == first.summary
            else f"{first.summary} {finding.summary}"
        )
        merged[key] = replace(first, summary=summary, evidence=first.evidence + extra)
    return list(merged.values())


#: The source of the evidence a change lookup cites (changes.recent_changes).
CHANGE_SOURCE = "cloudtrail:LookupEvents"


def with_changes(findings: Sequence[Finding], results: Sequence[CheckResult]) -> list[Finding]:
    """Each finding with the recent changes (who, when, what) of the resource it names.

    A change is a lead, never a verdict: it is cited beside the root cause it explains (an
    endpoint deleted from the VPC that now lacks it, the route replaced, the policy detached),
    from the inconclusive results whose evidence is CloudTrail's.
    """
    changes = [
        r
        for r in results
        if r.status is Status.INCONCLUSIVE
        and r.gap is None
        and r.evidence
        and all(e.source == CHANGE_SOURCE for e in r.evidence)
    ]
    out: list[Finding] = []
    for finding in findings:
        extra = tuple(
            e
            for r in changes
            if r.resource == finding.resource
            for e in r.evidence
            if e not in finding.evidence
        )
        out.append(replace(finding, evidence=finding.evidence + extra) if extra else finding)
    return out


@dataclass(frozen=True, slots=True)
class Ranked:
    """What the checks of one diagnosis concluded, ranked."""

    results: tuple[CheckResult, ...]
    roots: tuple[Finding, ...]
    consequences: tuple[Finding, ...]
    other_problems: tuple[Finding, ...]
    ruled_out: tuple[Finding, ...]
    gaps: tuple[DataGap, ...]
    statuses: Mapping[str, Status]


def rank(collected: Collected, kb: KnowledgeBase) -> Ranked:
    """Root causes (on the failure's path, explained by nothing), consequences, the rest."""
    # The same check on the same resource from two failure groups is one verdict.
    unique: dict[str, CheckResult] = {}
    for r in collected.results:
        if r.key not in unique or r.status is Status.CONFIRMED:
            unique[r.key] = r
    kept = list(unique.values())
    linked, order = _linked(collected.matches, kb)
    roots, consequences = split_causes(kept, collected.graph, collected.symptoms)
    path = collected.path
    on_path = [r for r in roots if path is None or path.covers(r.kind) or r.check in linked]
    off_path = [r for r in roots if r not in on_path]
    if not on_path:
        # Nothing on the path explains the failure: what was found elsewhere is the best lead.
        on_path, off_path = off_path, []

    def ranking(r: CheckResult) -> tuple[int, int, str, str]:
        return (order.get(r.check, 1000), r.rank, r.check, r.resource)

    on_path.sort(key=ranking)
    off_path.sort(key=ranking)
    statuses: dict[str, Status] = {}
    for r in kept:
        current = statuses.get(r.check)
        if current is Status.CONFIRMED:
            continue
        if (
            r.status is Status.CONFIRMED
            or current is None
            or (current is Status.INCONCLUSIVE and r.status is Status.RULED_OUT)
        ):
            statuses[r.check] = r.status
    graph = collected.graph
    return Ranked(
        results=tuple(kept),
        roots=tuple(
            with_changes(merge_findings([_finding(r, graph, linked) for r in on_path]), kept)
        ),
        consequences=tuple(merge_findings([_finding(r, graph, linked) for r in consequences])),
        other_problems=tuple(
            with_changes(merge_findings([_finding(r, graph, linked) for r in off_path]), kept)
        ),
        ruled_out=tuple(_finding(r, graph, linked) for r in kept if r.status is Status.RULED_OUT),
        gaps=tuple(r.gap for r in kept if r.gap is not None)
        + tuple(collected.graph.gaps if collected.graph is not None else ()),
        statuses=statuses,
    )


def split_causes(
    results: Sequence[CheckResult], graph: ResourceGraph | None, symptoms: frozenset[str]
) -> tuple[list[CheckResult], list[CheckResult]]:
    """(root causes, consequences) among the confirmed results.

    A confirmed result is explained by another confirmed one when it references it (`depends_on`,
    typed) or when its check is a symptom and the other sits below its resource in the dependency
    graph. One that nothing explains is a root cause; a cycle leaves both as root causes.
    """
    confirmed = {r.key: r for r in results if r.status is Status.CONFIRMED}
    explained_by: dict[str, set[str]] = {key: set() for key in confirmed}
    for key, result in confirmed.items():
        explained_by[key].update(
            ref.key for ref in result.depends_on if ref.key in confirmed and ref.key != key
        )
        if graph is not None and result.check in symptoms:
            below = graph.below(result.resource)
            explained_by[key].update(
                other_key
                for other_key, other in confirmed.items()
                if other.resource in below and other.check not in symptoms
            )

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(explained_by[start])
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(explained_by[key])
        return seen

    roots: list[CheckResult] = []
    consequences: list[CheckResult] = []
    for key, result in confirmed.items():
        below = reach(key)
        if below and not all(key in reach(d) for d in below):
            consequences.append(result)
        else:
            roots.append(result)
    return roots, consequences


def hypotheses_with_status(
    matches: Sequence[Match], kb: KnowledgeBase, facts: Facts, statuses: Mapping[str, Status]
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


def assemble(collected: Collected, kb: KnowledgeBase) -> Diagnosis:
    """The Diagnosis of what was collected: ranked findings, hypotheses with their status."""
    if collected.offline:
        return Diagnosis(
            subject=collected.subject,
            signals=collected.signals,
            matches=collected.matches,
            hypotheses=offline_hypotheses(collected.matches, kb, collected.facts),
            offline=True,
            notes=collected.notes,
            failure_groups=collected.failure_groups,
            services=collected.services,
        )
    ranked = rank(collected, kb)
    return Diagnosis(
        subject=collected.subject,
        signals=collected.signals,
        matches=collected.matches,
        root_causes=ranked.roots,
        consequences=ranked.consequences,
        ruled_out=ranked.ruled_out,
        checks=ranked.results,
        data_gaps=ranked.gaps,
        hypotheses=hypotheses_with_status(collected.matches, kb, collected.facts, ranked.statuses),
        api_calls=collected.api_calls,
        rounds=collected.rounds,
        offline=False,
        notes=collected.notes,
        failure_groups=collected.failure_groups,
        services=collected.services,
        other_problems=ranked.other_problems,
    )
