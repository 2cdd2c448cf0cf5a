"""What changed: CloudTrail management events of the last 24 hours on the resources the task
depends on (route tables, NAT and endpoints, security groups, roles, the task definition family),
cited as evidence of who changed what and when. A data gap where LookupEvents is not allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status

#: Event names that change what a task depends on (read-only events are ignored).
CHANGING = (
    "Delete",
    "Replace",
    "Revoke",
    "Detach",
    "Disassociate",
    "Modify",
    "Put",
    "Update",
    "Remove",
    "Disable",
    "ScheduleKeyDeletion",
    "RegisterTaskDefinition",
    "DeregisterTaskDefinition",
    "CreateRoute",
    "CreateNetworkAclEntry",
    "AttachRolePolicy",
)


@dataclass(frozen=True, slots=True)
class Watched:
    """One resource on the task's path whose recent changes matter.

    `resource` is how root causes name it (the role's ARN, the task definition's ARN, the VPC of
    a deleted endpoint), so the pipeline can attach the change to the root cause it explains;
    `lookup` is the name CloudTrail indexes it by (the role's name, the family, the endpoint id).
    """

    kind: Kind
    resource: str
    lookup: str


def _watched(ctx: CheckContext) -> list[Watched]:
    """The resources on the task's path whose recent changes matter, most telling first."""
    return [
        Watched(kind, resource, lookup) for kind, resource, lookup in ctx.snap.watched_resources()
    ]


def _when(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@check(
    Kind.TASK,
    reads=(
        "cloudtrail:LookupEvents",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ecs:DescribeTaskDefinition",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeVpcEndpoints",
    ),
    rank=90,
)
def recent_changes(ctx: CheckContext) -> list[CheckResult]:
    """Changes in the last 24 hours to the resources the task depends on, with who and when."""
    out: list[CheckResult] = []
    watched = _watched(ctx)
    if not watched:
        return out
    snap = ctx.snap
    # The first lookup alone (where CloudTrail refuses, one refusal is enough), then the rest in
    # one wave: they depend on nothing but the list (memoised where the prefetch asked them).
    try:
        first = snap.recent_changes(watched[0].lookup)
    except ReadError as err:
        return [ctx.gap(Kind.TASK, snap.task_arn, err)]
    rest = snap.reader.parallel([partial(snap.recent_changes, w.lookup) for w in watched[1:]])
    for one, events in zip(watched, [first, *rest], strict=True):
        if isinstance(events, ReadError):
            return [ctx.gap(Kind.TASK, snap.task_arn, events)]
        changes = [e for e in events if str(e.get("EventName", "")).startswith(CHANGING)]
        if not changes:
            continue
        cited = tuple(
            Evidence(
                one.lookup,
                "cloudtrail:LookupEvents",
                f"{e.get('EventName')} by {e.get('Username') or 'unknown'} at "
                f"{_when(e.get('EventTime'))}"
                + ("." if one.lookup == one.resource else f" on {one.lookup}."),
            )
            for e in changes[:5]
        )
        out.append(
            ctx.result(
                one.kind,
                one.resource,
                Status.INCONCLUSIVE,
                f"{one.lookup} changed in the last 24 hours: {cited[0].detail}"
                + (f" ({len(changes) - 1} more changes)" if len(changes) > 1 else ""),
                cited,
            )
        )
    return out
