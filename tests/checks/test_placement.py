"""Table tests of the placement checks: Fargate sizes, container instances, capacity providers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecsdoctor.checks import ServiceContext
from ecsdoctor.checks.placement import capacity_provider, container_instances, fargate_size
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.fake_reader import FakeReader
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

Plant = Callable[[FakeReader], object]
DEFINITION = "ecs:DescribeTaskDefinition"
NO_ROOM = "service_event.insufficient_memory"


def _world(
    where: Where,
    *plants: Plant,
    td: dict[str, Any] | None = None,
    events: tuple[str, ...] = (),
    **raw: Any,
) -> Built:
    container = {
        "name": "web",
        "image": f"{where.registry()}/web:5.1.0",
        "essential": True,
        "memoryReservation": 512,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
    }
    shape = {"cpu": "1024", "memory": "3072", **(td or {})}
    definition = task_definition(where, "web", 21, [container], **shape)
    definition = {k: v for k, v in definition.items() if v is not None}
    reader = task_reader(where, definition)
    for plant in plants:
        plant(reader)
    doc = service_document(where, "web", definition, **raw)
    return service_context(reader, where, doc, event_entries=events), reader


def _deny(service: str, operation: str) -> Plant:
    return lambda r: r.deny(service, operation)


# -- fargate_size ---------------------------------------------------------------------------------
FARGATE_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, td={"cpu": "256", "memory": "4096"}),
            Status.CONFIRMED,
            Kind.TASK_DEFINITION,
            EAST.td_arn("web", 21),
            "cpu 256, memory 4096 MiB.",
            DEFINITION,
        ),
        id="confirmed-memory-too-large",
    ),
    pytest.param(
        Row(
            # No launch type: a capacity provider strategy on Fargate Spot places the tasks.
            lambda: _world(
                WEST,
                td={"cpu": None, "memory": None, "requiresCompatibilities": ["EC2"]},
                launchType=None,
                capacityProviderStrategy=[
                    {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}
                ],
            ),
            Status.CONFIRMED,
            Kind.TASK_DEFINITION,
            WEST.td_arn("web", 21),
            "sets no task-level cpu and memory, which Fargate requires",
            DEFINITION,
        ),
        id="confirmed-no-task-size-on-spot",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, td={"cpu": "1024", "memory": "3072"}),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            WEST.td_arn("web", 21),
            "cpu 1024 with 3072 MiB is a valid Fargate size",
            DEFINITION,
        ),
        id="ruled-out-valid-size",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, _deny("ecs", "DescribeTaskDefinition")),
            Status.INCONCLUSIVE,
            Kind.TASK_DEFINITION,
            EAST.service_arn("web"),
            f"access denied for {DEFINITION}",
            permission=DEFINITION,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST, td={"cpu": "256", "memory": "4096"}, launchType="EC2"), None),
        id="not-applicable-ec2",
    ),
]


@pytest.mark.parametrize("row", FARGATE_ROWS)
def test_fargate_size(row: Row) -> None:
    verify(fargate_size, row)


# -- container_instances --------------------------------------------------------------------------
def _instance(
    where: Where,
    instance_id: str,
    *,
    cpu: int,
    memory: int,
    ports: tuple[str, ...] = ("22", "2375", "2376", "51678", "51679"),
    connected: bool = True,
    attributes: tuple[str, ...] = ("com.amazonaws.ecs.capability.ecr-auth",),
) -> dict[str, Any]:
    arn_id = instance_id.replace("i-", "").ljust(32, "0")[:32]
    prefix = f"arn:aws:ecs:{where.region}:{where.account}:container-instance"
    return {
        "containerInstanceArn": f"{prefix}/{where.cluster}/{arn_id}",
        "ec2InstanceId": instance_id,
        "version": 41,
        "versionInfo": {
            "agentVersion": "1.88.0",
            "agentHash": "a1b2c3d",
            "dockerVersion": "DockerVersion: 25.0.6",
        },
        "remainingResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            {"name": "PORTS", "type": "STRINGSET", "stringSetValue": list(ports)},
            {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
        ],
        "registeredResources": [
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": 7680},
        ],
        "status": "ACTIVE",
        "agentConnected": connected,
        "runningTasksCount": 1,
        "pendingTasksCount": 0,
        "attributes": [{"name": a} for a in attributes],
    }


def _instances(where: Where, *instances: dict[str, Any]) -> Plant:
    arns = [str(i["containerInstanceArn"]) for i in instances]

    def plant(reader: FakeReader) -> None:
        reader.on(
            "ecs",
            "ListContainerInstances",
            {"containerInstanceArns": arns},
            region=where.region,
            cluster=where.cluster_arn,
        )
        reader.on(
            "ecs",
            "DescribeContainerInstances",
            {"containerInstances": list(instances), "failures": []},
            region=where.region,
            cluster=where.cluster_arn,
            containerInstances=sorted(arns),
        )

    return plant


def _ec2(where: Where, *plants: Plant, **raw: Any) -> Built:
    """An EC2 service with 2 desired and fewer running: placement trouble shows."""
    return _world(
        where,
        *plants,
        td={"requiresAttributes": [{"name": "com.amazonaws.ecs.capability.ecr-auth"}]},
        launchType="EC2",
        runningCount=1,
        **raw,
    )


FULL = _instance(EAST, "i-0a1b2c3d4e5f60718", cpu=512, memory=6000)
BUSY_PORT = _instance(EAST, "i-0b2c3d4e5f6071829", cpu=2048, memory=6000, ports=("22", "8080"))
DISCONNECTED = _instance(
    EAST, "i-0c3d4e5f607182930", cpu=2048, memory=6000, connected=False, attributes=()
)
ROOMY = _instance(WEST, "i-0d4e5f6071829304a", cpu=1536, memory=4096)

INSTANCE_ROWS = [
    pytest.param(
        Row(
            lambda: _ec2(EAST, _instances(EAST, FULL, BUSY_PORT, DISCONNECTED)),
            Status.CONFIRMED,
            Kind.CONTAINER_INSTANCE,
            EAST.cluster_arn,
            "512 CPU units free of 1024 needed",
            "ecs:DescribeContainerInstances",
        ),
        id="confirmed-no-instance-fits",
    ),
    pytest.param(
        Row(
            lambda: _ec2(EAST, _instances(EAST, FULL, BUSY_PORT, DISCONNECTED)),
            Status.CONFIRMED,
            Kind.CONTAINER_INSTANCE,
            EAST.cluster_arn,
            "host port(s) 8080 in use",
            "ecs:DescribeContainerInstances",
        ),
        id="confirmed-names-port-conflict",
    ),
    pytest.param(
        Row(
            lambda: _ec2(EAST, _instances(EAST, FULL, BUSY_PORT, DISCONNECTED)),
            Status.CONFIRMED,
            Kind.CONTAINER_INSTANCE,
            EAST.cluster_arn,
            "agent disconnected, missing attribute(s) com.amazonaws.ecs.capability.ecr-auth",
            "ecs:DescribeContainerInstances",
        ),
        id="confirmed-names-agent-and-attribute",
    ),
    pytest.param(
        Row(
            lambda: _ec2(WEST, _instances(WEST)),
            Status.CONFIRMED,
            Kind.CLUSTER,
            WEST.cluster_arn,
            "ListContainerInstances returned none.",
            "ecs:ListContainerInstances",
        ),
        id="confirmed-empty-cluster",
    ),
    pytest.param(
        Row(
            lambda: _ec2(WEST, _instances(WEST, ROOMY)),
            Status.RULED_OUT,
            Kind.CONTAINER_INSTANCE,
            WEST.cluster_arn,
            "1 instance(s); the task needs 1024 CPU units, 3072 MiB, host ports [8080]",
            "ecs:DescribeContainerInstances",
        ),
        id="ruled-out-instance-fits",
    ),
    pytest.param(
        Row(
            lambda: _ec2(EAST, _deny("ecs", "ListContainerInstances")),
            Status.INCONCLUSIVE,
            Kind.CONTAINER_INSTANCE,
            EAST.service_arn("web"),
            "access denied for ecs:ListContainerInstances",
            permission="ecs:ListContainerInstances",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # Fargate places no task on container instances.
        Row(lambda: _world(WEST, runningCount=0), None),
        id="not-applicable-fargate",
    ),
    pytest.param(
        # Everything desired runs and no placement event: nothing to explain.
        Row(lambda: _world(EAST, launchType="EC2", runningCount=2), None),
        id="not-applicable-no-placement-trouble",
    ),
]


@pytest.mark.parametrize("row", INSTANCE_ROWS)
def test_container_instances(row: Row) -> None:
    verify(container_instances, row)


def test_a_placement_event_is_trouble_even_when_the_counts_agree() -> None:
    """ECS reported it could not place a task: the instances are checked although 2 of 2 run."""
    ctx, _ = _world(
        EAST,
        _instances(EAST, FULL),
        launchType="EC2",
        runningCount=2,
        events=(NO_ROOM,),
    )
    assert isinstance(ctx, ServiceContext)
    [verdict] = container_instances(ctx)
    assert verdict.status is Status.CONFIRMED
    assert "512 CPU units free of 1024 needed" in verdict.detail


# -- capacity_provider ----------------------------------------------------------------------------
def _cluster(where: Where, providers: list[str], default: list[str] | None = None) -> Plant:
    doc = {
        "clusterArn": where.cluster_arn,
        "clusterName": where.cluster,
        "status": "ACTIVE",
        "registeredContainerInstancesCount": 0,
        "runningTasksCount": 3,
        "pendingTasksCount": 0,
        "activeServicesCount": 4,
        "statistics": [],
        "tags": [],
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "capacityProviders": providers,
        "defaultCapacityProviderStrategy": [
            {"capacityProvider": p, "weight": 1, "base": 0} for p in default or []
        ],
    }
    return lambda r: r.on(
        "ecs",
        "DescribeClusters",
        {"clusters": [doc], "failures": []},
        region=where.region,
        clusters=[where.cluster_arn],
    )


def _providers(where: Where, asked: list[str], found: dict[str, tuple[str, str | None]]) -> Plant:
    """DescribeCapacityProviders: `found` maps name -> (status, updateStatus); others MISSING."""
    providers = []
    for name, (status, update) in found.items():
        provider: dict[str, Any] = {
            "capacityProviderArn": f"arn:aws:ecs:{where.region}:{where.account}:capacity-provider/{name}",
            "name": name,
            "status": status,
            "autoScalingGroupProvider": {
                "autoScalingGroupArn": f"arn:aws:autoscaling:{where.region}:{where.account}:autoScalingGroup:"
                f"5a7c3e1b-2d4f-4a6b-8c9d-0e1f2a3b4c5d:autoScalingGroupName/{name}-asg",
                "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
                "managedTerminationProtection": "DISABLED",
            },
            "tags": [],
        }
        if update:
            provider["updateStatus"] = update
        providers.append(provider)
    failures = [
        {
            "arn": f"arn:aws:ecs:{where.region}:{where.account}:capacity-provider/{n}",
            "reason": "MISSING",
        }
        for n in asked
        if n not in found
    ]
    return lambda r: r.on(
        "ecs",
        "DescribeCapacityProviders",
        {"capacityProviders": providers, "failures": failures},
        region=where.region,
        capacityProviders=asked,
    )


def _strategy(*names: str) -> list[dict[str, Any]]:
    return [{"capacityProvider": n, "weight": 1, "base": 0} for n in names]


PROVIDER_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _cluster(EAST, ["FARGATE", "FARGATE_SPOT"]),
                _providers(EAST, ["web-asg-cp"], {}),
                launchType=None,
                capacityProviderStrategy=_strategy("web-asg-cp"),
            ),
            Status.CONFIRMED,
            Kind.CAPACITY_PROVIDER,
            "web-asg-cp",
            "web-asg-cp is not associated with the cluster; web-asg-cp does not exist",
            "ecs:DescribeClusters",
        ),
        id="confirmed-unknown-provider",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _cluster(WEST, ["payments-asg-cp"]),
                _providers(
                    WEST, ["payments-asg-cp"], {"payments-asg-cp": ("INACTIVE", "DELETE_COMPLETE")}
                ),
                launchType=None,
                capacityProviderStrategy=_strategy("payments-asg-cp"),
            ),
            Status.CONFIRMED,
            Kind.CAPACITY_PROVIDER,
            "payments-asg-cp",
            "payments-asg-cp is INACTIVE (DELETE_COMPLETE)",
            "ecs:DescribeCapacityProviders",
        ),
        id="confirmed-inactive-provider",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _cluster(EAST, ["web-asg-cp", "FARGATE"]),
                _providers(EAST, ["web-asg-cp"], {"web-asg-cp": ("ACTIVE", None)}),
                launchType=None,
                capacityProviderStrategy=_strategy("web-asg-cp"),
            ),
            Status.RULED_OUT,
            Kind.CAPACITY_PROVIDER,
            "web-asg-cp",
            "Strategy web-asg-cp; cluster providers FARGATE, web-asg-cp",
            "ecs:DescribeCapacityProviders",
        ),
        id="ruled-out-active-provider",
    ),
    pytest.param(
        Row(
            # No strategy of its own: the cluster's default (Fargate only) places the tasks.
            lambda: _world(WEST, _cluster(WEST, ["FARGATE"], ["FARGATE"]), launchType=None),
            Status.RULED_OUT,
            Kind.CAPACITY_PROVIDER,
            "FARGATE",
            "Capacity providers FARGATE are associated with the cluster and active",
            "ecs:DescribeClusters",
        ),
        id="ruled-out-cluster-default-fargate",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _deny("ecs", "DescribeClusters"),
                launchType=None,
                capacityProviderStrategy=_strategy("web-asg-cp"),
            ),
            Status.INCONCLUSIVE,
            Kind.CAPACITY_PROVIDER,
            EAST.service_arn("web"),
            "access denied for ecs:DescribeClusters",
            permission="ecs:DescribeClusters",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST, launchType="FARGATE"), None),
        id="not-applicable-launch-type",
    ),
]


@pytest.mark.parametrize("row", PROVIDER_ROWS)
def test_capacity_provider(row: Row) -> None:
    verify(capacity_provider, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    fargate_size: FARGATE_ROWS,
    container_instances: INSTANCE_ROWS,
    capacity_provider: PROVIDER_ROWS,
}
