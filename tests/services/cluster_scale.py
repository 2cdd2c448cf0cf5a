"""A cluster of any size (a multiple of 10) with a realistic mix of failures, for request counts.

Every 10 services hold 6 healthy ones (half behind the load balancer), 2 workers of one fleet
whose shared task definition logs to a deleted log group, 1 load-balanced front whose own target
group probes the wrong port, and 1 batch service of a fleet whose shared image names a
repository that does not exist. So the failing services share their subnet, roles, task
definitions and repository as real fleets do: 10 times the services are 10 times the failing
services, but still three distinct task failures (and one target group per front service).
Messages are the demo's (real ECS wording, quoted from knowledge/ examples).
"""

from __future__ import annotations

from typing import Any

import boto3

from ecsdoctor.demo import account as acct
from ecsdoctor.demo.account import REGION
from ecsdoctor.demo.scenarios import LOG_GROUP_MISSING, REPOSITORY_NOT_FOUND
from ecsdoctor.demo.service_scenarios import (
    _ELB_FAILING,
    _NAT,
    _ROLLED_BACK,
    DEPLOYMENT_FAILED,
    STEADY,
    WORKER_LOG_GROUP,
)
from ecsdoctor.demo.services import ServiceSpec, add_service

TYPO_REPOSITORY = f"{acct.REGISTRY}/wbe"


def _revision(session: boto3.session.Session, base: str, **change: str) -> str:
    """One more revision of the demo family, shared by a whole fleet of services."""
    ecs = session.client("ecs", region_name=REGION)
    definition = ecs.describe_task_definition(taskDefinition=base)["taskDefinition"]
    container: dict[str, Any] = dict(definition["containerDefinitions"][0])
    if "image" in change:
        container["image"] = change["image"]
    if "log_group" in change:
        logging = dict(container["logConfiguration"])
        logging["options"] = {**logging["options"], "awslogs-group": change["log_group"]}
        container["logConfiguration"] = logging
    keys = (
        "family",
        "requiresCompatibilities",
        "networkMode",
        "cpu",
        "memory",
        "executionRoleArn",
        "taskRoleArn",
        "runtimePlatform",
    )
    arn: str = ecs.register_task_definition(
        **{k: definition[k] for k in keys if k in definition}, containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def build_scaled_cluster(
    session: boto3.session.Session, services: int, stopped_per_service: int = 2
) -> dict[str, list[str]]:
    """Cluster `prod` with `services` services (a multiple of 10); their names by kind."""
    if services % 10:
        raise ValueError("the mix comes in tens")
    ids = dict(acct.build_account(session, _NAT).ids)
    worker_def = _revision(session, ids["task_definition"], log_group=WORKER_LOG_GROUP)
    batch_def = _revision(session, ids["task_definition"], image=f"{TYPO_REPOSITORY}:v1")
    tens = services // 10
    names: dict[str, list[str]] = {"healthy": [], "worker": [], "front": [], "batch": []}
    n = stopped_per_service
    for i in range(6 * tens):
        spec = ServiceSpec(account=_NAT, load_balanced=i % 2 == 0, events=(STEADY,))
        names["healthy"].append(_add(session, spec, ids, f"api-{i:03d}"))
    for i in range(2 * tens):
        spec = ServiceSpec(
            account=_NAT,
            load_balanced=False,
            stopped_reason=LOG_GROUP_MISSING,
            stopped=n,
            **{k: v for k, v in _ROLLED_BACK.items() if k != "stopped"},  # type: ignore[arg-type]
        )
        names["worker"].append(_add(session, spec, ids, f"worker-{i:03d}", worker_def))
    for i in range(tens):
        spec = ServiceSpec(
            account=_NAT,
            health_check_port="80",
            unhealthy_targets="Target.FailedHealthChecks",
            ran_seconds=120,
            **{**_ELB_FAILING, "stopped": n},  # type: ignore[arg-type]
        )
        names["front"].append(_add(session, spec, ids, f"front-{i:03d}"))
    for i in range(tens):
        spec = ServiceSpec(
            account=_NAT,
            load_balanced=False,
            circuit_breaker=(False, False),
            running=0,
            rollout="IN_PROGRESS",
            events=(DEPLOYMENT_FAILED,),
            stopped=n,
            stopped_reason=REPOSITORY_NOT_FOUND.format(repository=TYPO_REPOSITORY),
        )
        names["batch"].append(_add(session, spec, ids, f"batch-{i:03d}", batch_def))
    return names


def _add(
    session: boto3.session.Session,
    spec: ServiceSpec,
    ids: dict[str, str],
    name: str,
    task_definition: str | None = None,
) -> str:
    """Add one service; a fleet's services run the fleet's one task definition revision."""
    if task_definition is None:
        add_service(session, spec, ids, name)
        return name
    local = {**ids, "task_definition": task_definition}
    add_service(session, spec, local, name)
    ids.update({k: v for k, v in local.items() if k != "task_definition"})
    return name
