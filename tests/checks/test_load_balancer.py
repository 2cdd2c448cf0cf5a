"""Table tests of the load balancer checks: target health, health check port, security groups, zones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ecsdoctor.checks.load_balancer import (
    availability_zones,
    health_check_port,
    security_group_blocks,
    target_health,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import (
    load_balancer,
    rule,
    security_group,
    subnet,
    target,
    target_group,
)
from tests.checks.table import (
    EAST,
    WEST,
    Built,
    Row,
    Where,
    service_context,
    service_document,
    task_definition,
    task_reader,
    verify,
)

HEALTH = "elasticloadbalancing:DescribeTargetHealth"
GROUPS = "elasticloadbalancing:DescribeTargetGroups"
BALANCERS = "elasticloadbalancing:DescribeLoadBalancers"


@dataclass(frozen=True)
class Net:
    """One region's VPC: task subnets per zone, load balancer subnets, groups, ARNs."""

    where: Where
    vpc: str
    tasks: dict[str, tuple[str, str]]  # zone -> (subnet id, CIDR)
    public: dict[str, tuple[str, str]]
    task_sg: str
    lb_sg: str
    tg: str
    lb: str


EAST_NET = Net(
    EAST,
    "vpc-0e1f2a3b4c5d6e7f8",
    {
        "us-east-1a": ("subnet-0a1b2c3d4e5f60718", "10.0.1.0/24"),
        "us-east-1b": ("subnet-0b2c3d4e5f6071829", "10.0.2.0/24"),
        "us-east-1c": ("subnet-0c3d4e5f607182930", "10.0.3.0/24"),
    },
    {
        "us-east-1a": ("subnet-0d4e5f6071829304a", "10.0.101.0/24"),
        "us-east-1b": ("subnet-0e5f6071829304a5b", "10.0.102.0/24"),
    },
    "sg-0123456789abcdef0",
    "sg-0fedcba9876543210",
    "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-tg/6d0ecf831eec9f09",
    "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web-alb/50dc6c495c0c9188",
)
WEST_NET = Net(
    WEST,
    "vpc-07a8b9c0d1e2f3a4b",
    {
        "eu-west-1a": ("subnet-01f2e3d4c5b6a7980", "10.1.1.0/24"),
        "eu-west-1b": ("subnet-02e3d4c5b6a798011", "10.1.2.0/24"),
    },
    {
        "eu-west-1a": ("subnet-03d4c5b6a79801122", "10.1.101.0/24"),
        "eu-west-1b": ("subnet-04c5b6a7980112233", "10.1.102.0/24"),
    },
    "sg-0a9b8c7d6e5f40312",
    "sg-0b8c7d6e5f4031221",
    "arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup/payments-tg/73e2d6bc24d8a067",
    "arn:aws:elasticloadbalancing:eu-west-1:444455556666:loadbalancer/net/payments-nlb/3f1b7a2c9d4e5f60",
)


def _world(
    net: Net,
    *,
    inbound: list[dict[str, Any]] | None = None,
    health_port: str = "traffic-port",
    target_type: str = "ip",
    service_zones: tuple[str, ...] | None = None,
    lb_zones: tuple[str, ...] | None = None,
    targets: list[dict[str, Any]] | None = None,
    running: int = 2,
    load_balanced: bool = True,
    network_mode: str = "awsvpc",
    deny: str | None = None,
    lb_container: str = "web",
) -> Built:
    """A service of two tasks behind a load balancer, everything planted; `deny` breaks one read."""
    where = net.where
    container = {
        "name": "web",
        "image": f"{where.registry()}/web:5.1.0",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
    }
    definition = task_definition(where, "web", 21, [container], networkMode=network_mode)
    reader = task_reader(where, definition)
    zones = service_zones or tuple(net.tasks)
    lb_zones = lb_zones or tuple(net.public)
    raw: dict[str, Any] = {"runningCount": running}
    if load_balanced:
        raw["loadBalancers"] = [
            {"targetGroupArn": net.tg, "containerName": lb_container, "containerPort": 8080}
        ]
    if network_mode == "awsvpc":
        raw["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": [net.tasks[z][0] for z in zones],
                "securityGroups": [net.task_sg],
                "assignPublicIp": "DISABLED",
            }
        }
    nlb = "/net/" in net.lb
    reader.on(
        "elbv2",
        "DescribeTargetGroups",
        {
            "TargetGroups": [
                target_group(
                    net.tg, net.vpc, net.lb, health_port=health_port, target_type=target_type
                )
            ]
        },
        region=where.region,
        TargetGroupArns=[net.tg],
    )
    reader.on(
        "elbv2",
        "DescribeTargetHealth",
        {"TargetHealthDescriptions": targets if targets is not None else []},
        region=where.region,
        TargetGroupArn=net.tg,
    )
    reader.on(
        "elbv2",
        "DescribeLoadBalancers",
        {
            "LoadBalancers": [
                load_balancer(
                    net.lb,
                    net.vpc,
                    {z: net.public[z][0] for z in lb_zones},
                    None if nlb else [net.lb_sg],
                )
            ]
        },
        region=where.region,
        LoadBalancerArns=[net.lb],
    )
    every = {**{s: (z, c) for z, (s, c) in net.tasks.items()}}
    every.update({s: (z, c) for z, (s, c) in net.public.items()})
    for ids in (sorted(net.public[z][0] for z in lb_zones), sorted(net.tasks[z][0] for z in zones)):
        reader.on(
            "ec2",
            "DescribeSubnets",
            {"Subnets": [subnet(s, net.vpc, every[s][1], every[s][0], where.account) for s in ids]},
            region=where.region,
            SubnetIds=ids,
        )
    default_inbound = [rule(8080, group=net.lb_sg)]
    reader.on(
        "ec2",
        "DescribeSecurityGroups",
        {
            "SecurityGroups": [
                security_group(
                    net.task_sg,
                    net.vpc,
                    "web-tasks",
                    default_inbound if inbound is None else inbound,
                )
            ]
        },
        region=where.region,
        GroupIds=[net.task_sg],
    )
    if deny:
        service, operation = deny.split(".")
        reader.deny(service, operation)
    doc = service_document(where, "web", definition, **raw)
    return service_context(reader, where, doc), reader


# -- target_health --------------------------------------------------------------------------------
UNHEALTHY = [
    target(
        "10.0.1.23",
        "us-east-1a",
        "unhealthy",
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [404]",
    ),
    target(
        "10.0.2.41",
        "us-east-1b",
        "unhealthy",
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [404]",
    ),
]
HEALTHY = [
    target("10.1.1.17", "eu-west-1a", "healthy"),
    target(
        "10.1.2.88",
        "eu-west-1b",
        "initial",
        "Elb.RegistrationInProgress",
        "Target registration is in progress",
    ),
]

HEALTH_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_NET, targets=UNHEALTHY),
            Status.CONFIRMED,
            Kind.TARGET_GROUP,
            EAST_NET.tg,
            "Target.ResponseCodeMismatch: Health checks failed with these codes: [404]",
            HEALTH,
        ),
        id="confirmed-unhealthy",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, targets=[], running=2),
            Status.CONFIRMED,
            Kind.TARGET_GROUP,
            WEST_NET.tg,
            "DescribeTargetHealth returned no targets.",
            HEALTH,
        ),
        id="confirmed-nothing-registered",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, targets=HEALTHY),
            Status.RULED_OUT,
            Kind.TARGET_GROUP,
            WEST_NET.tg,
            "All 2 target(s) of payments-tg are healthy or starting",
            HEALTH,
        ),
        id="ruled-out-healthy",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, targets=UNHEALTHY, deny="elbv2.DescribeTargetHealth"),
            Status.INCONCLUSIVE,
            Kind.TARGET_GROUP,
            EAST.service_arn("web"),
            f"access denied for {HEALTH}",
            permission=HEALTH,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST_NET, load_balanced=False), None), id="not-applicable-no-lb"
    ),
    pytest.param(
        Row(lambda: _world(WEST_NET, targets=[], running=0), None),
        id="not-applicable-nothing-running",
    ),
]


@pytest.mark.parametrize("row", HEALTH_ROWS)
def test_target_health(row: Row) -> None:
    verify(target_health, row)


# -- health_check_port ----------------------------------------------------------------------------
PORT_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_NET, health_port="80"),
            Status.CONFIRMED,
            Kind.TARGET_GROUP,
            EAST_NET.tg,
            "the health check probes port 80 but the container listens on 8080",
            GROUPS,
        ),
        id="confirmed-wrong-health-port",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, target_type="instance"),
            Status.CONFIRMED,
            Kind.TARGET_GROUP,
            WEST_NET.tg,
            "awsvpc tasks register by IP but the target type is instance",
            GROUPS,
        ),
        id="confirmed-instance-target-type",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET),
            Status.RULED_OUT,
            Kind.TARGET_GROUP,
            WEST_NET.tg,
            "Container web port mappings: [8080]; the service maps containerPort 8080.",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-traffic-port",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, lb_container="api"),
            Status.INCONCLUSIVE,
            Kind.TARGET_GROUP,
            EAST_NET.tg,
            "names container api, which the task definition does not define",
            "ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-container-not-in-task-definition",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, deny="elbv2.DescribeTargetGroups"),
            Status.INCONCLUSIVE,
            Kind.TARGET_GROUP,
            EAST.service_arn("web"),
            f"access denied for {GROUPS}",
            permission=GROUPS,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST_NET, load_balanced=False), None), id="not-applicable-no-lb"
    ),
]


@pytest.mark.parametrize("row", PORT_ROWS)
def test_health_check_port(row: Row) -> None:
    verify(health_check_port, row)


# -- security_group_blocks ------------------------------------------------------------------------
SG_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_NET, inbound=[rule(443, cidr="0.0.0.0/0")]),
            Status.CONFIRMED,
            Kind.SECURITY_GROUP,
            EAST_NET.task_sg,
            f"allows inbound TCP 8080 from load balancer web-alb ({EAST_NET.lb_sg})",
            "ec2:DescribeSecurityGroups",
        ),
        id="confirmed-no-rule-for-lb",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET),
            Status.RULED_OUT,
            Kind.SECURITY_GROUP,
            EAST_NET.task_sg,
            f"Security group {EAST_NET.task_sg} lets load balancer web-alb in on TCP 8080",
            "ec2:DescribeSecurityGroups",
        ),
        id="ruled-out-lb-group-allowed",
    ),
    pytest.param(
        Row(
            # A network load balancer has no security group: its subnets' CIDRs must be let in.
            lambda: _world(WEST_NET, inbound=[rule(8080, cidr="10.1.0.0/16")]),
            Status.RULED_OUT,
            Kind.SECURITY_GROUP,
            WEST_NET.task_sg,
            "uses security groups none in subnets 10.1.101.0/24, 10.1.102.0/24",
            BALANCERS,
        ),
        id="ruled-out-nlb-subnets-allowed",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, deny="ec2.DescribeSecurityGroups"),
            Status.INCONCLUSIVE,
            Kind.SECURITY_GROUP,
            WEST.service_arn("web"),
            "access denied for ec2:DescribeSecurityGroups",
            permission="ec2:DescribeSecurityGroups",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST_NET, network_mode="bridge"), None),
        id="not-applicable-no-awsvpc",
    ),
]


@pytest.mark.parametrize("row", SG_ROWS)
def test_security_group_blocks(row: Row) -> None:
    verify(security_group_blocks, row)


# -- availability_zones ---------------------------------------------------------------------------
ZONE_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_NET),
            Status.CONFIRMED,
            Kind.LOAD_BALANCER,
            EAST_NET.lb,
            "is not enabled in the zone of subnets subnet-0c3d4e5f607182930 (us-east-1c)",
            BALANCERS,
        ),
        id="confirmed-zone-not-enabled",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET),
            Status.RULED_OUT,
            Kind.LOAD_BALANCER,
            WEST_NET.lb,
            "Enabled zones: eu-west-1a, eu-west-1b; service subnets:",
            BALANCERS,
        ),
        id="ruled-out-zones-covered",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, deny="elbv2.DescribeLoadBalancers"),
            Status.INCONCLUSIVE,
            Kind.LOAD_BALANCER,
            EAST.service_arn("web"),
            f"access denied for {BALANCERS}",
            permission=BALANCERS,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST_NET, network_mode="bridge"), None),
        id="not-applicable-no-awsvpc",
    ),
]


@pytest.mark.parametrize("row", ZONE_ROWS)
def test_availability_zones(row: Row) -> None:
    verify(availability_zones, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    target_health: HEALTH_ROWS,
    health_check_port: PORT_ROWS,
    security_group_blocks: SG_ROWS,
    availability_zones: ZONE_ROWS,
}
