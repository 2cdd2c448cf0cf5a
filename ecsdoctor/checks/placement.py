"""Whether ECS can place the service's tasks at all: instances, capacity providers, Fargate sizes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecsdoctor.checks.base import ServiceContext, check
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status

Raw = Mapping[str, Any]

# Valid Fargate task sizes: CPU units -> (lowest MiB, highest MiB, step MiB), from the ECS
# developer guide ("Task CPU and memory"); 256 CPU allows 512, 1024 and 2048 only.
FARGATE_SIZES: dict[int, tuple[int, int, int]] = {
    256: (512, 2048, 512),  # 512, 1024 or 2048 only
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}


def _runs_on(ctx: ServiceContext, fargate: bool) -> bool:
    """Whether the launch type, or any provider of the strategy, is Fargate (or EC2 instances)."""
    svc = ctx.svc
    if svc.launch_type:
        return svc.launch_type == ("FARGATE" if fargate else "EC2")
    return any(
        str(s.get("capacityProvider", "")).startswith("FARGATE") is fargate for s in svc.strategy
    )


#: Knowledge entries of service events that say ECS could not place a task.
PLACEMENT_ENTRIES = frozenset(
    {
        "service_event.placement_failed",
        "service_event.insufficient_cpu",
        "service_event.insufficient_memory",
        "service_event.no_container_instances",
        "service_event.no_instance_met_requirements",
        "service_event.missing_attribute",
        "service_event.port_in_use",
        "service_event.capacity_provider_no_instances",
    }
)


def _placement_trouble(ctx: ServiceContext) -> bool:
    """The service shows it: a placement event, or fewer tasks running than desired."""
    placement = any(entry in PLACEMENT_ENTRIES for entry in ctx.event_entries)
    return placement or ctx.svc.running < ctx.svc.desired


@check(Kind.TASK_DEFINITION, reads=(), rank=20)
def fargate_size(ctx: ServiceContext) -> list[CheckResult]:
    """The task definition's CPU and memory are not a combination Fargate offers."""
    if not _runs_on(ctx, fargate=True):
        return []
    svc = ctx.svc
    definition = svc.task_definition()
    arn = str(definition.get("taskDefinitionArn") or svc.task_definition_arn)
    try:
        cpu = int(str(definition.get("cpu")))
        memory = int(str(definition.get("memory")))
    except ValueError:
        return [
            ctx.result(
                Kind.TASK_DEFINITION,
                arn,
                Status.CONFIRMED,
                f"Task definition {arn} sets no task-level cpu and memory, which Fargate requires.",
                (Evidence(arn, "ecs:DescribeTaskDefinition", "cpu or memory is missing."),),
                remediation="Set task-level cpu and memory to a supported Fargate combination.",
            )
        ]
    limits = FARGATE_SIZES.get(cpu)
    if cpu == 256:
        valid = memory in (512, 1024, 2048)
    else:
        valid = (
            limits is not None
            and limits[0] <= memory <= limits[1]
            and (memory - limits[0]) % limits[2] == 0
        )
    evidence = (Evidence(arn, "ecs:DescribeTaskDefinition", f"cpu {cpu}, memory {memory} MiB."),)
    if valid:
        return [
            ctx.result(
                Kind.TASK_DEFINITION,
                arn,
                Status.RULED_OUT,
                f"cpu {cpu} with {memory} MiB is a valid Fargate size.",
                evidence,
            )
        ]
    allowed = (
        f"{limits[0]}-{limits[1]} MiB in steps of {limits[2]}"
        if limits
        else "cpu must be one of " + ", ".join(map(str, FARGATE_SIZES))
    )
    return [
        ctx.result(
            Kind.TASK_DEFINITION,
            arn,
            Status.CONFIRMED,
            f"Task definition {arn} asks Fargate for cpu {cpu} with {memory} MiB, which Fargate "
            f"does not offer ({allowed}).",
            evidence,
            remediation=(
                "Register a revision with a supported size "
                "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size)."
            ),
        )
    ]


def _needs(definition: Raw) -> tuple[int, int, set[int]]:
    """(CPU units, MiB, static host ports) one task reserves on a container instance."""
    containers = definition.get("containerDefinitions") or []
    cpu = sum(int(c.get("cpu") or 0) for c in containers)
    memory = sum(int(c.get("memoryReservation") or c.get("memory") or 0) for c in containers)
    try:
        cpu = int(str(definition.get("cpu"))) if definition.get("cpu") else cpu
        memory = int(str(definition.get("memory"))) if definition.get("memory") else memory
    except ValueError:
        pass
    ports = {
        int(m["hostPort"])
        for c in containers
        for m in c.get("portMappings") or []
        if isinstance(m.get("hostPort"), int) and m["hostPort"] > 0
    }
    return cpu, memory, ports


def _remaining(instance: Raw) -> tuple[int, int, set[int]]:
    cpu = memory = 0
    ports: set[int] = set()
    for resource in instance.get("remainingResources") or []:
        name = resource.get("name")
        if name == "CPU":
            cpu = int(resource.get("integerValue") or 0)
        elif name == "MEMORY":
            memory = int(resource.get("integerValue") or 0)
        elif name == "PORTS":
            ports = {int(p) for p in resource.get("stringSetValue") or [] if str(p).isdigit()}
    return cpu, memory, ports


@check(
    Kind.CONTAINER_INSTANCE,
    reads=(
        "ecs:ListContainerInstances",
        "ecs:DescribeContainerInstances",
        "ecs:DescribeCapacityProviders",
        "ecs:DescribeClusters",
    ),
    rank=20,
)
def container_instances(ctx: ServiceContext) -> list[CheckResult]:
    """No registered, connected container instance has the CPU, memory, ports or attributes."""
    if not _runs_on(ctx, fargate=False) or not _placement_trouble(ctx):
        return []
    svc = ctx.svc
    # A strategy naming an unusable provider explains an empty cluster.
    depends = tuple(
        ctx.ref(capacity_provider, str(s.get("capacityProvider"))) for s in svc.strategy[:1]
    )
    definition = svc.task_definition()
    cpu, memory, ports = _needs(definition)
    required = {
        str(a.get("name")) for a in definition.get("requiresAttributes") or [] if a.get("name")
    }
    instances = svc.container_instances()
    source = "ecs:ListContainerInstances, ecs:DescribeContainerInstances"
    if not instances:
        return [
            ctx.result(
                Kind.CLUSTER,
                svc.cluster_arn,
                Status.CONFIRMED,
                f"Cluster {svc.cluster_arn} has no registered container instances, so service "
                f"{svc.name}'s EC2 tasks cannot be placed.",
                (Evidence(svc.cluster_arn, source, "ListContainerInstances returned none."),),
                depends_on=depends,
                remediation=(
                    "Launch instances with the ECS-optimized AMI and ECS_CLUSTER set to this "
                    "cluster (or attach an Auto Scaling group capacity provider), and check the "
                    "instance role has AmazonEC2ContainerServiceforEC2Role."
                ),
            )
        ]
    reasons: list[str] = []
    fits = []
    for instance in instances:
        arn = str(instance.get("containerInstanceArn"))
        short = arn.rsplit("/", 1)[-1]
        why: list[str] = []
        if instance.get("status") != "ACTIVE":
            why.append(f"status {instance.get('status')}")
        if not instance.get("agentConnected", True):
            why.append("agent disconnected")
        free_cpu, free_memory, used_ports = _remaining(instance)
        if cpu and free_cpu < cpu:
            why.append(f"{free_cpu} CPU units free of {cpu} needed")
        if memory and free_memory < memory:
            why.append(f"{free_memory} MiB free of {memory} needed")
        if ports & used_ports:
            why.append(f"host port(s) {', '.join(map(str, sorted(ports & used_ports)))} in use")
        names = {str(a.get("name")) for a in instance.get("attributes") or []}
        missing = sorted(required - names)
        if missing:
            why.append(f"missing attribute(s) {', '.join(missing[:3])}")
        if why:
            reasons.append(f"{short}: {', '.join(why)}")
        else:
            fits.append(short)
    evidence = (
        Evidence(
            svc.cluster_arn,
            source,
            f"{len(instances)} instance(s); the task needs {cpu} CPU units, {memory} MiB"
            + (f", host ports {sorted(ports)}" if ports else "")
            + ". "
            + "; ".join(reasons[:10]),
        ),
    )
    if fits:
        return [
            ctx.result(
                Kind.CONTAINER_INSTANCE,
                svc.cluster_arn,
                Status.RULED_OUT,
                f"Container instance(s) {', '.join(fits[:5])} can take another task of {svc.name}.",
                evidence,
            )
        ]
    return [
        ctx.result(
            Kind.CONTAINER_INSTANCE,
            svc.cluster_arn,
            Status.CONFIRMED,
            f"No container instance of cluster {svc.cluster_arn} can take a task of service "
            f"{svc.name}: " + "; ".join(reasons[:5]) + ".",
            evidence,
            depends_on=depends,
            remediation=(
                "Add capacity (scale the Auto Scaling group or use a capacity provider with "
                "managed scaling), lower the task's cpu/memory reservation, use dynamic host "
                "ports (hostPort 0) behind the load balancer, or reconnect the agents."
            ),
        )
    ]


@check(
    Kind.CAPACITY_PROVIDER, reads=("ecs:DescribeClusters", "ecs:DescribeCapacityProviders"), rank=25
)
def capacity_provider(ctx: ServiceContext) -> list[CheckResult]:
    """The capacity provider strategy names providers the cluster lacks or that are not ACTIVE."""
    svc = ctx.svc
    if not svc.strategy:
        return []
    names = [str(s.get("capacityProvider")) for s in svc.strategy]
    attached = set(svc.cluster.get("capacityProviders") or [])
    providers, unknown = svc.capacity_providers(names)
    problems = [f"{n} is not associated with the cluster" for n in names if n not in attached]
    problems += [f"{n} does not exist" for n in unknown]
    problems += [
        f"{n} is {p.get('status')}"
        + (f" ({p.get('updateStatus')})" if p.get("updateStatus") else "")
        for n, p in providers.items()
        if p.get("status") != "ACTIVE"
    ]
    evidence = (
        Evidence(
            svc.cluster_arn,
            "ecs:DescribeClusters, ecs:DescribeCapacityProviders",
            f"Strategy {', '.join(names)}; cluster providers {', '.join(sorted(attached)) or 'none'}.",
        ),
    )
    if problems:
        return [
            ctx.result(
                Kind.CAPACITY_PROVIDER,
                names[0],
                Status.CONFIRMED,
                f"Service {svc.name}'s capacity provider strategy cannot place tasks: "
                + "; ".join(problems)
                + ".",
                evidence,
                remediation=(
                    "aws ecs put-cluster-capacity-providers to associate the providers with the "
                    "cluster, or update the service's capacity provider strategy."
                ),
            )
        ]
    return [
        ctx.result(
            Kind.CAPACITY_PROVIDER,
            names[0],
            Status.RULED_OUT,
            f"Capacity providers {', '.join(names)} are associated with the cluster and active.",
            evidence,
        )
    ]


__all__ = ["FARGATE_SIZES", "capacity_provider", "container_instances", "fargate_size"]
