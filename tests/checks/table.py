"""Rows of a check's table test, the accounts they live in, and the one way a row is verified.

A row builds its own context (task or service) on a FakeReader, runs the registered check through
`REGISTRY[id].run` (the runner that turns a denied read into a data gap), and states the verdict
it must get: status, resource kind, resource, a fact the verdict must cite (in `detail` or in an
`Evidence.detail`), the API operation that evidence came from, and for a gap the permission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from ecsdoctor.arn import TaskRef
from ecsdoctor.checks import REGISTRY, CheckContext, ServiceContext, check_id_of
from ecsdoctor.errors import CallUnavailable
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, FailureGroup, Status
from ecsdoctor.service import ServiceSnapshot
from ecsdoctor.snapshot import TaskSnapshot
from tests.checks.fake_reader import FakeReader

Context = CheckContext | ServiceContext
Built = tuple[Context, FakeReader]


@dataclass(frozen=True, slots=True)
class Where:
    """An account, region and cluster the rows of a table live in."""

    region: str
    account: str
    cluster: str

    @property
    def cluster_arn(self) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:cluster/{self.cluster}"

    def task_arn(self, task_id: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:task/{self.cluster}/{task_id}"

    def td_arn(self, family: str, revision: int) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:task-definition/{family}:{revision}"

    def service_arn(self, name: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:service/{self.cluster}/{name}"

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def registry(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"


EAST = Where("us-east-1", "111122223333", "prod")
WEST = Where("eu-west-1", "444455556666", "payments")
TASK_ID = "0f9d8c7b6a5e4d3c2b1a09f8e7d6c5b4"


def task_definition(
    where: Where, family: str, revision: int, containers: Sequence[Mapping[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A describe-task-definition `taskDefinition` document."""
    return {
        "taskDefinitionArn": where.td_arn(family, revision),
        "family": family,
        "revision": revision,
        "containerDefinitions": [dict(c) for c in containers],
        "status": "ACTIVE",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        **extra,
    }


def stopped_task(where: Where, definition: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A describe-tasks `tasks[]` document of a task that stopped while starting."""
    return {
        "taskArn": where.task_arn(TASK_ID),
        "clusterArn": where.cluster_arn,
        "taskDefinitionArn": definition["taskDefinitionArn"],
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "launchType": "FARGATE",
        "availabilityZone": f"{where.region}a",
        "stopCode": "TaskFailedToStart",
        "createdAt": datetime(2026, 11, 29, 9, 58, tzinfo=UTC),
        "stoppedAt": datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        "containers": [
            {"name": c["name"], "lastStatus": "STOPPED"}
            for c in definition.get("containerDefinitions", [])
        ],
        "attachments": [],
        **extra,
    }


def task_reader(where: Where, definition: Mapping[str, Any]) -> FakeReader:
    """A reader that already knows the task definition (every task check reads it).

    The IAM policy simulator (a second opinion the IAM checks ask for after a local denial) is
    not implemented, as in moto: rows that exercise it plant their own answer.
    """
    return (
        FakeReader(where.region, where.account)
        .on(
            "ecs",
            "DescribeTaskDefinition",
            {"taskDefinition": definition},
            taskDefinition=definition["taskDefinitionArn"],
        )
        .on(
            "iam",
            "SimulatePrincipalPolicy",
            CallUnavailable("iam:SimulatePrincipalPolicy", "NotImplemented", "not implemented"),
        )
    )


def task_context(
    reader: FakeReader,
    where: Where,
    task: Mapping[str, Any],
    *,
    matched: frozenset[str] = frozenset(),
    captures: Mapping[str, str] | None = None,
) -> CheckContext:
    """A task check's context over `task`, read through `reader`."""
    ref = TaskRef(str(task["taskArn"]), where.cluster, where.region, where.account)
    return CheckContext(TaskSnapshot(reader, ref, task=task), captures or {}, matched)


def service_context(
    reader: FakeReader,
    where: Where,
    raw: Mapping[str, Any],
    *,
    groups: tuple[FailureGroup, ...] = (),
    matched: frozenset[str] = frozenset(),
    group_entries: Mapping[str, frozenset[str]] | None = None,
    event_entries: tuple[str, ...] = (),
) -> ServiceContext:
    """A service check's context over the describe-services document `raw`."""
    return ServiceContext(
        ServiceSnapshot(reader, raw, where.region, where.account),
        groups,
        matched,
        {},
        group_entries=group_entries or {},
        event_entries=event_entries,
    )


def service_document(
    where: Where, name: str, definition: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """A describe-services `services[]` document: a Fargate service rolling out, nothing running.

    `extra` overrides fields; a field given as None is left out.
    """
    td = str(definition["taskDefinitionArn"])
    doc: dict[str, Any] = {
        "serviceArn": where.service_arn(name),
        "serviceName": name,
        "clusterArn": where.cluster_arn,
        "loadBalancers": [],
        "serviceRegistries": [],
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 0,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "taskDefinition": td,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deployments": [
            {
                "id": "ecs-svc/4419361522350919283",
                "status": "PRIMARY",
                "taskDefinition": td,
                "desiredCount": 2,
                "pendingCount": 0,
                "runningCount": 0,
                "failedTasks": 0,
                "launchType": "FARGATE",
                "rolloutState": "IN_PROGRESS",
                "rolloutStateReason": "ECS deployment ecs-svc/4419361522350919283 in progress.",
            }
        ],
        "events": [],
        "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "enableECSManagedTags": False,
        "propagateTags": "NONE",
    }
    doc.update(extra)
    return {k: v for k, v in doc.items() if v is not None}  # None drops a field


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a check's table: a world to build and the verdict it must get.

    `status=None` means the check does not apply and must return nothing. `evidence_bug` names
    a known defect: the row asserts everything else, then xfails (strictly: it fails loudly once
    the check does cite `source`, so the marker is removed with the fix).
    """

    build: Callable[[], Built]
    status: Status | None
    kind: Kind | None = None
    resource: str | None = None
    cites: str = ""
    source: str | None = None
    permission: str | None = None
    evidence_bug: str | None = None


def verify(check: Callable[..., list[CheckResult]], row: Row) -> list[CheckResult]:
    """Run `check` on the row's world and assert the verdict the row states."""
    entry = REGISTRY[check_id_of(check)]
    ctx, reader = row.build()
    results = entry.run(ctx)  # type: ignore[arg-type]
    assert reader.unexpected == [], f"{entry.id} read what the row did not provide"
    assert all(r.check == entry.id for r in results)
    if row.status is None:
        assert results == [], [(r.status, r.resource, r.detail) for r in results]
        return results
    mine = [r for r in results if r.resource == row.resource]
    assert len(mine) == 1, (
        f"expected one verdict on {row.resource}, got "
        f"{[(r.status.value, r.resource, r.detail) for r in results]}"
    )
    verdict = mine[0]
    assert verdict.status is row.status, verdict.detail
    assert verdict.kind is row.kind
    texts = [verdict.detail, *(e.detail for e in verdict.evidence)]
    assert any(row.cites in t for t in texts), (row.cites, texts)
    if row.status is Status.CONFIRMED:
        assert verdict.remediation, "a confirmed verdict says how to fix it"
    if row.permission is not None:
        assert verdict.gap is not None and verdict.gap.permission == row.permission, verdict.gap
        assert f"access denied for {row.permission}" in verdict.detail
    elif row.status is Status.INCONCLUSIVE:
        assert verdict.gap is None or verdict.gap.permission is None
    if row.source is not None:
        sources = {s.strip() for e in verdict.evidence for s in e.source.split(",")}
        if row.evidence_bug is not None:
            if row.source in sources:
                pytest.fail(f"fixed ({row.evidence_bug}): drop evidence_bug from this row")
            pytest.xfail(row.evidence_bug)
        assert row.source in sources, (row.source, [e.source for e in verdict.evidence])
    return results
