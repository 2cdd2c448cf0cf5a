"""What a deploy-time API error says about a service, read back from the service as it is.

CreateService and UpdateService refuse a load balancer naming a container or port the task
definition lacks, a target group no load balancer forwards to, or an INACTIVE task definition
revision. When the service exists (an update, a redeploy, a rollback), its configuration still
holds what the error describes: these checks read it and confirm or rule the cause out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecsdoctor.checks.base import ServiceContext, check
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.service import container_ports

Raw = Mapping[str, Any]

_DEFINITION = "ecs:DescribeTaskDefinition"
_GROUPS = "elasticloadbalancing:DescribeTargetGroups"


@check(Kind.TASK_DEFINITION, reads=(), rank=22)
def load_balancer_container(ctx: ServiceContext) -> list[CheckResult]:
    """The service's load balancer names a container, or container port, its task definition lacks."""
    svc = ctx.svc
    if not svc.load_balancers:
        return []
    definition = svc.task_definition()
    arn = str(definition.get("taskDefinitionArn") or svc.task_definition_arn)
    containers = {str(c.get("name")): c for c in definition.get("containerDefinitions") or []}
    problems: list[str] = []
    seen: list[str] = []
    for lb in svc.load_balancers:
        name = str(lb.get("containerName"))
        port = lb.get("containerPort")
        container = containers.get(name)
        if container is None:
            problems.append(
                f"container {name} is not in the task definition (its containers: "
                f"{', '.join(sorted(containers)) or 'none'})"
            )
            continue
        ports = container_ports(container)
        if isinstance(port, int) and port not in ports:
            problems.append(
                f"container {name} maps no containerPort {port} (its ports: "
                f"{', '.join(map(str, ports)) or 'none'})"
            )
            continue
        seen.append(f"{name}:{port}")
    evidence = (
        Evidence(
            arn,
            _DEFINITION,
            "Containers and ports: "
            + "; ".join(f"{n} {container_ports(c) or 'no ports'}" for n, c in sorted(containers.items()))
            + ".",
        ),
        Evidence(
            svc.arn,
            "ecs:DescribeServices",
            "loadBalancers: "
            + ", ".join(
                f"{lb.get('containerName')}:{lb.get('containerPort')}" for lb in svc.load_balancers
            )
            + ".",
        ),
    )
    if problems:
        return [
            ctx.result(
                Kind.TASK_DEFINITION,
                arn,
                Status.CONFIRMED,
                f"The service's load balancer does not match task definition {arn}: "
                + "; ".join(problems)
                + ".",
                evidence,
                remediation=(
                    "Make the service's loadBalancers containerName the `name` of a container "
                    "in the task definition and containerPort one of its portMappings' "
                    "containerPort (or add that port mapping in a new revision)."
                ),
            )
        ]
    return [
        ctx.result(
            Kind.TASK_DEFINITION,
            arn,
            Status.RULED_OUT,
            f"Every container and port the load balancer names is in task definition {arn} "
            f"({', '.join(seen)}).",
            evidence,
        )
    ]


@check(Kind.TARGET_GROUP, reads=(_GROUPS,), rank=23)
def target_group_attached(ctx: ServiceContext) -> list[CheckResult]:
    """A target group of the service is attached to no load balancer (no listener forwards to it)."""
    out: list[CheckResult] = []
    for arn, group in ctx.svc.target_groups.items():
        balancers = [str(b) for b in group.get("LoadBalancerArns") or []]
        name = group.get("TargetGroupName") or arn
        if balancers:
            out.append(
                ctx.result(
                    Kind.TARGET_GROUP,
                    arn,
                    Status.RULED_OUT,
                    f"Target group {name} is attached to {', '.join(balancers)}.",
                    (Evidence(arn, _GROUPS, f"LoadBalancerArns: {', '.join(balancers)}."),),
                )
            )
            continue
        out.append(
            ctx.result(
                Kind.TARGET_GROUP,
                arn,
                Status.CONFIRMED,
                f"Target group {name} is attached to no load balancer: no listener or listener "
                "rule forwards to it, so ECS cannot register the service's tasks behind it.",
                (Evidence(arn, _GROUPS, "LoadBalancerArns is empty."),),
                remediation=(
                    f"Create a listener (or listener rule) that forwards to {name} before the "
                    "service, or point the service at the target group the listener uses."
                ),
            )
        )
    return out


@check(Kind.TASK_DEFINITION, reads=(), rank=21)
def task_definition_active(ctx: ServiceContext) -> list[CheckResult]:
    """The service's task definition revision was deregistered (INACTIVE): no task can start."""
    svc = ctx.svc
    definition = svc.task_definition()
    arn = str(definition.get("taskDefinitionArn") or svc.task_definition_arn)
    status = definition.get("status")
    if not isinstance(status, str):
        return []
    evidence = (Evidence(arn, _DEFINITION, f"status {status}."),)
    if status == "ACTIVE":
        return [
            ctx.result(
                Kind.TASK_DEFINITION,
                arn,
                Status.RULED_OUT,
                f"Task definition {arn} is ACTIVE.",
                evidence,
            )
        ]
    family = str(definition.get("family") or arn)
    return [
        ctx.result(
            Kind.TASK_DEFINITION,
            arn,
            Status.CONFIRMED,
            f"Task definition {arn} is {status}: it was deregistered, so ECS starts no new task "
            "from it and refuses deployments that name it.",
            evidence,
            remediation=(
                f"Register a new revision of {family} (or use its latest ACTIVE revision) and "
                "update the service to it; stop the pipeline or template from deregistering "
                "revisions it still references."
            ),
        )
    ]
