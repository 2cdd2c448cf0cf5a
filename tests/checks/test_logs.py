"""Table test of logs.log_group_missing: the awslogs group exists, may be created, or is missing."""

from __future__ import annotations

from typing import Any

import pytest

from ecsdoctor.checks.logs import log_group_missing
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.table import (
    EAST,
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

NO_EVIDENCE = "a RULED_OUT log group cites no logs:DescribeLogGroups evidence"


def _group(where: Where, name: str, region: str | None = None) -> dict[str, Any]:
    arn = f"arn:aws:logs:{region or where.region}:{where.account}:log-group:{name}"
    return {
        "logGroupName": name,
        "creationTime": 1732406400000,
        "metricFilterCount": 0,
        "arn": f"{arn}:*",
        "storedBytes": 0,
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
    }


def _world(
    where: Where, options: dict[str, str] | None, groups: list[dict[str, Any]] | None
) -> Built:
    container: dict[str, Any] = {
        "name": "api",
        "image": f"{where.registry()}/api:1.4.2",
        "essential": True,
    }
    if options is not None:
        container["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    definition = task_definition(where, "api", 7, [container])
    reader = task_reader(where, definition)
    if groups is not None and options is not None:
        region = options.get("awslogs-region") or where.region
        reader.on(
            "logs",
            "DescribeLogGroups",
            {"logGroups": groups},
            region=region,
            logGroupNamePrefix=options["awslogs-group"],
        )
    return task_context(reader, where, stopped_task(where, definition)), reader


def _denied() -> Built:
    ctx, reader = _world(WEST, {"awslogs-group": "/ecs/payments"}, None)
    reader.deny("logs", "DescribeLogGroups")
    return ctx, reader


EAST_GROUP = f"arn:aws:logs:us-east-1:{EAST.account}:log-group:/ecs/api"
WEST_GROUP = f"arn:aws:logs:eu-west-1:{WEST.account}:log-group:/ecs/payments"
CROSS_GROUP = f"arn:aws:logs:eu-west-1:{EAST.account}:log-group:/ecs/api"

ROWS = [
    pytest.param(
        Row(
            # The prefix read returns a longer name: only an exact name counts.
            lambda: _world(
                EAST,
                {"awslogs-group": "/ecs/api", "awslogs-stream-prefix": "ecs"},
                [_group(EAST, "/ecs/api-legacy")],
            ),
            Status.CONFIRMED,
            Kind.LOG_GROUP,
            EAST_GROUP,
            "No log group named /ecs/api in us-east-1",
            "logs:DescribeLogGroups",
        ),
        id="confirmed-missing",
    ),
    pytest.param(
        Row(
            # awslogs-region points elsewhere: the group is looked up there, not in the task's region.
            lambda: _world(EAST, {"awslogs-group": "/ecs/api", "awslogs-region": "eu-west-1"}, []),
            Status.CONFIRMED,
            Kind.LOG_GROUP,
            CROSS_GROUP,
            "which does not exist, and awslogs-create-group is not set",
            "logs:DescribeLogGroups",
        ),
        id="confirmed-missing-in-awslogs-region",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                {"awslogs-group": "/ecs/payments", "awslogs-region": "eu-west-1"},
                [_group(WEST, "/ecs/payments")],
            ),
            Status.RULED_OUT,
            Kind.LOG_GROUP,
            WEST_GROUP,
            "Log group /ecs/payments exists in eu-west-1",
            "logs:DescribeLogGroups",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-exists",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, {"awslogs-group": "/ecs/api", "awslogs-create-group": "true"}, []),
            Status.RULED_OUT,
            Kind.LOG_GROUP,
            EAST_GROUP,
            "awslogs-create-group lets the driver create it",
            "logs:DescribeLogGroups",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-create-group",
    ),
    pytest.param(
        Row(
            _denied,
            Status.INCONCLUSIVE,
            Kind.LOG_GROUP,
            WEST_GROUP,
            "access denied for logs:DescribeLogGroups",
            permission="logs:DescribeLogGroups",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST, None, None), None),
        id="not-applicable-no-awslogs",
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_log_group_missing(row: Row) -> None:
    verify(log_group_missing, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {log_group_missing: ROWS}
