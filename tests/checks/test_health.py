"""Table test of health.health_check_command: a malformed container health check command."""

from __future__ import annotations

from typing import Any

import pytest

from ecsdoctor.checks import CheckContext
from ecsdoctor.checks.health import health_check_command
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.table import (
    EAST,
    TASK_ID,
    WEST,
    Built,
    Row,
    Where,
    stopped_task,
    task_context,
    task_definition,
    task_reader,
    verify,
)

FAILED_ENTRY = "health.container_health_check_failed"
SECRET_TOKEN = "s3cr3t-probe-token"


def _world(
    where: Where,
    command: list[str] | None,
    *,
    unhealthy: bool = True,
    matched: frozenset[str] = frozenset(),
) -> Built:
    container: dict[str, Any] = {
        "name": "web",
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    }
    if command is not None:
        container["healthCheck"] = {
            "command": command,
            "interval": 10,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 20,
        }
    definition = task_definition(where, "web", 12, [container])
    task = stopped_task(
        where,
        definition,
        stopCode="EssentialContainerExited",
        stoppedReason="Task failed container health checks",
        containers=[
            {
                "name": "web",
                "lastStatus": "STOPPED",
                "healthStatus": "UNHEALTHY" if unhealthy else "UNKNOWN",
                "exitCode": 137,
            }
        ],
    )
    reader = task_reader(where, definition)
    return task_context(reader, where, task, matched=matched), reader


def _denied() -> Built:
    ctx, reader = _world(WEST, ["CMD", "/bin/healthcheck"])
    reader.deny("ecs", "DescribeTaskDefinition")
    return ctx, reader


EAST_WEB = EAST.td_arn("web", 12) + "#web"
WEST_WEB = WEST.td_arn("web", 12) + "#web"

ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, ["CMD-SHELL", "curl", "-f", "http://localhost:8080/health"]),
            Status.CONFIRMED,
            Kind.CONTAINER_HEALTH_CHECK,
            EAST_WEB,
            "CMD-SHELL is followed by 3 strings",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-cmd-shell-split",
    ),
    pytest.param(
        Row(
            # No health status on record, but the stopped reason matched a health-check entry.
            lambda: _world(
                WEST,
                ["curl -f http://localhost:8080/health"],
                unhealthy=False,
                matched=frozenset({FAILED_ENTRY}),
            ),
            Status.CONFIRMED,
            Kind.CONTAINER_HEALTH_CHECK,
            WEST_WEB,
            "its first element is not CMD, CMD-SHELL or NONE",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-unknown-form",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, ["CMD"]),
            Status.CONFIRMED,
            Kind.CONTAINER_HEALTH_CHECK,
            EAST_WEB,
            "CMD is given no command to run",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-empty-cmd",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]),
            Status.RULED_OUT,
            Kind.CONTAINER_HEALTH_CHECK,
            WEST_WEB,
            "healthCheck is CMD-SHELL command of 2 element(s); interval 10 s, timeout 5 s",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-well-formed",
    ),
    pytest.param(
        Row(
            _denied,
            Status.INCONCLUSIVE,
            Kind.CONTAINER_HEALTH_CHECK,
            WEST.task_arn(TASK_ID),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST, ["CMD", "/bin/healthcheck"], unhealthy=False), None),
        id="not-applicable-healthy",
    ),
    pytest.param(
        Row(lambda: _world(EAST, None, matched=frozenset({FAILED_ENTRY})), None),
        id="not-applicable-no-health-check",
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_health_check_command(row: Row) -> None:
    verify(health_check_command, row)


def test_health_check_command_is_described_never_quoted() -> None:
    """Health-check commands often carry credentials: no part of one may reach the verdict."""
    command = ["CMD-SHELL", f"curl -H 'Authorization: Bearer {SECRET_TOKEN}' localhost", "x"]
    ctx, _ = _world(EAST, command)
    assert isinstance(ctx, CheckContext)
    [verdict] = health_check_command(ctx)
    shown = [verdict.detail, verdict.remediation or "", *(e.detail for e in verdict.evidence)]
    assert verdict.status is Status.CONFIRMED
    assert not any(SECRET_TOKEN in text or "Authorization" in text for text in shown)


#: Every check of the module and its table (test_registry reads them).
TABLES = {health_check_command: ROWS}
