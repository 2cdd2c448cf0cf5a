"""The check contract: a small function over a snapshot, declared once, returning verdicts.

A check is declared with `@check(Kind.X, reads=(...), rank=N)`: its id is `<module>.<function>`,
its scope follows from the type of its context parameter (`CheckContext` for a task,
`ServiceContext` for a service), and `reads` lists the AWS operations it may send. The runner binds
the context to the check, so a check builds its results with `ctx.result(...)` and never types its
own id; it names another check's result with `ctx.ref(other_check, resource)`, a typed reference
that breaks at import time, not silently, when the other check is renamed.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

from ecsdoctor.aws.operations import is_allowed
from ecsdoctor.errors import AwsSetupError, CallDenied, CallUnavailable, ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, DataGap, Evidence, ResultRef, Status
from ecsdoctor.snapshot import TaskSnapshot

if TYPE_CHECKING:
    from ecsdoctor.graph import FailurePath
    from ecsdoctor.models import FailureGroup
    from ecsdoctor.service import ServiceSnapshot


class Scope(StrEnum):
    """What a check runs on."""

    TASK = "task"
    SERVICE = "service"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Bound:
    """Result builders shared by both contexts; `bound` is set by the runner, never by a check."""

    bound: AnyCheck | None = None

    def _check(self) -> AnyCheck:
        if self.bound is None:
            raise RuntimeError("a check context is used before the runner bound it to a check")
        return self.bound

    def result(
        self,
        kind: Kind,
        resource: str,
        status: Status,
        detail: str,
        evidence: tuple[Evidence, ...] = (),
        remediation: str | None = None,
        depends_on: Sequence[ResultRef] = (),
    ) -> CheckResult:
        """A verdict of the bound check on `resource` (`kind` is the resource's kind).

        Without `evidence`, the detail itself is the evidence, sourced to the check's first
        declared read: list the read that proves a verdict first.
        """
        check = self._check()
        if not evidence and status is not Status.INCONCLUSIVE:
            # Every verdict cites what it saw: by default, the check's first declared read.
            source = check.reads[0] if check.reads else "ecs:DescribeTaskDefinition"
            evidence = (Evidence(resource, source, detail),)
        return CheckResult(
            check=check.id,
            kind=kind,
            resource=resource,
            status=status,
            detail=detail,
            evidence=evidence,
            remediation=remediation,
            depends_on=tuple(depends_on),
            rank=check.rank,
        )

    def gap(self, kind: Kind, resource: str, err: ReadError) -> CheckResult:
        """An INCONCLUSIVE verdict for a read that failed, naming what would let it run."""
        return gap_result(self._check(), kind, resource, err)

    def ref(self, fn: Callable[..., list[CheckResult]], resource: str) -> ResultRef:
        """A typed reference to another check's result on `resource` (it may be absent)."""
        return ResultRef(check_id_of(fn), resource)


@dataclass(frozen=True, slots=True)
class CheckContext(_Bound):
    """What a task check may look at: the shared snapshot and the matched messages' captures."""

    snap: TaskSnapshot
    captures: Mapping[str, str] = field(default_factory=dict)
    matched: frozenset[str] = frozenset()  # knowledge entry ids the task's messages matched


@dataclass(frozen=True, slots=True)
class ServiceContext(_Bound):
    """What a service check may look at: the service, its failure groups and matched entries.

    `group_entries` maps a failure group's reason to the knowledge entries its messages matched,
    and `event_entries` lists the entry matched by each distinct service event: checks classify
    messages through knowledge, never by substring.
    """

    svc: ServiceSnapshot
    groups: tuple[FailureGroup, ...] = ()
    matched: frozenset[str] = frozenset()  # knowledge entry ids matched by any signal
    captures: Mapping[str, str] = field(default_factory=dict)
    group_entries: Mapping[str, frozenset[str]] = field(default_factory=dict)
    event_entries: tuple[str, ...] = ()


C = TypeVar("C", CheckContext, ServiceContext)
CheckFn = Callable[[C], list[CheckResult]]


@dataclass(frozen=True, slots=True)
class Check(Generic[C]):
    """A registered check: id = `<module>.<function>`, the docstring is its definition."""

    id: str
    kind: Kind
    fn: Callable[[C], list[CheckResult]]
    doc: str
    rank: int
    scope: Scope
    reads: tuple[str, ...]
    symptom: bool = False  # reports that something does not work; what fails below explains it

    def run(self, ctx: C) -> list[CheckResult]:
        """Run on `ctx` bound to this check; a failed read makes it inconclusive, never fatal."""
        subject = ctx.snap.task_arn if isinstance(ctx, CheckContext) else ctx.svc.arn
        try:
            return one_verdict_per_resource(self.fn(replace(ctx, bound=self)))
        except ReadError as err:
            return [gap_result(self, self.kind, subject, err)]
        except AwsSetupError:
            raise  # the credentials, not this check: nothing else will work either
        except Exception as err:  # one faulty check must not sink the whole diagnosis
            reason = f"internal error in the check ({type(err).__name__}: {str(err)[:160]})"
            return [
                CheckResult(
                    check=self.id,
                    kind=self.kind,
                    resource=subject,
                    status=Status.INCONCLUSIVE,
                    detail=f"Could not check: {reason}.",
                    gap=DataGap(check=self.id, reason=reason),
                    rank=self.rank,
                )
            ]


AnyCheck = Check[CheckContext] | Check[ServiceContext]


def one_verdict_per_resource(results: Sequence[CheckResult]) -> list[CheckResult]:
    """One verdict per resource: two containers failing on one task definition are one finding.

    A confirmed verdict wins over an inconclusive one, which wins over a ruled-out one; verdicts of
    the winning status are merged (details, evidence, fixes), so nothing found is lost.
    """
    order = {Status.CONFIRMED: 0, Status.INCONCLUSIVE: 1, Status.RULED_OUT: 2}
    by_resource: dict[str, list[CheckResult]] = {}
    for result in results:
        by_resource.setdefault(result.resource, []).append(result)
    merged: list[CheckResult] = []
    for group in by_resource.values():
        best = min(order[r.status] for r in group)
        winners = [r for r in group if order[r.status] == best]
        first = winners[0]
        if len(winners) == 1:
            merged.append(first)
            continue

        def distinct(values: Iterable[str | None]) -> list[str]:
            return list(dict.fromkeys(v for v in values if v))

        merged.append(
            replace(
                first,
                detail=" ".join(distinct(r.detail for r in winners)),
                evidence=tuple(dict.fromkeys(e for r in winners for e in r.evidence)),
                # Sentences end with a period, so each command ends where its sentence does.
                remediation=" ".join(
                    f"{fix.rstrip('. ')}." for fix in distinct(r.remediation for r in winners)
                )
                or None,
                depends_on=tuple(dict.fromkeys(d for r in winners for d in r.depends_on)),
            )
        )
    return merged


REGISTRY: dict[str, AnyCheck] = {}
_BY_FUNCTION: dict[Callable[..., list[CheckResult]], str] = {}


def _scope_of(fn: Callable[..., list[CheckResult]]) -> Scope:
    """The scope follows from the annotation of the check's context parameter."""
    hints = typing.get_type_hints(fn)
    context = next(iter(v for k, v in hints.items() if k != "return"), None)
    if context is CheckContext:
        return Scope.TASK
    if context is ServiceContext:
        return Scope.SERVICE
    raise TypeError(f"{fn.__qualname__}: a check takes a CheckContext or a ServiceContext")


def check(
    kind: Kind, *, reads: Sequence[str], rank: int = 50, symptom: bool = False
) -> Callable[[Callable[[C], list[CheckResult]]], Callable[[C], list[CheckResult]]]:
    """Register a check under `<module>.<function>`, once, with everything the runner needs.

    `reads` are the IAM-style operations the check may send ("ec2:DescribeRouteTables"); each must
    be on the read-only allow-list, so a check that wants more fails at import, not in production.
    A `symptom` check reports that a resource does not work (targets unhealthy); a confirmed
    failure below its resource in the dependency graph explains it.
    """
    for operation in reads:
        if not is_allowed(operation):
            raise ValueError(f"check reads {operation}, which is not on the read-only allow-list")

    def register(fn: Callable[[C], list[CheckResult]]) -> Callable[[C], list[CheckResult]]:
        module = fn.__module__.rsplit(".", 1)[-1]
        check_id = f"{module}.{fn.__name__}"
        if check_id in REGISTRY and REGISTRY[check_id].fn is not fn:
            raise ValueError(f"check {check_id} is declared twice")
        entry: Check[C] = Check(
            check_id,
            kind,
            fn,
            (fn.__doc__ or "").strip(),
            rank,
            _scope_of(fn),
            tuple(reads),
            symptom,
        )
        REGISTRY[check_id] = entry

        @functools.wraps(fn)
        def called_directly(ctx: C) -> list[CheckResult]:
            """Calling the check function (as a table test does) binds the context to it."""
            return fn(ctx if ctx.bound is not None else replace(ctx, bound=entry))

        _BY_FUNCTION[fn] = _BY_FUNCTION[called_directly] = check_id
        return called_directly

    return register


def check_id_of(fn: Callable[..., list[CheckResult]]) -> str:
    """The id a check function was registered under (KeyError for an unregistered function)."""
    return _BY_FUNCTION[fn]


def gap_result(entry: AnyCheck, kind: Kind, resource: str, err: ReadError) -> CheckResult:
    """An INCONCLUSIVE result for a read that failed, naming what would let it run."""
    if isinstance(err, CallDenied):
        reason = f"access denied for {err.permission}"
        permission: str | None = err.permission
    elif isinstance(err, CallUnavailable):
        reason = f"{err.permission} unavailable ({err.code}: {err.message[:160]})"
        permission = None
    else:
        reason = f"{err.permission} failed ({err.code}: {err.message[:160]})"
        permission = None
    return CheckResult(
        check=entry.id,
        kind=kind,
        resource=resource,
        status=Status.INCONCLUSIVE,
        detail=f"Could not check {resource}: {reason}.",
        gap=DataGap(check=entry.id, reason=reason, permission=permission),
        rank=entry.rank,
    )


def checks_in(scope: Scope) -> list[AnyCheck]:
    """The registered checks of one scope, in id order (a stable run and report order)."""
    return sorted((c for c in REGISTRY.values() if c.scope is scope), key=lambda c: c.id)


def task_checks() -> list[Check[CheckContext]]:
    """The task checks (their scope was derived from their CheckContext parameter)."""
    return [typing.cast(Check[CheckContext], c) for c in checks_in(Scope.TASK)]


def service_checks() -> list[Check[ServiceContext]]:
    """The service checks (their scope was derived from their ServiceContext parameter)."""
    return [typing.cast(Check[ServiceContext], c) for c in checks_in(Scope.SERVICE)]


def along(
    checks: Sequence[Check[C]], path: FailurePath, named: frozenset[str], thorough: bool
) -> list[Check[C]]:
    """The checks to run: those on the failure's path (their kind is on it, or a matched
    hypothesis names them); with `thorough`, all of them."""
    return [c for c in checks if thorough or c.id in named or path.covers(c.kind)]


def symptom_ids() -> frozenset[str]:
    """Ids of the checks whose findings a confirmed failure below them explains."""
    return frozenset(c.id for c in REGISTRY.values() if c.symptom)


def declared_reads() -> frozenset[str]:
    """Every operation any registered check declares."""
    return frozenset(op for c in REGISTRY.values() for op in c.reads)
