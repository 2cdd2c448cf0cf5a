"""The path from a load balancer to the service's tasks: target health, ports, security groups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecsdoctor.checks.base import ServiceContext, check
from ecsdoctor.checks.deployment import grace_period_too_short
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.reachability import sg_allows
from ecsdoctor.service import container_ports

Raw = Mapping[str, Any]

_TG = "elasticloadbalancing:DescribeTargetGroups"
_HEALTH = "elasticloadbalancing:DescribeTargetHealth"


def _settings(group: Raw) -> str:
    matcher = (group.get("Matcher") or {}).get("HttpCode") or (group.get("Matcher") or {}).get(
        "GrpcCode"
    )
    return (
        f"health check {group.get('HealthCheckProtocol')} port {group.get('HealthCheckPort')} "
        f"path {group.get('HealthCheckPath') or '-'} matcher {matcher or '-'}, every "
        f"{group.get('HealthCheckIntervalSeconds')} s, timeout {group.get('HealthCheckTimeoutSeconds')} s, "
        f"healthy after {group.get('HealthyThresholdCount')}, unhealthy after "
        f"{group.get('UnhealthyThresholdCount')}"
    )


def _container_port(ctx: ServiceContext, target_group_arn: str) -> tuple[str | None, int | None]:
    for lb in ctx.svc.load_balancers:
        if lb.get("targetGroupArn") == target_group_arn:
            port = lb.get("containerPort")
            return lb.get("containerName"), int(port) if isinstance(port, int) else None
    return None, None


def _health_port(group: Raw, container_port: int | None) -> int | None:
    port = str(group.get("HealthCheckPort") or "traffic-port")
    if port == "traffic-port":
        return container_port
    return int(port) if port.isdigit() else None


@check(
    Kind.TARGET_GROUP,
    reads=(
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    ),
    rank=60,
)
def target_health(ctx: ServiceContext) -> list[CheckResult]:
    """The service's targets are unhealthy (or none are registered) in its target groups."""
    svc = ctx.svc
    out: list[CheckResult] = []
    for arn, group in svc.target_groups.items():
        health = svc.target_health(arn)
        bad = [
            h
            for h in health
            if (h.get("TargetHealth") or {}).get("State") in ("unhealthy", "unavailable")
        ]
        depends = (
            ctx.ref(health_check_port, arn),
            ctx.ref(grace_period_too_short, svc.arn),
            *(ctx.ref(security_group_blocks, sg) for sg in svc.awsvpc.get("securityGroups") or []),
        )
        if bad:
            reasons = sorted(
                {
                    f"{(h.get('TargetHealth') or {}).get('Reason')}: "
                    f"{(h.get('TargetHealth') or {}).get('Description') or ''}".strip()
                    for h in bad
                }
            )
            targets = ", ".join(
                f"{(h.get('Target') or {}).get('Id')}:{(h.get('Target') or {}).get('Port')}"
                for h in bad[:5]
            )
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.CONFIRMED,
                    f"{len(bad)} of {len(health)} target(s) of {group.get('TargetGroupName')} are "
                    f"unhealthy ({'; '.join(reasons)[:300]}).",
                    (
                        Evidence(arn, _HEALTH, f"Unhealthy targets: {targets}."),
                        Evidence(arn, _TG, _settings(group) + "."),
                    ),
                    remediation=(
                        "Make the container answer the health check: compare the target group's "
                        "path, port and success codes with what the application serves, and allow "
                        "the load balancer's security group in on the container port."
                    ),
                    depends_on=depends,
                )
            )
        elif not health and svc.running > 0:
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.CONFIRMED,
                    f"Target group {group.get('TargetGroupName')} has no registered targets while "
                    f"service {svc.name} runs {svc.running} task(s): ECS failed to register them.",
                    (Evidence(arn, _HEALTH, "DescribeTargetHealth returned no targets."),),
                    remediation=(
                        "Read the service events for `failed to register targets`; check the "
                        "target type (ip for awsvpc) and that the ECS service-linked role exists."
                    ),
                    depends_on=depends,
                )
            )
        elif health:
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.RULED_OUT,
                    f"All {len(health)} target(s) of {group.get('TargetGroupName')} are healthy "
                    "or starting.",
                    (Evidence(arn, _HEALTH, _settings(group) + "."),),
                )
            )
    return out


@check(Kind.TARGET_GROUP, reads=("elasticloadbalancing:DescribeTargetGroups",), rank=25)
def health_check_port(ctx: ServiceContext) -> list[CheckResult]:
    """The target group checks or routes to a port, or target type, the task does not serve."""
    svc = ctx.svc
    awsvpc = svc.task_definition().get("networkMode") == "awsvpc"
    out: list[CheckResult] = []
    for arn, group in svc.target_groups.items():
        name, port = _container_port(ctx, arn)
        container = svc.container_definition(name)
        mapped = set(container_ports(container or {}))
        problems: list[str] = []
        if port is not None and container is not None and port not in mapped:
            problems.append(
                f"the service sends traffic to container {name} port {port}, which is not one of "
                f"its port mappings ({', '.join(map(str, sorted(mapped))) or 'none'})"
            )
        target_type = group.get("TargetType")
        if awsvpc and target_type not in (None, "ip"):
            problems.append(f"awsvpc tasks register by IP but the target type is {target_type}")
        if not awsvpc and target_type == "ip":
            problems.append("the target type is ip but the task does not use awsvpc networking")
        health = _health_port(group, port)
        if (
            awsvpc
            and health is not None
            and port is not None
            and health != port
            and health not in mapped
        ):
            problems.append(
                f"the health check probes port {health} but the container listens on {port}"
            )
        evidence = (
            Evidence(arn, _TG, _settings(group) + f", target type {target_type}."),
            Evidence(
                svc.task_definition_arn,
                "ecs:DescribeTaskDefinition",
                f"Container {name} port mappings: {sorted(mapped) or 'none'}; the service maps "
                f"containerPort {port}.",
            ),
        )
        if problems:
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.CONFIRMED,
                    f"Target group {group.get('TargetGroupName')} cannot reach the task: "
                    + "; ".join(problems)
                    + ".",
                    evidence,
                    remediation=(
                        f"Point target group {group.get('TargetGroupName')}'s health check at "
                        f"`traffic-port` (container port {port}), use target type ip for awsvpc "
                        "tasks, and map the service's containerPort in the task definition."
                    ),
                )
            )
        elif container is None or port is None:
            # Nothing to compare the health check with: deploy.load_balancer_container names it.
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.INCONCLUSIVE,
                    f"The health check of target group {group.get('TargetGroupName')} cannot be "
                    "compared with the task: the service's load balancer "
                    + (
                        f"names container {name}, which the task definition does not define."
                        if container is None
                        else f"names no container port for container {name}."
                    ),
                    evidence[1:] + evidence[:1],
                )
            )
        else:
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.RULED_OUT,
                    f"Target group {group.get('TargetGroupName')} checks port {health} on container "
                    f"{name}, which the task maps; path and success codes are "
                    f"{group.get('HealthCheckPath') or '-'} / "
                    f"{(group.get('Matcher') or {}).get('HttpCode') or '-'}.",
                    evidence,
                )
            )
    return out


@check(
    Kind.SECURITY_GROUP,
    reads=(
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeLoadBalancers",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
    ),
    rank=30,
)
def security_group_blocks(ctx: ServiceContext) -> list[CheckResult]:
    """No task security group lets the load balancer in on the container (health check) port."""
    svc = ctx.svc
    task_groups = list(svc.awsvpc.get("securityGroups") or [])
    if not task_groups or not svc.target_groups:
        return []
    out: list[CheckResult] = []
    for arn, group in svc.target_groups.items():
        _, container_port = _container_port(ctx, arn)
        port = _health_port(group, container_port)
        if port is None:
            continue
        for lb_arn in group.get("LoadBalancerArns") or []:
            balancer = svc.load_balancer(lb_arn)
            if balancer is None:
                continue
            lb_groups = list(balancer.get("SecurityGroups") or [])
            lb_subnets = [
                z.get("SubnetId")
                for z in balancer.get("AvailabilityZones") or []
                if z.get("SubnetId")
            ]
            cidrs = [
                str(s.get("CidrBlock"))
                for s in svc.subnets(lb_subnets).values()
                if s.get("CidrBlock")
            ]
            groups = svc.security_groups(task_groups)
            allowing = [
                g
                for g in task_groups
                if g in groups and sg_allows(groups[g], "IpPermissions", port, cidrs, lb_groups)
            ]
            rules = "; ".join(
                f"{g}: "
                + (
                    ", ".join(
                        f"{p.get('IpProtocol')} {p.get('FromPort', 'all')}-{p.get('ToPort', 'all')} from "
                        + ",".join(
                            [r.get("CidrIp", "") for r in p.get("IpRanges", [])]
                            + [x.get("GroupId", "") for x in p.get("UserIdGroupPairs", [])]
                        )
                        for p in groups[g].get("IpPermissions", [])
                    )
                    or "no inbound rules"
                )
                for g in task_groups
                if g in groups
            )
            evidence = (
                Evidence(
                    lb_arn,
                    "elasticloadbalancing:DescribeLoadBalancers",
                    f"Load balancer {balancer.get('LoadBalancerName')} uses security groups "
                    f"{', '.join(lb_groups) or 'none'} in subnets {', '.join(cidrs) or '?'}.",
                ),
                Evidence(
                    ", ".join(task_groups),
                    "ec2:DescribeSecurityGroups",
                    f"Task inbound rules: {rules}.",
                ),
            )
            resource = task_groups[0]
            # A health check aimed at the wrong port is blocked too; the port is the cause then.
            depends = (ctx.ref(health_check_port, arn),) if port != container_port else ()
            if allowing:
                out.append(
                    ctx.result(
                        Kind.SECURITY_GROUP,
                        resource,
                        Status.RULED_OUT,
                        f"Security group {allowing[0]} lets load balancer "
                        f"{balancer.get('LoadBalancerName')} in on TCP {port}.",
                        evidence,
                    )
                )
            else:
                out.append(
                    ctx.result(
                        Kind.SECURITY_GROUP,
                        resource,
                        Status.CONFIRMED,
                        f"No security group of service {svc.name}'s tasks ({', '.join(task_groups)}) "
                        f"allows inbound TCP {port} from load balancer "
                        f"{balancer.get('LoadBalancerName')} "
                        f"({', '.join(lb_groups) or 'its subnets ' + ', '.join(cidrs)}), so its "
                        "health checks time out.",
                        evidence,
                        depends_on=depends,
                        remediation=(
                            f"aws ec2 authorize-security-group-ingress --group-id {resource} "
                            f"--protocol tcp --port {port} --source-group "
                            f"{lb_groups[0] if lb_groups else '<load balancer security group>'}"
                        ),
                    )
                )
    return out


@check(
    Kind.LOAD_BALANCER,
    reads=(
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeLoadBalancers",
        "ec2:DescribeSubnets",
    ),
    rank=35,
)
def availability_zones(ctx: ServiceContext) -> list[CheckResult]:
    """The service runs tasks in Availability Zones its load balancer is not enabled for."""
    svc = ctx.svc
    subnets = list(svc.awsvpc.get("subnets") or [])
    if not subnets or not svc.target_groups:
        return []
    zones = {s["SubnetId"]: s.get("AvailabilityZone") for s in svc.subnets(subnets).values()}
    out: list[CheckResult] = []
    seen: set[str] = set()
    for group in svc.target_groups.values():
        for lb_arn in group.get("LoadBalancerArns") or []:
            if lb_arn in seen:
                continue
            seen.add(lb_arn)
            balancer = svc.load_balancer(lb_arn)
            if balancer is None:
                continue
            enabled = {z.get("ZoneName") for z in balancer.get("AvailabilityZones") or []}
            outside = sorted(f"{s} ({z})" for s, z in zones.items() if z not in enabled)
            evidence = (
                Evidence(
                    lb_arn,
                    "elasticloadbalancing:DescribeLoadBalancers",
                    f"Enabled zones: {', '.join(sorted(z for z in enabled if z))}; service subnets: "
                    + ", ".join(f"{s} ({z})" for s, z in sorted(zones.items()))
                    + ".",
                ),
            )
            out.append(
                ctx.result(
                    Kind.LOAD_BALANCER,
                    lb_arn,
                    Status.CONFIRMED if outside else Status.RULED_OUT,
                    (
                        f"Load balancer {balancer.get('LoadBalancerName')} is not enabled in the zone "
                        f"of subnets {', '.join(outside)}: tasks there never receive traffic or "
                        "health checks."
                    )
                    if outside
                    else f"Load balancer {balancer.get('LoadBalancerName')} covers every zone of "
                    "the service's subnets.",
                    evidence,
                    remediation=(
                        "Enable those zones on the load balancer, or run the service only in "
                        "subnets of its zones."
                    )
                    if outside
                    else None,
                )
            )
    return out


__all__ = ["availability_zones", "health_check_port", "security_group_blocks", "target_health"]
