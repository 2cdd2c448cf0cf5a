"""The demo's broken services: each breaks one thing beneath a failing service.

Every event and stopped reason is real ECS wording copied from an example in knowledge/*.toml
(named next to it), with only this account's names substituted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import boto3

from ecsdoctor.demo import account as acct
from ecsdoctor.demo.account import ACCOUNT, CLUSTER, REGION, AccountSpec
from ecsdoctor.demo.scenarios import (
    LOG_GROUP_MISSING,
    NO_ENDPOINTS,
    REPOSITORY_NOT_FOUND,
    SEED_TIMEOUT,
    Expected,
)
from ecsdoctor.demo.services import BuiltService, ServiceSpec, add_service, build_service

# knowledge/service_event/deployment_failed.toml (the AWS template) and the circuit breaker's
# rolloutStateReason (knowledge/service_event/deployment_failed.toml)
DEPLOYMENT_FAILED = "service {service} deployment failed: tasks failed to start."
CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
# knowledge/service_event/steady_state.toml (aws-cli describe-services example)
STEADY = "(service {service}) has reached a steady state."
# knowledge/service_event/target_unhealthy.toml (github.com/hackforla/CivicTechJobs/issues/436)
UNHEALTHY = (
    "(service {service}) (port {port}) is unhealthy in (target-group {target_group}) due to "
    "(reason Health checks failed)."
)
# knowledge/health/elb_health_check_failed.toml
ELB_FAILED = "Task failed ELB health checks in (target-group {target_group})"
# knowledge/service_event/no_container_instances.toml (spinnaker clouddriver fixture)
NO_INSTANCES = (
    "(service {service}) was unable to place a task because no container instance met all of its "
    "requirements. Reason: No Container Instances were found in your cluster. For more "
    "information, see the Troubleshooting section of the Amazon ECS Developer Guide."
)
# knowledge/service_event/capacity_provider_no_instances.toml
NO_PROVIDER_INSTANCES = (
    "service {service} was unable to place a task because no container instance met all of its "
    "requirements. Reason: No Container Instances were found in your capacity provider. For more "
    "information, see the Troubleshooting section of the Amazon ECS Developer Guide."
)
# knowledge/service_event/deployment_configuration_blocks.toml (github.com/pipe-cd/pipecd/issues/2729)
DEPLOYMENT_BLOCKED = (
    "service {service} was unable to stop or start tasks during a deployment because of the "
    "service deployment configuration. Update the minimumHealthyPercent or maximumPercent value "
    "and try again."
)


@dataclass(frozen=True, slots=True)
class ServiceScenario:
    """A built account with a failing service, and what its diagnosis must confirm."""

    name: str
    title: str
    region: str
    account: str
    cluster: str
    service: str
    expected: Expected | None  # None for the healthy service
    also: tuple[Expected, ...] = ()  # further findings that must be confirmed
    ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceScenarioSpec:
    """A service scenario not yet built; ``build`` must run inside an active moto mock."""

    name: str
    title: str
    build: Callable[[boto3.session.Session], ServiceScenario]


Answer = Callable[[BuiltService], Expected]


def _spec(
    name: str,
    title: str,
    spec: ServiceSpec,
    expected: Answer | None,
    *also: Answer,
) -> ServiceScenarioSpec:
    def build(session: boto3.session.Session) -> ServiceScenario:
        built = build_service(session, spec)
        return ServiceScenario(
            name=name,
            title=title,
            region=REGION,
            account=ACCOUNT,
            cluster=CLUSTER,
            service="web",
            expected=expected(built) if expected else None,
            also=tuple(a(built) for a in also),
            ids=MappingProxyType(dict(built.ids)),
        )

    return ServiceScenarioSpec(name, title, build)


def _named(check: str, kind: str, id_key: str) -> Answer:
    return lambda built: Expected(check, kind, built.ids[id_key])


_NAT = AccountSpec(nat=True, interface_endpoints=NO_ENDPOINTS, s3_endpoint=False)
_ROLLED_BACK = {
    "running": 2,
    "rollout": "FAILED",
    "rollout_reason": CIRCUIT_BREAKER_REASON,
    "events": (DEPLOYMENT_FAILED,),
    "stopped": 4,
}

# Tasks replaced by the scheduler after failing their load balancer health checks.
_ELB_FAILING = {
    "events": (UNHEALTHY,),
    "stopped": 3,
    "stop_code": "ServiceSchedulerInitiated",
    "exit_code": 143,
    "stopped_reason": ELB_FAILED,
}

_SPECS: tuple[ServiceScenarioSpec, ...] = (
    _spec(
        "service-rollback-no-endpoint",
        "The circuit breaker rolled the deployment back: its tasks could not reach ECR (no NAT, "
        "no ECR endpoints)",
        ServiceSpec(
            account=AccountSpec(
                interface_endpoints=frozenset({"logs", "secretsmanager", "ssm", "kms"})
            ),
            stopped_reason=SEED_TIMEOUT,
            **_ROLLED_BACK,  # type: ignore[arg-type]
        ),
        _named("network.ecr_unreachable", "vpc_endpoint", "vpc"),
    ),
    _spec(
        "service-restart-forever",
        "Tasks restart forever on CannotPullContainerError (repository typo) with the circuit "
        "breaker off",
        ServiceSpec(
            account=replace(_NAT, image=acct.REGISTRY + "/wbe:v1"),
            circuit_breaker=(False, False),
            running=0,
            rollout="IN_PROGRESS",
            events=(DEPLOYMENT_FAILED,),
            stopped=6,
            stopped_reason=REPOSITORY_NOT_FOUND.format(repository=acct.REGISTRY + "/wbe"),
        ),
        lambda b: Expected(
            "image.repository_not_found",
            "ecr_repository",
            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/wbe",
        ),
        lambda b: Expected(
            "deployment.circuit_breaker_disabled", "service_deployment", b.service_arn
        ),
    ),
    _spec(
        "service-targets-blocked",
        "Targets time out: the task security group does not admit the load balancer",
        ServiceSpec(
            account=_NAT,
            lb_ingress=False,
            unhealthy_targets="Target.Timeout",
            **_ELB_FAILING,  # type: ignore[arg-type]
            ran_seconds=120,
        ),
        _named("load_balancer.security_group_blocks", "security_group", "task_sg"),
    ),
    _spec(
        "service-health-check-port",
        "The target group health check probes port 80; the container listens on 8080",
        ServiceSpec(
            account=_NAT,
            health_check_port="80",
            unhealthy_targets="Target.FailedHealthChecks",
            **_ELB_FAILING,  # type: ignore[arg-type]
            ran_seconds=120,
        ),
        _named("load_balancer.health_check_port", "target_group", "target_group"),
    ),
    _spec(
        "service-grace-period",
        "The application needs 120 s to start; the service gives no health check grace period",
        ServiceSpec(
            account=_NAT,
            start_period=120,
            grace_period=None,
            unhealthy_targets="Target.ResponseCodeMismatch",
            **_ELB_FAILING,  # type: ignore[arg-type]
            ran_seconds=45,
        ),
        lambda b: Expected("deployment.grace_period_too_short", "service", b.service_arn),
    ),
    _spec(
        "service-no-container-instances",
        "An EC2 service in a cluster without container instances",
        ServiceSpec(
            account=_NAT,
            launch_type="EC2",
            load_balanced=False,
            running=0,
            events=(NO_INSTANCES,),
        ),
        _named("placement.container_instances", "cluster", "cluster_arn"),
    ),
    _spec(
        "service-capacity-provider",
        "The service's capacity provider strategy names a provider the cluster does not have",
        ServiceSpec(
            account=_NAT,
            launch_type=None,
            capacity_provider_strategy=("web-asg",),
            load_balanced=False,
            running=0,
            events=(NO_PROVIDER_INSTANCES,),
        ),
        lambda b: Expected("placement.capacity_provider", "capacity_provider", "web-asg"),
    ),
    _spec(
        "service-deployment-deadlock",
        "One desired task with minimumHealthyPercent 100 and maximumPercent 100: the rollout "
        "cannot move",
        ServiceSpec(
            account=_NAT,
            desired=1,
            running=1,
            minimum_healthy=100,
            maximum=100,
            rollout="IN_PROGRESS",
            in_flight_deployment=True,
            events=(DEPLOYMENT_BLOCKED,),
        ),
        lambda b: Expected("deployment.deployment_deadlock", "service_deployment", b.service_arn),
    ),
    _spec(
        "service-events-only",
        "The deployment failed over an hour ago: ECS no longer holds its stopped tasks, only the "
        "events (no NAT, no ECR endpoints)",
        ServiceSpec(
            account=AccountSpec(
                interface_endpoints=frozenset({"logs", "secretsmanager", "ssm", "kms"})
            ),
            running=0,
            rollout="FAILED",
            rollout_reason=CIRCUIT_BREAKER_REASON,
            events=(DEPLOYMENT_FAILED,),
        ),
        _named("network.ecr_unreachable", "vpc_endpoint", "vpc"),
    ),
    _spec(
        "service-healthy",
        "Everything in place: the service reached a steady state, its targets are healthy",
        ServiceSpec(events=(STEADY,)),
        None,
    ),
)

SERVICE_SCENARIOS: dict[str, ServiceScenarioSpec] = {s.name: s for s in _SPECS}


WORKER_LOG_GROUP = "/ecs/workers"


@dataclass(frozen=True, slots=True)
class ClusterMix:
    """How many services of each kind a scanned cluster holds."""

    healthy: int = 32
    unreachable: int = 12  # the shared cause: their log group /ecs/workers does not exist
    wrong_port: int = 3  # each its own target group probing port 80
    typo: int = 3  # each its own image naming repository wbe
    stopped_per_service: int = 6

    @property
    def services(self) -> int:
        return self.healthy + self.unreachable + self.wrong_port + self.typo


def build_cluster(session: boto3.session.Session, mix: ClusterMix) -> dict[str, str]:
    """One cluster of ``mix.services`` services with mixed failures; returns the built ids."""
    account = _NAT
    ids = dict(acct.build_account(session, account).ids)
    n = mix.stopped_per_service
    kinds: list[tuple[str, ServiceSpec]] = []
    kinds += [
        (f"api-{i:02d}", ServiceSpec(account=account, load_balanced=i % 2 == 0, events=(STEADY,)))
        for i in range(mix.healthy)
    ]
    kinds += [
        (
            f"worker-{i:02d}",
            ServiceSpec(
                account=account,
                load_balanced=False,
                log_group=WORKER_LOG_GROUP,
                stopped_reason=LOG_GROUP_MISSING,
                stopped=n,
                **{k: v for k, v in _ROLLED_BACK.items() if k != "stopped"},  # type: ignore[arg-type]
            ),
        )
        for i in range(mix.unreachable)
    ]
    kinds += [
        (
            f"front-{i:02d}",
            ServiceSpec(
                account=account,
                health_check_port="80",
                unhealthy_targets="Target.FailedHealthChecks",
                ran_seconds=120,
                **{**_ELB_FAILING, "stopped": n},  # type: ignore[arg-type]
            ),
        )
        for i in range(mix.wrong_port)
    ]
    kinds += [
        (
            f"batch-{i:02d}",
            ServiceSpec(
                account=account,
                load_balanced=False,
                image=f"{acct.REGISTRY}/wbe-{i}:v1",
                circuit_breaker=(False, False),
                running=0,
                rollout="IN_PROGRESS",
                events=(DEPLOYMENT_FAILED,),
                stopped=n,
                stopped_reason=REPOSITORY_NOT_FOUND.format(repository=f"{acct.REGISTRY}/wbe-{i}"),
            ),
        )
        for i in range(mix.typo)
    ]
    for name, spec in kinds:
        ids.update(add_service(session, spec, ids, name).ids)
    return ids
