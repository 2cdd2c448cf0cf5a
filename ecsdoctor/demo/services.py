"""Broken services in moto: a load-balanced Fargate service on top of the demo account.

moto never produces service events, failed rollouts, stopped tasks of a service or unhealthy
targets, so the builder plants them on moto's backend objects (notes/moto.md), using real ECS
wording from knowledge/ examples and sample_events/.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from ecsdoctor.demo import account as acct
from ecsdoctor.demo.account import ACCOUNT, CLUSTER, CONTAINER, REGION, AccountSpec

SERVICE = "web"
TG_NAME = "web-tg"
LB_NAME = "web-alb"
PORT = 8080


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """What differs from a healthy load-balanced service."""

    account: AccountSpec = field(default_factory=lambda: AccountSpec(nat=True))
    desired: int = 2
    running: int = 2
    launch_type: str | None = "FARGATE"
    capacity_provider_strategy: tuple[str, ...] = ()
    circuit_breaker: tuple[bool, bool] = (True, True)  # enable, rollback
    minimum_healthy: int = 100
    maximum: int = 200
    grace_period: int | None = 60
    load_balanced: bool = True
    health_check_port: str = "traffic-port"
    target_type: str = "ip"
    lb_ingress: bool = True  # task SG admits the load balancer SG on PORT
    start_period: int | None = None  # container health check startPeriod
    image: str | None = None  # a task definition revision of its own with this image
    log_group: str | None = None  # ... or with this awslogs group
    events: tuple[str, ...] = ("(service {service}) has reached a steady state.",)
    rollout: str = "COMPLETED"  # primary deployment rolloutState
    rollout_reason: str | None = None
    in_flight_deployment: bool = False  # a second (ACTIVE) deployment besides the PRIMARY
    stopped: int = 0  # stopped tasks of the service
    stopped_reason: str = ""
    stop_code: str = "TaskFailedToStart"
    exit_code: int | None = None
    ran_seconds: int | None = None  # tasks started and ran this long before stopping
    unhealthy_targets: str | None = None  # TargetHealth reason code, e.g. Target.Timeout


@dataclass(frozen=True, slots=True)
class BuiltService:
    """The built service and every id a scenario's expectation may name."""

    service_arn: str
    ids: dict[str, str]


def build_service(
    session: boto3.session.Session, spec: ServiceSpec, name: str = SERVICE
) -> BuiltService:
    """The demo account plus service `name` in it, broken as `spec` says."""
    built = acct.build_account(session, spec.account)
    ids = dict(built.ids)
    return add_service(session, spec, ids, name)


def add_service(
    session: boto3.session.Session, spec: ServiceSpec, ids: dict[str, str], name: str = SERVICE
) -> BuiltService:
    """Add one more service to an account built by build_account (a scan builds fifty)."""
    ecs = session.client("ecs", region_name=REGION)
    taskdef = ids["task_definition"]
    if spec.start_period is not None or spec.image is not None or spec.log_group is not None:
        taskdef = _register_revision(ecs, ids, spec.start_period, spec.image, spec.log_group)
    load_balancers: list[Any] = []
    if spec.load_balanced:
        target_group = _load_balancer(session, spec, ids, name)
        load_balancers = [
            {"targetGroupArn": target_group, "containerName": CONTAINER, "containerPort": PORT}
        ]
    params: dict[str, Any] = {
        "cluster": CLUSTER,
        "serviceName": name,
        "taskDefinition": taskdef,
        "desiredCount": spec.desired,
        "loadBalancers": load_balancers,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [ids["subnet"]],
                "securityGroups": [ids["task_sg"]],
                "assignPublicIp": "DISABLED",
            }
        },
    }
    if spec.launch_type:
        params["launchType"] = spec.launch_type
    service = ecs.create_service(**params)["service"]
    arn = service["serviceArn"]
    ids[f"service.{name}"] = arn
    ids["service"] = arn
    _plant_service(spec, ids, name, taskdef)
    if spec.stopped:
        _plant_stopped_tasks(session, spec, ids, name, taskdef)
    return BuiltService(arn, ids)


def _register_revision(
    ecs: Any,
    ids: dict[str, str],
    start_period: int | None,
    image: str | None,
    log_group: str | None,
) -> str:
    """A new revision of the family: with a container health check, or another image."""
    definition = ecs.describe_task_definition(taskDefinition=ids["task_definition"])[
        "taskDefinition"
    ]
    container = dict(definition["containerDefinitions"][0])
    if start_period is not None:
        container["healthCheck"] = {
            "command": ["CMD-SHELL", f"curl -f http://localhost:{PORT}/health || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": start_period,
        }
    if image is not None:
        container["image"] = image
    if log_group is not None:
        logging = dict(container["logConfiguration"])
        logging["options"] = {**logging["options"], "awslogs-group": log_group}
        container["logConfiguration"] = logging
    keys = [
        "family",
        "requiresCompatibilities",
        "networkMode",
        "cpu",
        "memory",
        "executionRoleArn",
        "taskRoleArn",
        "runtimePlatform",
    ]
    arn: str = ecs.register_task_definition(
        **{k: definition[k] for k in keys if k in definition}, containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _load_balancer(
    session: boto3.session.Session, spec: ServiceSpec, ids: dict[str, str], name: str
) -> str:
    ec2 = session.client("ec2", region_name=REGION)
    elb = session.client("elbv2", region_name=REGION)
    if "lb_arn" not in ids:
        subnets = []
        for index, zone in enumerate(("us-east-1a", "us-east-1b")):
            subnets.append(
                ec2.create_subnet(
                    VpcId=ids["vpc"], CidrBlock=f"10.0.{100 + index}.0/24", AvailabilityZone=zone
                )["Subnet"]["SubnetId"]
            )
        lb_sg = ec2.create_security_group(
            GroupName="web-alb", Description="web load balancer", VpcId=ids["vpc"]
        )["GroupId"]
        balancer = elb.create_load_balancer(
            Name=LB_NAME, Subnets=subnets, SecurityGroups=[lb_sg], Scheme="internet-facing"
        )["LoadBalancers"][0]
        ids.update(lb_arn=balancer["LoadBalancerArn"], lb_sg=lb_sg, lb_subnets=",".join(subnets))
        if spec.lb_ingress:
            ec2.authorize_security_group_ingress(
                GroupId=ids["task_sg"],
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": PORT,
                        "ToPort": PORT,
                        "UserIdGroupPairs": [{"GroupId": lb_sg}],
                    }
                ],
            )
    group = elb.create_target_group(
        Name=f"{name}-tg"[:32],
        Protocol="HTTP",
        Port=PORT,
        VpcId=ids["vpc"],
        TargetType=spec.target_type,  # type: ignore[arg-type]
        HealthCheckPath="/health",
        HealthCheckPort=spec.health_check_port,
        HealthCheckIntervalSeconds=30,
        HealthyThresholdCount=5,
        UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]
    arn: str = group["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=ids["lb_arn"],
        Protocol="HTTP",
        Port=80 + len([k for k in ids if k.startswith("target_group.")]),
        DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}],
    )
    ids[f"target_group.{name}"] = arn
    ids["target_group"] = arn
    if spec.running and spec.target_type == "ip":
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": acct.TASK_IP, "Port": PORT}])
    if spec.unhealthy_targets:
        _unhealthy(arn, spec.unhealthy_targets)
    return arn


def _unhealthy(target_group_arn: str, reason: str) -> None:
    from moto.elbv2.models import FakeHealthStatus

    descriptions = {
        "Target.Timeout": "Request timed out",
        "Target.ResponseCodeMismatch": "Health checks failed with these codes: [404]",
        "Target.FailedHealthChecks": "Health checks failed",
    }
    group = acct._backend("elbv2", REGION).target_groups[target_group_arn]

    def health(target: Any, _ec2: Any) -> Any:
        return FakeHealthStatus(
            target["Id"],
            target.get("Port", PORT),
            "traffic-port",
            "unhealthy",
            reason,
            descriptions.get(reason, reason),
        )

    group.health_for = health


def _plant_service(spec: ServiceSpec, ids: dict[str, str], name: str, taskdef: str) -> None:
    """Events, deployments and the settings moto's create_service drops."""
    backend = acct._backend("ecs", REGION)
    service = backend._get_service(CLUSTER, name)
    now = datetime.now(UTC)
    service.deployment_configuration = {
        "deploymentCircuitBreaker": {
            "enable": spec.circuit_breaker[0],
            "rollback": spec.circuit_breaker[1],
        },
        "minimumHealthyPercent": spec.minimum_healthy,
        "maximumPercent": spec.maximum,
    }
    if spec.grace_period is not None:
        service.health_check_grace_period_seconds = spec.grace_period
    if spec.capacity_provider_strategy:
        service.capacity_provider_strategy = [
            {"capacityProvider": p, "weight": 1, "base": 0} for p in spec.capacity_provider_strategy
        ]
        service.launch_type = None
    service.running_count = spec.running
    service.desired_count = spec.desired
    values = {
        "service": name,
        "cluster": CLUSTER,
        "target_group": ids.get(f"target_group.{name}", ""),
        "task_id": uuid.uuid4().hex,
        "port": str(PORT),
        "deployment": "ecs-svc/1234567890123456789",
    }
    service.events = [
        {
            "id": str(uuid.uuid4()),
            "createdAt": now - timedelta(minutes=index),
            "message": message.format(**values),
        }
        for index, message in enumerate(spec.events)
    ]
    primary = service.deployments[0]
    primary.update(
        rolloutState=spec.rollout,
        rolloutStateReason=spec.rollout_reason or "",
        failedTasks=spec.stopped if spec.rollout == "FAILED" else 0,
        runningCount=spec.running,
        desiredCount=spec.desired,
        taskDefinition=taskdef,
        createdAt=now - timedelta(hours=2),
        updatedAt=now,
    )
    if spec.in_flight_deployment:
        old = dict(primary)
        old.update(id="ecs-svc/9876543210987654321", status="ACTIVE", rolloutState="COMPLETED")
        service.deployments.append(old)


def _plant_stopped_tasks(
    session: boto3.session.Session,
    spec: ServiceSpec,
    ids: dict[str, str],
    name: str,
    taskdef: str,
) -> None:
    ecs = session.client("ecs", region_name=REGION)
    tasks = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=taskdef,
        launchType="FARGATE",
        count=spec.stopped,
        group=f"service:{name}",
        startedBy="ecs-svc/1234567890123456789",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [ids["subnet"]], "securityGroups": [ids["task_sg"]]}
        },
    )["tasks"]
    now = datetime.now(UTC)
    backend = acct._backend("ecs", REGION)
    for index, task in enumerate(tasks):
        planted = backend.tasks[CLUSTER][task["taskArn"]]
        stopped_at = now - timedelta(minutes=3 * index)
        reason = spec.stopped_reason.format(
            task_id=task["taskArn"].rsplit("/", 1)[-1],
            target_group=ids.get(f"target_group.{name}", ""),
            registry=acct.REGISTRY,
            region=REGION,
            account=ACCOUNT,
        )
        planted.stopped_reason = reason
        planted.stop_code = spec.stop_code
        planted.last_status = "STOPPED"
        planted.desired_status = "STOPPED"
        planted.availability_zone = acct.AZ
        planted.created_at = stopped_at - timedelta(seconds=(spec.ran_seconds or 0) + 40)
        planted.stopped_at = stopped_at
        planted.stopping_at = stopped_at - timedelta(seconds=5)
        if spec.ran_seconds is not None:
            planted.started_at = stopped_at - timedelta(seconds=spec.ran_seconds)
        container = planted.containers[0]
        container.last_status = "STOPPED"
        container.exitCode = spec.exit_code
        if spec.stop_code == "TaskFailedToStart":
            container.reason = reason
