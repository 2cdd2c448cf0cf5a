"""A service and its cluster as ECS reports them: events, deployments, stopped tasks, targets.

Everything is read through the shared, memoised reader so a scan of fifty services reads the
cluster's container instances, its stopped tasks and each target group once. Stopped tasks are
listed once per cluster and described 100 per call; services are described 10 per call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import Any

import regex

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import ApiError, AwsSetupError, MalformedResponse, ReadError
from ecsdoctor.redaction import redact
from ecsdoctor.snapshot import describe_security_groups

Raw = Mapping[str, Any]

DESCRIBE_SERVICES_BATCH = 10  # ecs:DescribeServices takes at most 10 services
DESCRIBE_TASKS_BATCH = 100  # ecs:DescribeTasks takes at most 100 tasks
DESCRIBE_INSTANCES_BATCH = 100  # ecs:DescribeContainerInstances takes at most 100
LIST_PAGE = 100  # ListServices / ListTasks return 10 a page unless asked for up to 100
# elbv2:DescribeTargetGroups documents no limit on TargetGroupArns; 20 is the limit of its
# sibling lists (DescribeLoadBalancers' LoadBalancerArns, Names), so a batch never hits one.
DESCRIBE_TARGET_GROUPS_BATCH = 20


#: What reading services, their stopped tasks and their load balancers costs.
SERVICE_READS = (
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:ListTasks",
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeClusters",
    "ecs:ListContainerInstances",
    "ecs:DescribeContainerInstances",
    "ecs:DescribeCapacityProviders",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
)


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def describe_services(
    reader: Reader, cluster: str, names: Sequence[str], region: str | None = None
) -> tuple[list[Raw], list[str]]:
    """(services, names ECS reported MISSING), 10 per request, the requests concurrent."""
    calls = [
        partial(
            reader.call,
            "ecs",
            "DescribeServices",
            region=region,
            cluster=cluster,
            services=batch,
        )
        for batch in _batches(list(names), DESCRIBE_SERVICES_BATCH)
    ]
    services: list[Raw] = []
    missing: list[str] = []
    for answer in reader.parallel(calls):
        if isinstance(answer, ApiError) and answer.code == "ClusterNotFoundException":
            raise AwsSetupError(f"cluster {cluster!r} not found") from answer
        if isinstance(answer, ReadError):
            raise AwsSetupError(f"cannot read the services of {cluster}: {answer}") from answer
        services.extend(answer.get("services") or [])
        missing.extend(
            str(f.get("arn", "")).rsplit("/", 1)[-1]
            for f in answer.get("failures") or []
            if f.get("reason") == "MISSING"
        )
    return services, missing


def list_service_names(reader: Reader, cluster: str, region: str | None = None) -> list[str]:
    """Every service ARN of the cluster (paginated ListServices)."""
    try:
        return list(
            reader.pages(
                "ecs",
                "ListServices",
                "serviceArns",
                region=region,
                cluster=cluster,
                maxResults=LIST_PAGE,
            )
        )
    except ApiError as err:
        if err.code == "ClusterNotFoundException":
            raise AwsSetupError(f"cluster {cluster!r} not found") from err
        raise AwsSetupError(f"cannot list the services of {cluster}: {err}") from err
    except ReadError as err:
        raise AwsSetupError(f"cannot list the services of {cluster}: {err}") from err


def stopped_tasks(
    reader: Reader, cluster: str, region: str | None = None, service: str | None = None
) -> list[Raw]:
    """The cluster's stopped tasks ECS still remembers (about an hour), newest first.

    `service` narrows the listing (ECS filters by serviceName); callers still filter by the task's
    `group`, which is what ties a task to its service whatever the listing returned.
    """
    arns = reader.pages(
        "ecs",
        "ListTasks",
        "taskArns",
        region=region,
        cluster=cluster,
        desiredStatus="STOPPED",
        serviceName=service,
        maxResults=LIST_PAGE,
    )
    calls = [
        partial(reader.call, "ecs", "DescribeTasks", region=region, cluster=cluster, tasks=batch)
        for batch in _batches(list(arns), DESCRIBE_TASKS_BATCH)
    ]
    tasks: list[Raw] = []
    for answer in reader.parallel(calls):
        if isinstance(answer, ReadError):
            raise answer
        tasks.extend(answer.get("tasks") or [])
    tasks.sort(key=lambda t: stopped_at(t) or 0.0, reverse=True)
    return tasks


def prefetch_target_groups(
    reader: Reader, region: str | None, services: Sequence[ServiceSnapshot]
) -> None:
    """Read the target groups of many services in a few requests (20 ARNs each), not one each.

    A batch naming a deleted target group fails as a whole (TargetGroupNotFound): its services
    are then left to read their own, so the check of the one broken service still sees the error.
    """
    wanted = [s for s in services if "target_groups" not in s.__dict__ and s.target_group_arns]
    arns = sorted({arn for s in wanted for arn in s.target_group_arns})
    batches = _batches(arns, DESCRIBE_TARGET_GROUPS_BATCH)
    calls = [
        partial(reader.call, "elbv2", "DescribeTargetGroups", region=region, TargetGroupArns=b)
        for b in batches
    ]
    found: dict[str, Raw] = {}
    failed: set[str] = set()
    for batch, answer in zip(batches, reader.parallel(calls), strict=True):
        if isinstance(answer, ReadError):
            failed.update(batch)
            continue
        for group in answer.get("TargetGroups") or []:
            if group.get("TargetGroupArn"):
                found[str(group["TargetGroupArn"])] = group
    for svc in wanted:
        if failed.isdisjoint(svc.target_group_arns):
            svc.__dict__["target_groups"] = {
                arn: found[arn] for arn in svc.target_group_arns if arn in found
            }


def container_ports(container: Raw) -> list[int]:
    """The container ports a container definition maps, sorted."""
    return sorted(
        int(m["containerPort"])
        for m in container.get("portMappings") or []
        if isinstance(m.get("containerPort"), int)
    )


def timestamp(value: object) -> float | None:
    """Epoch seconds of a boto3 datetime, a number or an ISO-8601 string (None if neither)."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def stopped_at(task: Raw) -> float | None:
    """When the task stopped (or was created, for one that never got that far)."""
    return timestamp(task.get("stoppedAt") or task.get("createdAt"))


# -- grouping failures ---------------------------------------------------------------------------

_VOLATILE = [
    (regex.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:\d*:[^\s\"'(),]+"), "<arn>"),
    (regex.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (regex.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (regex.compile(r"sha256:[0-9a-f]{64}"), "<digest>"),
    (regex.compile(r"\b[0-9a-f]{12,}\b"), "<id>"),
    (regex.compile(r"\becs-svc/\d+\b"), "<deployment>"),
    (regex.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<ip>"),
    (regex.compile(r"\b(?:i|eni|sg|subnet|vpc|vpce|rtb|nat|igw|acl)-[0-9a-f]{8,17}\b"), "<id>"),
    (regex.compile(r"\s+"), " "),
]


def normalize_reason(text: str) -> str:
    """The text with the ids, IPs, ARNs and times that differ from task to task stripped."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text.strip()


def task_failure_key(task: Raw) -> str:
    """What makes two stopped tasks "the same failure": stop code, reasons and exit codes."""
    parts = [
        str(task.get("stopCode") or ""),
        normalize_reason(str(task.get("stoppedReason") or "")),
    ]
    for container in sorted(task.get("containers") or [], key=lambda c: str(c.get("name"))):
        reason = container.get("reason")
        code = container.get("exitCode")
        if reason or (isinstance(code, int) and code != 0):
            parts.append(
                f"{container.get('name')}: {normalize_reason(str(reason or ''))} exit={code}"
            )
    return " | ".join(p for p in parts if p)


def task_example(task: Raw) -> str:
    """The most telling real message of a task: a container's reason, else the stopped reason."""
    for container in task.get("containers") or []:
        if container.get("reason"):
            return redact(str(container["reason"]))
    return redact(str(task.get("stoppedReason") or task.get("stopCode") or "stopped"))


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """Raw stopped tasks sharing one failure key, newest first."""

    key: str
    tasks: tuple[Raw, ...]

    @property
    def newest(self) -> Raw:
        """The task diagnosed on behalf of the group."""
        return self.tasks[0]


def group_tasks(tasks: Iterable[Raw]) -> list[TaskGroup]:
    """Tasks grouped by failure key, the largest group first (ties: the most recent)."""
    groups: dict[str, list[Raw]] = {}
    for task in tasks:
        groups.setdefault(task_failure_key(task), []).append(task)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (-len(kv[1]), -(stopped_at(kv[1][0]) or 0.0)),
    )
    return [TaskGroup(key, tuple(members)) for key, members in ordered]


# -- the service ---------------------------------------------------------------------------------


class ServiceSnapshot:
    """One service, its cluster and its load balancing, read lazily through the shared reader."""

    def __init__(self, reader: Reader, service: Raw, region: str, account: str) -> None:
        self.reader = reader
        self.raw = service
        self.region = region
        self.account = account
        self.name: str = str(service.get("serviceName"))
        self.arn: str = str(service.get("serviceArn"))
        self.cluster_arn: str = str(service.get("clusterArn"))

    # -- what the service says ---------------------------------------------------------------
    @property
    def events(self) -> list[Raw]:
        """Service events, newest first (ECS keeps the last 100)."""
        return list(self.raw.get("events") or [])

    @property
    def deployments(self) -> list[Raw]:
        """Deployments, PRIMARY first."""
        return sorted(self.raw.get("deployments") or [], key=lambda d: d.get("status") != "PRIMARY")

    @property
    def primary(self) -> Raw | None:
        """The deployment ECS is rolling out (or has rolled out)."""
        deployments = self.deployments
        return deployments[0] if deployments else None

    @property
    def deployment_configuration(self) -> Raw:
        """minimumHealthyPercent, maximumPercent, deploymentCircuitBreaker."""
        config: Raw = self.raw.get("deploymentConfiguration") or {}
        return config

    @property
    def desired(self) -> int:
        """desiredCount."""
        return int(self.raw.get("desiredCount") or 0)

    @property
    def running(self) -> int:
        """runningCount."""
        return int(self.raw.get("runningCount") or 0)

    @property
    def launch_type(self) -> str | None:
        """FARGATE / EC2 / EXTERNAL, or None when a capacity provider strategy decides."""
        value = self.raw.get("launchType")
        return value if isinstance(value, str) and value else None

    @property
    def capacity_provider_strategy(self) -> list[Raw]:
        """The service's capacity provider strategy (empty: the launch type or the default)."""
        return list(self.raw.get("capacityProviderStrategy") or [])

    @property
    def strategy(self) -> list[Raw]:
        """The strategy that places its tasks: its own, else the cluster's default."""
        if self.launch_type:
            return []
        return self.capacity_provider_strategy or list(
            self.cluster.get("defaultCapacityProviderStrategy") or []
        )

    @property
    def controller(self) -> str:
        """The deployment controller: ECS (rolling), CODE_DEPLOY or EXTERNAL."""
        return str((self.raw.get("deploymentController") or {}).get("type") or "ECS")

    @property
    def scheduling(self) -> str:
        """REPLICA or DAEMON."""
        return str(self.raw.get("schedulingStrategy") or "REPLICA")

    @property
    def grace_period(self) -> int | None:
        """healthCheckGracePeriodSeconds (None: not set, which ECS treats as 0)."""
        value = self.raw.get("healthCheckGracePeriodSeconds")
        return int(value) if isinstance(value, int) else None

    @property
    def load_balancers(self) -> list[Raw]:
        """{targetGroupArn, containerName, containerPort} per target group of the service."""
        return [lb for lb in self.raw.get("loadBalancers") or [] if lb.get("targetGroupArn")]

    @property
    def awsvpc(self) -> Raw:
        """The service's awsvpcConfiguration (subnets, securityGroups, assignPublicIp)."""
        config: Raw = (self.raw.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        return config

    @property
    def security_group_ids(self) -> list[str]:
        """The task security groups of the service's awsvpc configuration."""
        return [str(g) for g in self.awsvpc.get("securityGroups") or []]

    @property
    def task_definition_arn(self) -> str:
        """The task definition of the primary deployment."""
        primary = self.primary or {}
        return str(primary.get("taskDefinition") or self.raw.get("taskDefinition") or "")

    # -- reads ---------------------------------------------------------------------------------
    def task_definition(self, arn: str | None = None) -> Raw:
        """A task definition (the primary deployment's by default)."""
        response = self.reader.call(
            "ecs",
            "DescribeTaskDefinition",
            region=self.region,
            taskDefinition=arn or self.task_definition_arn,
        )
        definition: Raw = MalformedResponse.require(
            response, "taskDefinition", "ecs:DescribeTaskDefinition", dict
        )
        return definition

    def container_definition(self, name: str | None) -> Raw | None:
        """The primary task definition's container called `name` (or the first essential one)."""
        containers = self.task_definition().get("containerDefinitions") or []
        for container in containers:
            if container.get("name") == name:
                found: Raw = container
                return found
        for container in containers:
            if name is None and container.get("essential", True):
                first: Raw = container
                return first
        return None

    @property
    def target_group_arns(self) -> list[str]:
        """The ARNs of the service's target groups, sorted, each once."""
        return sorted({str(lb["targetGroupArn"]) for lb in self.load_balancers})

    @cached_property
    def target_groups(self) -> dict[str, Raw]:
        """The service's target groups by ARN (one request, unless a scan read them in bulk)."""
        arns = self.target_group_arns
        if not arns:
            return {}
        groups = self.reader.call(
            "elbv2", "DescribeTargetGroups", region=self.region, TargetGroupArns=arns
        ).get("TargetGroups", [])
        return {g["TargetGroupArn"]: g for g in groups if g.get("TargetGroupArn")}

    def target_health(self, target_group_arn: str) -> list[Raw]:
        """TargetHealthDescriptions of one target group."""
        return list(
            self.reader.call(
                "elbv2", "DescribeTargetHealth", region=self.region, TargetGroupArn=target_group_arn
            ).get("TargetHealthDescriptions", [])
        )

    def load_balancer(self, arn: str) -> Raw | None:
        """One load balancer."""
        balancers = self.reader.call(
            "elbv2", "DescribeLoadBalancers", region=self.region, LoadBalancerArns=[arn]
        ).get("LoadBalancers", [])
        return balancers[0] if balancers else None

    def security_groups(self, group_ids: Sequence[str]) -> dict[str, Raw]:
        """Security groups by id (one request for the lot, shared with the task snapshots)."""
        return describe_security_groups(self.reader, self.region, group_ids)

    def subnets(self, subnet_ids: Sequence[str]) -> dict[str, Raw]:
        """Subnets by id (one request for the lot)."""
        if not subnet_ids:
            return {}
        subnets = self.reader.call(
            "ec2", "DescribeSubnets", region=self.region, SubnetIds=sorted(set(subnet_ids))
        ).get("Subnets", [])
        return {s["SubnetId"]: s for s in subnets if s.get("SubnetId")}

    @cached_property
    def cluster(self) -> Raw:
        """The cluster (capacity providers, default strategy, counts)."""
        clusters = self.reader.call(
            "ecs", "DescribeClusters", region=self.region, clusters=[self.cluster_arn]
        ).get("clusters", [])
        found: Raw = clusters[0] if clusters else {}
        return found

    def container_instances(self) -> list[Raw]:
        """Every container instance registered in the cluster (described 100 per call)."""
        arns = self.reader.pages(
            "ecs",
            "ListContainerInstances",
            "containerInstanceArns",
            region=self.region,
            cluster=self.cluster_arn,
        )
        calls = [
            partial(
                self.reader.call,
                "ecs",
                "DescribeContainerInstances",
                region=self.region,
                cluster=self.cluster_arn,
                containerInstances=batch,
            )
            for batch in _batches(sorted(arns), DESCRIBE_INSTANCES_BATCH)
        ]
        instances: list[Raw] = []
        for answer in self.reader.parallel(calls):
            if isinstance(answer, ReadError):
                raise answer
            instances.extend(answer.get("containerInstances") or [])
        return instances

    def capacity_providers(self, names: Sequence[str]) -> tuple[dict[str, Raw], list[str]]:
        """(capacity providers by name, names ECS does not know). FARGATE* are built in."""
        wanted = sorted({n for n in names if n not in ("FARGATE", "FARGATE_SPOT")})
        if not wanted:
            return {}, []
        response = self.reader.call(
            "ecs", "DescribeCapacityProviders", region=self.region, capacityProviders=wanted
        )
        found = {p["name"]: p for p in response.get("capacityProviders") or [] if p.get("name")}
        missing = [n for n in wanted if n not in found]
        return found, missing

    def prefetch(self) -> None:
        """Warm the independent reads concurrently; failures surface in their checks."""
        thunks: list[Any] = [lambda: self.task_definition(), lambda: self.target_groups]
        if self.awsvpc:
            thunks.append(lambda: self.security_groups(self.awsvpc.get("securityGroups") or []))
            thunks.append(lambda: self.subnets(self.awsvpc.get("subnets") or []))
        self.reader.parallel(thunks)
        health = [partial(self.target_health, arn) for arn in self.target_groups]
        balancers = {
            lb for g in self.target_groups.values() for lb in g.get("LoadBalancerArns") or []
        }
        reads: list[Callable[[], object]] = [*health]
        reads.extend(partial(self.load_balancer, b) for b in balancers)
        self.reader.parallel(reads)


__all__ = [
    "DESCRIBE_SERVICES_BATCH",
    "DESCRIBE_TASKS_BATCH",
    "ServiceSnapshot",
    "TaskGroup",
    "describe_services",
    "group_tasks",
    "list_service_names",
    "normalize_reason",
    "prefetch_target_groups",
    "stopped_at",
    "stopped_tasks",
    "task_example",
    "task_failure_key",
    "timestamp",
]
