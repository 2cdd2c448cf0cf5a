"""Table tests of the deploy-time checks: load balancer container/port, target group attached,
task definition revision ACTIVE. Two regions and accounts, as the other check tables."""

from __future__ import annotations

from typing import Any

import pytest

from ecsdoctor.checks.deploy import (
    load_balancer_container,
    target_group_attached,
    task_definition_active,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import target_group
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

DEFINITION = "ecs:DescribeTaskDefinition"
GROUPS = "elasticloadbalancing:DescribeTargetGroups"
TG = {
    EAST: "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-tg/6d0ecf831eec9f09",
    WEST: "arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup/payments-tg/73e2d6bc24d8a067",
}
LB = {
    EAST: "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/web-alb/50dc6c495c0c9188",
    WEST: "arn:aws:elasticloadbalancing:eu-west-1:444455556666:loadbalancer/net/payments-nlb/3f1b7a2c9d4e5f60",
}


def _world(
    where: Where,
    *,
    container_name: str = "web",
    container_port: int = 8080,
    attached: bool = True,
    status: str | None = "ACTIVE",
    load_balanced: bool = True,
    deny: str | None = None,
) -> Built:
    """A Fargate service behind one target group; the knobs break what the deploy error names."""
    container = {
        "name": "web",
        "image": f"{where.registry()}/web:5.1.0",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    }
    sidecar = {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0"}
    definition = task_definition(where, "web", 21, [container, sidecar], status=status)
    definition = {k: v for k, v in definition.items() if v is not None}
    reader = task_reader(where, definition)
    group = target_group(TG[where], "vpc-0e1f2a3b4c5d6e7f8", LB[where])
    if not attached:
        group["LoadBalancerArns"] = []
    reader.on(
        "elbv2",
        "DescribeTargetGroups",
        {"TargetGroups": [group]},
        region=where.region,
        TargetGroupArns=[TG[where]],
    )
    raw: dict[str, Any] = {}
    if load_balanced:
        raw["loadBalancers"] = [
            {
                "targetGroupArn": TG[where],
                "containerName": container_name,
                "containerPort": container_port,
            }
        ]
    if deny:
        service, operation = deny.split(".")
        reader.deny(service, operation)
    doc = service_document(where, "web", definition, **raw)
    return service_context(reader, where, doc), reader


# -- load_balancer_container ----------------------------------------------------------------------
CONTAINER_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, container_name="web-app"),
            Status.CONFIRMED,
            Kind.TASK_DEFINITION,
            EAST.td_arn("web", 21),
            "container web-app is not in the task definition (its containers: envoy, web)",
            DEFINITION,
        ),
        id="confirmed-container-missing",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, container_port=80),
            Status.CONFIRMED,
            Kind.TASK_DEFINITION,
            WEST.td_arn("web", 21),
            "container web maps no containerPort 80 (its ports: 8080)",
            DEFINITION,
        ),
        id="confirmed-port-not-mapped",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            WEST.td_arn("web", 21),
            "(web:8080)",
            DEFINITION,
        ),
        id="ruled-out-matches",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, deny="ecs.DescribeTaskDefinition"),
            Status.INCONCLUSIVE,
            Kind.TASK_DEFINITION,
            EAST.service_arn("web"),
            f"access denied for {DEFINITION}",
            permission=DEFINITION,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(EAST, load_balanced=False), None), id="not-load-balanced"),
]


@pytest.mark.parametrize("row", CONTAINER_ROWS)
def test_load_balancer_container(row: Row) -> None:
    verify(load_balancer_container, row)


# -- target_group_attached ------------------------------------------------------------------------
ATTACHED_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, attached=False),
            Status.CONFIRMED,
            Kind.TARGET_GROUP,
            TG[EAST],
            "Target group web-tg is attached to no load balancer",
            GROUPS,
        ),
        id="confirmed-no-load-balancer",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST),
            Status.RULED_OUT,
            Kind.TARGET_GROUP,
            TG[WEST],
            f"is attached to {LB[WEST]}",
            GROUPS,
        ),
        id="ruled-out-attached",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, deny="elbv2.DescribeTargetGroups"),
            Status.INCONCLUSIVE,
            Kind.TARGET_GROUP,
            WEST.service_arn("web"),
            f"access denied for {GROUPS}",
            permission=GROUPS,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(WEST, load_balanced=False), None), id="not-load-balanced"),
]


@pytest.mark.parametrize("row", ATTACHED_ROWS)
def test_target_group_attached(row: Row) -> None:
    verify(target_group_attached, row)


# -- task_definition_active -----------------------------------------------------------------------
ACTIVE_ROWS = [
    pytest.param(
        Row(
            lambda: _world(WEST, status="INACTIVE"),
            Status.CONFIRMED,
            Kind.TASK_DEFINITION,
            WEST.td_arn("web", 21),
            "is INACTIVE: it was deregistered",
            DEFINITION,
        ),
        id="confirmed-inactive",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            EAST.td_arn("web", 21),
            "is ACTIVE",
            DEFINITION,
        ),
        id="ruled-out-active",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, deny="ecs.DescribeTaskDefinition"),
            Status.INCONCLUSIVE,
            Kind.TASK_DEFINITION,
            WEST.service_arn("web"),
            f"access denied for {DEFINITION}",
            permission=DEFINITION,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(EAST, status=None), None), id="no-status-no-verdict"),
]


@pytest.mark.parametrize("row", ACTIVE_ROWS)
def test_task_definition_active(row: Row) -> None:
    verify(task_definition_active, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    load_balancer_container: CONTAINER_ROWS,
    target_group_attached: ATTACHED_ROWS,
    task_definition_active: ACTIVE_ROWS,
}
