"""Table tests of the deployment checks: circuit breaker, deployment deadlock, grace period.

`circuit_breaker_disabled` and `deployment_deadlock` judge the describe-services document the
service diagnosis already holds: they read nothing, so no read can be denied and they have no
INCONCLUSIVE row; their rows run on a reader with no answers, which pins that they read nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecsdoctor.checks.deployment import (
    circuit_breaker_disabled,
    deployment_deadlock,
    grace_period_too_short,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import FailureGroup, Status
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

DESCRIBE = "ecs:DescribeServices"
ELB_ENTRY = "health.elb_health_check_failed"
ELB_REASON = "Task failed ELB health checks in (target-group <arn>)"


def _definition(where: Where, start_period: int | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "web",
        "image": f"{where.registry()}/web:5.1.0",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
    }
    if start_period is not None:
        container["healthCheck"] = {
            "command": ["CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/ready || exit 1"],
            "interval": 15,
            "timeout": 5,
            "retries": 3,
            "startPeriod": start_period,
        }
    return task_definition(where, "web", 21, [container])


def _group(where: Where, count: int, ran_for: float | None = None) -> FailureGroup:
    tg = f"arn:aws:elasticloadbalancing:{where.region}:{where.account}:targetgroup/web-tg/6d0ecf831eec9f09"
    return FailureGroup(
        reason=ELB_REASON,
        example=f"Task failed ELB health checks in (target-group {tg})",
        count=count,
        first_seen="2025-11-28T21:02:11+00:00",
        last_seen="2025-11-28T21:44:50+00:00",
        tasks=(where.task_arn("5b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"),),
        service="web",
        ran_for=ran_for,
    )


def _service(
    where: Where,
    *,
    groups: tuple[FailureGroup, ...] = (),
    definition: dict[str, Any] | None = None,
    reader: FakeReader | None = None,
    event_entries: tuple[str, ...] = (),
    elb_groups: bool = False,
    **raw: Any,
) -> Built:
    definition = definition or _definition(where)
    reader = reader or FakeReader(where.region, where.account)
    doc = service_document(where, "web", definition, **raw)
    entries = {g.reason: frozenset({ELB_ENTRY}) for g in groups} if elb_groups else {}
    ctx = service_context(
        reader, where, doc, groups=groups, group_entries=entries, event_entries=event_entries
    )
    return ctx, reader


def _breaker(enable: bool, rollback: bool = False) -> dict[str, Any]:
    return {
        "deploymentCircuitBreaker": {"enable": enable, "rollback": rollback},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


# -- circuit_breaker_disabled -----------------------------------------------------------------------
BREAKER_ROWS = [
    pytest.param(
        Row(
            lambda: _service(
                EAST, groups=(_group(EAST, 5),), deploymentConfiguration=_breaker(False)
            ),
            Status.CONFIRMED,
            Kind.SERVICE_DEPLOYMENT,
            EAST.service_arn("web"),
            "enable: False, rollback: False; 5 failed task(s) seen",
            DESCRIBE,
        ),
        id="confirmed-stopped-tasks",
    ),
    pytest.param(
        Row(
            # ECS forgot the stopped tasks; the deployment still counts them.
            lambda: _service(
                WEST,
                deploymentConfiguration=_breaker(False),
                deployments=[
                    {
                        "id": "ecs-svc/7782913370129283746",
                        "status": "PRIMARY",
                        "taskDefinition": WEST.td_arn("web", 21),
                        "desiredCount": 3,
                        "runningCount": 0,
                        "failedTasks": 3,
                        "rolloutState": "IN_PROGRESS",
                    }
                ],
            ),
            Status.CONFIRMED,
            Kind.SERVICE_DEPLOYMENT,
            WEST.service_arn("web"),
            "(3 failed so far)",
            DESCRIBE,
        ),
        id="confirmed-deployment-failed-tasks",
    ),
    pytest.param(
        Row(
            lambda: _service(
                WEST, groups=(_group(WEST, 2),), deploymentConfiguration=_breaker(True, True)
            ),
            Status.RULED_OUT,
            Kind.SERVICE_DEPLOYMENT,
            WEST.service_arn("web"),
            "enable: True, rollback: True; 2 failed task(s) seen",
            DESCRIBE,
        ),
        id="ruled-out-breaker-on",
    ),
    pytest.param(
        Row(lambda: _service(EAST, deploymentConfiguration=_breaker(False)), None),
        id="not-applicable-no-failures",
    ),
    pytest.param(
        Row(
            lambda: _service(
                EAST,
                groups=(_group(EAST, 4),),
                deploymentController={"type": "CODE_DEPLOY"},
                deploymentConfiguration=_breaker(False),
            ),
            None,
        ),
        id="not-applicable-code-deploy",
    ),
]


@pytest.mark.parametrize("row", BREAKER_ROWS)
def test_circuit_breaker_disabled(row: Row) -> None:
    verify(circuit_breaker_disabled, row)


# -- deployment_deadlock --------------------------------------------------------------------------
def _limits(minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "minimumHealthyPercent": minimum,
        "maximumPercent": maximum,
    }


def _two_deployments(where: Where) -> list[dict[str, Any]]:
    return [
        {"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": where.td_arn("web", 22)},
        {"id": "ecs-svc/0", "status": "ACTIVE", "taskDefinition": where.td_arn("web", 21)},
    ]


DEADLOCK_ROWS = [
    pytest.param(
        Row(
            lambda: _service(
                EAST,
                desiredCount=1,
                deploymentConfiguration=_limits(100, 100),
                deployments=_two_deployments(EAST),
            ),
            Status.CONFIRMED,
            Kind.SERVICE_DEPLOYMENT,
            EAST.service_arn("web"),
            "minimumHealthyPercent 100% (keep at least 1 running), maximumPercent 100% (at most 1",
            DESCRIBE,
        ),
        id="confirmed-100-100",
    ),
    pytest.param(
        Row(
            # ECS rounds: ceil(3 x 67%) = 3 must stay and floor(3 x 130%) = 3 may run.
            lambda: _service(WEST, desiredCount=3, deploymentConfiguration=_limits(67, 130)),
            Status.CONFIRMED,
            Kind.SERVICE_DEPLOYMENT,
            WEST.service_arn("web"),
            "forbids stopping an old task and maximumPercent 130% forbids starting a new one",
            DESCRIBE,
        ),
        id="confirmed-rounding",
    ),
    pytest.param(
        Row(
            lambda: _service(WEST, desiredCount=4, deploymentConfiguration=_limits(50, 200)),
            Status.RULED_OUT,
            Kind.SERVICE_DEPLOYMENT,
            WEST.service_arn("web"),
            "it may stop down to 2 or start up to 8 tasks for 4 desired",
            DESCRIBE,
        ),
        id="ruled-out-room-to-move",
    ),
    pytest.param(
        Row(
            lambda: _service(
                EAST,
                desiredCount=1,
                deploymentConfiguration=_limits(100, 100),
                deployments=[{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED"}],
            ),
            None,
        ),
        id="not-applicable-not-rolling",
    ),
    pytest.param(
        Row(
            lambda: _service(
                EAST, schedulingStrategy="DAEMON", deploymentConfiguration=_limits(100, 100)
            ),
            None,
        ),
        id="not-applicable-daemon",
    ),
]


@pytest.mark.parametrize("row", DEADLOCK_ROWS)
def test_deployment_deadlock(row: Row) -> None:
    verify(deployment_deadlock, row)


# -- grace_period_too_short -----------------------------------------------------------------------
def _balanced(where: Where) -> list[dict[str, Any]]:
    tg = f"arn:aws:elasticloadbalancing:{where.region}:{where.account}:targetgroup/web-tg/6d0ecf831eec9f09"
    return [{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}]


def _grace(
    where: Where,
    grace: int | None,
    start_period: int | None,
    ran_for: float | None,
    *,
    deny: bool = False,
    events: tuple[str, ...] = (),
) -> Built:
    definition = _definition(where, start_period)
    reader = task_reader(where, definition)
    if deny:
        reader.deny("ecs", "DescribeTaskDefinition")
    raw: dict[str, Any] = {"loadBalancers": _balanced(where)}
    if grace is not None:
        raw["healthCheckGracePeriodSeconds"] = grace
    groups = (_group(where, 3, ran_for),) if ran_for is not None else ()
    return _service(
        where,
        groups=groups,
        definition=definition,
        reader=reader,
        elb_groups=True,
        event_entries=events,
        **raw,
    )


GRACE_ROWS = [
    pytest.param(
        Row(
            lambda: _grace(EAST, None, 90, 75.0),
            Status.CONFIRMED,
            Kind.SERVICE,
            EAST.service_arn("web"),
            "healthCheckGracePeriodSeconds 0 s (not set); 3 load balancer health check failure(s)",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-start-period-beyond-grace",
    ),
    pytest.param(
        Row(
            lambda: _grace(WEST, 300, None, 120.0),
            Status.RULED_OUT,
            Kind.SERVICE,
            WEST.service_arn("web"),
            "the replaced tasks ran for about 120 s before being stopped",
            DESCRIBE,
        ),
        id="ruled-out-grace-outlasted-tasks",
    ),
    pytest.param(
        Row(
            # Only service events: nothing says how long the application needs to start.
            lambda: _grace(
                WEST, 30, None, None, events=("service_event.target_unhealthy_status_code",) * 2
            ),
            Status.INCONCLUSIVE,
            Kind.SERVICE,
            WEST.service_arn("web"),
            "cannot be told from AWS alone",
            DESCRIBE,
        ),
        id="inconclusive-startup-unknown",
    ),
    pytest.param(
        Row(
            lambda: _grace(EAST, None, 90, 75.0, deny=True),
            Status.INCONCLUSIVE,
            Kind.SERVICE,
            EAST.service_arn("web"),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _service(EAST, groups=(_group(EAST, 3, 40.0),), elb_groups=True), None),
        id="not-applicable-no-load-balancer",
    ),
    pytest.param(
        Row(
            # Failures, but none from load balancer health checks.
            lambda: _service(WEST, groups=(_group(WEST, 3, 40.0),), loadBalancers=_balanced(WEST)),
            None,
        ),
        id="not-applicable-no-elb-failures",
    ),
]


@pytest.mark.parametrize("row", GRACE_ROWS)
def test_grace_period_too_short(row: Row) -> None:
    verify(grace_period_too_short, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    circuit_breaker_disabled: BREAKER_ROWS,
    deployment_deadlock: DEADLOCK_ROWS,
    grace_period_too_short: GRACE_ROWS,
}
