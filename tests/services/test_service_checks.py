"""Service checks on hand-built snapshots: each can confirm and each can rule out."""

from __future__ import annotations

from typing import Any

import pytest

from ecsdoctor.checks.base import ServiceContext
from ecsdoctor.checks.deployment import circuit_breaker_disabled, deployment_deadlock
from ecsdoctor.checks.placement import fargate_size
from ecsdoctor.models import FailureGroup, Status
from ecsdoctor.service import ServiceSnapshot, normalize_reason, task_failure_key


class _Reader:
    """Answers DescribeTaskDefinition with a fixed definition; nothing else is needed."""

    region = "us-east-1"

    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = definition

    def call(self, service: str, operation: str, **_: Any) -> dict[str, Any]:
        assert (service, operation) == ("ecs", "DescribeTaskDefinition")
        return {"taskDefinition": self.definition}


def _svc(raw: dict[str, Any], definition: dict[str, Any] | None = None) -> ServiceSnapshot:
    base = {
        "serviceName": "web",
        "serviceArn": "arn:aws:ecs:us-east-1:111122223333:service/prod/web",
        "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
        "desiredCount": 2,
        "runningCount": 0,
        "deployments": [{"status": "PRIMARY", "rolloutState": "IN_PROGRESS", "failedTasks": 0}],
    }
    return ServiceSnapshot(_Reader(definition or {}), {**base, **raw}, "us-east-1", "111122223333")  # type: ignore[arg-type]


_GROUP = FailureGroup("x", "x", 5, None, None, ())


def test_circuit_breaker_off_with_failures_is_confirmed_and_on_is_ruled_out() -> None:
    off = _svc({"deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": False}}})
    on = _svc(
        {
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True}
            }
        }
    )
    assert circuit_breaker_disabled(ServiceContext(off, (_GROUP,)))[0].status is Status.CONFIRMED
    assert circuit_breaker_disabled(ServiceContext(on, (_GROUP,)))[0].status is Status.RULED_OUT
    # No failed task: nothing to say, whatever the setting.
    assert circuit_breaker_disabled(ServiceContext(off, ())) == []


@pytest.mark.parametrize(
    ("desired", "minimum", "maximum", "stuck"),
    [
        (1, 100, 100, True),
        (1, 50, 150, True),  # ceil(0.5) = 1 must stay, floor(1.5) = 1 may run: no room
        (1, 0, 100, False),
        (2, 50, 100, False),
        (4, 100, 125, False),
        (4, 100, 124, True),
    ],
)
def test_deployment_deadlock_follows_ecs_rounding(
    desired: int, minimum: int, maximum: int, stuck: bool
) -> None:
    svc = _svc(
        {
            "desiredCount": desired,
            "deploymentConfiguration": {
                "minimumHealthyPercent": minimum,
                "maximumPercent": maximum,
            },
        }
    )
    [verdict] = deployment_deadlock(ServiceContext(svc))
    assert verdict.status is (Status.CONFIRMED if stuck else Status.RULED_OUT)


@pytest.mark.parametrize(
    ("cpu", "memory", "valid"),
    [
        ("256", "512", True),
        ("256", "1536", False),
        ("512", "3072", True),
        ("1024", "1024", False),
        ("4096", "30720", True),
        ("8192", "20480", True),
        ("8192", "18432", False),
        ("300", "1024", False),
    ],
)
def test_fargate_sizes(cpu: str, memory: str, valid: bool) -> None:
    svc = _svc(
        {"launchType": "FARGATE", "taskDefinition": "arn:td"},
        {"taskDefinitionArn": "arn:td", "cpu": cpu, "memory": memory},
    )
    [verdict] = fargate_size(ServiceContext(svc))
    assert verdict.status is (Status.RULED_OUT if valid else Status.CONFIRMED)


def test_failure_key_strips_what_differs_between_tasks() -> None:
    def task(ip: str, task_id: str) -> dict[str, Any]:
        reason = (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            f"failed to resolve ref x/y:v1: dial tcp {ip}:443: i/o timeout (task {task_id})"
        )
        return {"stopCode": "TaskFailedToStart", "stoppedReason": reason, "containers": []}

    first = task("10.0.1.5", "0123456789abcdef0123456789abcdef")
    second = task("10.0.2.77", "fedcba9876543210fedcba9876543210")
    assert task_failure_key(first) == task_failure_key(second)
    assert normalize_reason("arn:aws:ecs:us-east-1:1:task/p/abc at 2024-01-01T00:00:00Z") == (
        "<arn> at <time>"
    )
