"""What changed: CloudTrail management events of the last 24 hours on the resources the task
depends on (route tables, NAT and endpoints, security groups, roles, the task definition family),
cited as evidence of who changed what and when. A data gap where LookupEvents is not allowed."""

from __future__ import annotations

from datetime import datetime

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
    "AttachRolePolicy",
)


def _watched(ctx: CheckContext) -> list[tuple[Kind, str]]:
    """The resources on the task's path whose recent changes matter, most telling first."""
    snap = ctx.snap
    out: list[tuple[Kind, str]] = []
    config = snap.network
    if config and config.subnet_ids:
        table = snap.route_table_for(config.subnet_ids[0])
        out.append((Kind.ROUTE_TABLE, str(table["RouteTableId"])))
        out.extend((Kind.SECURITY_GROUP, g) for g in config.security_group_ids)
    if snap.execution_role_arn:
        out.append((Kind.EXECUTION_ROLE, snap.execution_role_arn.rsplit("/", 1)[-1]))
    family = str(snap.task_definition.get("family") or "")
    if family:
        out.append((Kind.TASK_DEFINITION, family))
    return out


def _when(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@check(
    Kind.TASK,
    reads=(
        "cloudtrail:LookupEvents",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ecs:DescribeTaskDefinition",
    ),
    rank=90,
)
def recent_changes(ctx: CheckContext) -> list[CheckResult]:
    """Changes in the last 24 hours to the resources the task depends on, with who and when."""
    out: list[CheckResult] = []
    for kind, name in _watched(ctx):
        try:
            events = ctx.snap.recent_changes(name)
        except ReadError as err:
            return [ctx.gap(Kind.TASK, ctx.snap.task_arn, err)]
        changes = [e for e in events if str(e.get("EventName", "")).startswith(CHANGING)]
        if not changes:
            continue
        cited = tuple(
            Evidence(
                name,
                "cloudtrail:LookupEvents",
                f"{e.get('EventName')} by {e.get('Username') or 'unknown'} at "
                f"{_when(e.get('EventTime'))}.",
            )
            for e in changes[:5]
        )
        out.append(
            ctx.result(
                kind,
                name,
                Status.INCONCLUSIVE,
                f"{name} changed in the last 24 hours: {cited[0].detail}"
                + (f" ({len(changes) - 1} more changes)" if len(changes) > 1 else ""),
                cited,
            )
        )
    return out
