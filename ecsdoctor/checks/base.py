"""The check contract: a small function over the task snapshot returning verdicts with evidence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecsdoctor.errors import CallDenied, CallUnavailable, ReadError
from ecsdoctor.models import CheckResult, DataGap, Evidence, Status
from ecsdoctor.snapshot import TaskSnapshot

if TYPE_CHECKING:
    from ecsdoctor.models import FailureGroup
    from ecsdoctor.service import ServiceSnapshot


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may look at: the shared snapshot and the captures of the matched messages."""

    snap: TaskSnapshot
    captures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """What a service check may look at: the service, its failure groups and matched entries."""

    svc: ServiceSnapshot
    groups: tuple[FailureGroup, ...] = ()
    matched: frozenset[str] = frozenset()  # knowledge entry ids matched by any signal
    captures: Mapping[str, str] = field(default_factory=dict)


CheckFn = Callable[[Any], list[CheckResult]]


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: id = `<module>.<function>`, the docstring is its definition.

    `scope` says what it runs on: "task" checks get a CheckContext, "service" checks a
    ServiceContext; one registry keeps the ids unique and the `checks` command complete.
    """

    id: str
    kind: str
    fn: CheckFn
    doc: str
    rank: int
    scope: str = "task"


REGISTRY: dict[str, Check] = {}


def check(kind: str, rank: int = 50, scope: str = "task") -> Callable[[CheckFn], CheckFn]:
    """Register a check under `<module>.<function>`; `kind` is what it reports on by default."""

    def register(fn: CheckFn) -> CheckFn:
        module = fn.__module__.rsplit(".", 1)[-1]
        check_id = f"{module}.{fn.__name__}"
        REGISTRY[check_id] = Check(check_id, kind, fn, (fn.__doc__ or "").strip(), rank, scope)
        return fn

    return register


def result(
    check_id: str,
    kind: str,
    resource: str,
    status: Status,
    detail: str,
    evidence: tuple[Evidence, ...] = (),
    remediation: str | None = None,
    depends_on: tuple[str, ...] = (),
) -> CheckResult:
    """Build a CheckResult, always carrying at least the detail as evidence."""
    rank = REGISTRY[check_id].rank if check_id in REGISTRY else 50
    return CheckResult(
        check=check_id,
        kind=kind,
        resource=resource,
        status=status,
        detail=detail,
        evidence=evidence,
        remediation=remediation,
        depends_on=depends_on,
        rank=rank,
    )


def gap_result(check_id: str, kind: str, resource: str, err: ReadError) -> CheckResult:
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
    detail = f"Could not check {resource}: {reason}."
    return CheckResult(
        check=check_id,
        kind=kind,
        resource=resource,
        status=Status.INCONCLUSIVE,
        detail=detail,
        gap=DataGap(check=check_id, reason=reason, permission=permission),
    )


def run_check(entry: Check, ctx: CheckContext | ServiceContext) -> list[CheckResult]:
    """Run one check; a failed read makes it inconclusive instead of ending the diagnosis."""
    subject = ctx.snap.task_arn if isinstance(ctx, CheckContext) else ctx.svc.arn
    try:
        return entry.fn(ctx)
    except ReadError as err:
        return [gap_result(entry.id, entry.kind, subject, err)]
    except Exception as err:  # one faulty check must not sink the whole diagnosis
        reason = f"internal error in the check ({type(err).__name__}: {str(err)[:160]})"
        return [
            CheckResult(
                check=entry.id,
                kind=entry.kind,
                resource=subject,
                status=Status.INCONCLUSIVE,
                detail=f"Could not check: {reason}.",
                gap=DataGap(check=entry.id, reason=reason),
            )
        ]
