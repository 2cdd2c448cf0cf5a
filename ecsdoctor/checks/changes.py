"""What changed: CloudTrail management events of the last 24 hours on the resources the task
depends on (route tables, NAT and endpoints, security groups, roles, the task definition family),
cited as evidence of who changed what and when. A data gap where LookupEvents is not allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.reachability import default_route, route_target

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


def _optional(read: Callable[[], list[Watched]]) -> list[Watched]:
    """A watch that needs one more describe call: skipped when that read fails."""
    try:
        return read()
    except ReadError:
        return []


def _watched(ctx: CheckContext) -> list[Watched]:
    """The resources on the task's path whose recent changes matter, most telling first."""
    snap = ctx.snap
    out: list[Watched] = []
    config = snap.network
    if config and config.subnet_ids:
        subnet_id = config.subnet_ids[0]
        table = snap.route_table_for(subnet_id)
        table_id = str(table["RouteTableId"])
        out.append(Watched(Kind.ROUTE_TABLE, table_id, table_id))
        route = default_route(table)
        target = route_target(route) if route is not None else ""
        if target.startswith("nat-"):
            out.append(Watched(Kind.NAT_GATEWAY, target, target))
        out.extend(Watched(Kind.SECURITY_GROUP, g, g) for g in config.security_group_ids)
        vpc_id = str(snap.subnet(subnet_id)["VpcId"])
        out.append(Watched(Kind.VPC, vpc_id, vpc_id))

        def acl() -> list[Watched]:
            found = snap.network_acl_for(subnet_id)
            acl_id = str((found or {}).get("NetworkAclId") or "")
            return [Watched(Kind.NETWORK_ACL, acl_id, acl_id)] if acl_id else []

        def gone() -> list[Watched]:
            # Deleted endpoints stay listed for a while: their deletion explains "no endpoint
            # for ..." on the VPC, which is how that root cause names its resource.
            return [
                Watched(Kind.VPC_ENDPOINT, vpc_id, str(e["VpcEndpointId"]))
                for e in snap.vpc_endpoints(vpc_id)
                if str(e.get("State", "")).lower() in ("deleted", "deleting", "failed")
            ]

        out += _optional(acl) + _optional(gone)
    for kind, role in (
        (Kind.EXECUTION_ROLE, snap.execution_role_arn),
        (Kind.TASK_ROLE, snap.task_role_arn),
    ):
        if role:
            out.append(Watched(kind, role, role.rsplit("/", 1)[-1]))
    family = str(snap.task_definition.get("family") or "")
    if family:
        out.append(Watched(Kind.TASK_DEFINITION, snap.task_definition_arn, family))
    unique: dict[str, Watched] = {}
    for watched in out:
        unique.setdefault(watched.lookup, watched)  # one lookup per name (one role for both)
    return list(unique.values())


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
    for watched in _watched(ctx):
        try:
            events = ctx.snap.recent_changes(watched.lookup)
        except ReadError as err:
            return [ctx.gap(Kind.TASK, ctx.snap.task_arn, err)]
        changes = [e for e in events if str(e.get("EventName", "")).startswith(CHANGING)]
        if not changes:
            continue
        cited = tuple(
            Evidence(
                watched.lookup,
                "cloudtrail:LookupEvents",
                f"{e.get('EventName')} by {e.get('Username') or 'unknown'} at "
                f"{_when(e.get('EventTime'))}"
                + ("." if watched.lookup == watched.resource else f" on {watched.lookup}."),
            )
            for e in changes[:5]
        )
        out.append(
            ctx.result(
                watched.kind,
                watched.resource,
                Status.INCONCLUSIVE,
                f"{watched.lookup} changed in the last 24 hours: {cited[0].detail}"
                + (f" ({len(changes) - 1} more changes)" if len(changes) > 1 else ""),
                cited,
            )
        )
    return out
