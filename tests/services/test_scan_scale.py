"""Scan cost at scale: 10 times the services must cost at most 2 times the requests.

Counted, not timed: every request botocore sends is tallied by operation, so the test says which
read grew when the budget breaks. The mix (tests/services/cluster_scale.py) has failing fleets
sharing task definitions, roles, subnet and repository, and one target group per front service.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.reader import AwsReader
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.errors import ReadError
from ecsdoctor.models import Diagnosis
from ecsdoctor.scan import failure_signature, scan_cluster
from ecsdoctor.service import ServiceSnapshot, prefetch_target_groups
from tests.services.cluster_scale import TYPO_REPOSITORY, build_scaled_cluster

REGION = "us-east-1"
LOG_GROUP_ARN = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/workers"
REPOSITORY_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/" + TYPO_REPOSITORY.split("/")[1]


@dataclass(frozen=True)
class Scanned:
    names: dict[str, list[str]]
    diagnosis: Diagnosis
    requests: Counter[str]
    page_sizes: dict[str, set[int | None]]


def _scan(services: int) -> Scanned:
    with mock_aws():
        names = build_scaled_cluster(boto3.session.Session(region_name=REGION), services)
        session = boto3.session.Session(region_name=REGION)
        requests: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            requests[event_name.split(".", 1)[1]] += 1

        session.events.register("before-send", count)
        page_sizes: dict[str, set[int | None]] = {}

        def page(params: dict[str, Any], model: Any, **_: Any) -> None:
            page_sizes.setdefault(model.name, set()).add(params.get("maxResults"))

        session.events.register("provide-client-params.ecs.ListServices", page)
        session.events.register("provide-client-params.ecs.ListTasks", page)
        # No rate cap: the test counts requests, it does not wait for them.
        reader = open_reader(AwsAccess(session=session, max_rps=0))
        diagnosis = scan_cluster("prod", reader=reader)
    return Scanned(names, diagnosis, requests, page_sizes)


@pytest.fixture(scope="module")
def small() -> Scanned:
    return _scan(10)


@pytest.fixture(scope="module")
def large() -> Scanned:
    return _scan(100)


def test_ten_times_the_services_cost_at_most_twice_the_requests(
    small: Scanned, large: Scanned
) -> None:
    few, many = small.diagnosis.api_calls, large.diagnosis.api_calls
    assert many <= 2 * few, (few, many, large.requests.most_common(8))


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_budget_by_operation(size: str, request: pytest.FixtureRequest) -> None:
    scanned: Scanned = request.getfixturevalue(size)
    n = sum(len(v) for v in scanned.names.values())
    fronts = len(scanned.names["front"])
    calls = scanned.requests
    # ECS returns 10 a page unless asked for 100 (moto ignores the size, so it is checked here).
    assert scanned.page_sizes == {"ListServices": {100}, "ListTasks": {100}}
    assert calls["ecs.ListServices"] == math.ceil(n / 100)
    assert calls["ecs.DescribeServices"] == math.ceil(n / 10)
    assert calls["ecs.ListTasks"] == 1 and calls["ecs.DescribeTasks"] == 1  # < 100 stopped
    # Three distinct failures however many services fail: one task diagnosis each.
    assert calls["ec2.DescribeNetworkInterfaces"] == 3
    assert calls["ecs.DescribeTaskDefinition"] == 3
    assert calls["ecr.DescribeRepositories"] <= 3
    # Target health only where events or stopped tasks name the targets: the fronts, never the
    # healthy services behind the same load balancer; their target groups 20 per request.
    assert calls["elastic-load-balancing-v2.DescribeTargetHealth"] == fronts
    assert calls["elastic-load-balancing-v2.DescribeTargetGroups"] == math.ceil(fronts / 20)
    assert calls["elastic-load-balancing-v2.DescribeLoadBalancers"] == 1


@pytest.mark.parametrize("size", ["small", "large"])
def test_every_affected_service_is_reported(size: str, request: pytest.FixtureRequest) -> None:
    scanned: Scanned = request.getfixturevalue(size)
    names, diagnosis = scanned.names, scanned.diagnosis
    by_name = {s.name: s for s in diagnosis.services}
    assert {n for n, s in by_name.items() if not s.healthy} == set(
        names["worker"] + names["front"] + names["batch"]
    )
    assert all(not by_name[n].causes for n in names["healthy"])
    roots = {(f.check, f.resource): f for f in diagnosis.root_causes}
    # One diagnosis of the deleted log group answers for the whole worker fleet ...
    logs = roots[("logs.log_group_missing", LOG_GROUP_ARN)]
    assert sorted(logs.affected) == sorted(names["worker"])
    for worker in names["worker"]:
        assert by_name[worker].causes == (f"log_group:{LOG_GROUP_ARN}",)
    # ... and one of the missing repository for the batch fleet.
    repository = roots[("image.repository_not_found", REPOSITORY_ARN)]
    assert sorted(repository.affected) == sorted(names["batch"])
    # Service checks still run per service: each front's own target group probes port 80.
    ports = [f for f in diagnosis.root_causes if f.check == "load_balancer.health_check_port"]
    assert sorted(a for f in ports for a in f.affected) == sorted(names["front"])
    assert all(len(f.affected) == 1 for f in ports)
    groups = {g.service for g in diagnosis.failure_groups}
    assert groups == set(names["worker"] + names["front"] + names["batch"])
    for group in diagnosis.failure_groups:
        if group.service in names["worker"]:
            assert group.causes == (f"log_group:{LOG_GROUP_ARN}",)


def _service(**change: Any) -> ServiceSnapshot:
    raw: dict[str, Any] = {
        "serviceName": "a",
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/a",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1", "subnet-2"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
        **change,
    }
    return ServiceSnapshot(None, raw, REGION, "123456789012")  # type: ignore[arg-type]


def _task(**change: Any) -> dict[str, Any]:
    return {
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3",
        "stopCode": "TaskFailedToStart",
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 "
        "time(s): failed to resolve ref 10.0.1.7: i/o timeout",
        "attachments": [{"details": [{"name": "subnetId", "value": "subnet-1"}]}],
        **change,
    }


def test_the_signature_separates_what_the_checks_would_read_differently() -> None:
    base = failure_signature(_task(), _service(), [])
    # Another task of another service failing the same way on the same resources: shared.
    other_task = _task(taskArn="arn:aws:ecs:us-east-1:123456789012:task/prod/ffff0000")
    renamed = _service(serviceName="b", serviceArn="arn:aws:ecs:us-east-1:1:service/prod/b")
    assert failure_signature(other_task, renamed, []) == base
    # Anything the task checks read differently gets a diagnosis of its own.
    different = [
        (_task(taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/app:4"),),
        (_task(attachments=[{"details": [{"name": "subnetId", "value": "subnet-2"}]}]),),
        (_task(overrides={"taskRoleArn": "arn:aws:iam::123456789012:role/other"}),),
        (_task(stoppedReason="ResourceInitializationError: unable to pull secrets"),),
        (_task(platformVersion="1.3.0"),),
    ]
    for (task,) in different:
        assert failure_signature(task, _service(), []) != base, task
    elsewhere = _service(
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-9"]}
        }
    )
    assert failure_signature(_task(), elsewhere, []) != base


@pytest.fixture
def elb() -> Iterator[tuple[AwsReader, str]]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        ec2 = session.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        group = session.client("elbv2", region_name=REGION).create_target_group(
            Name="real-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        yield AwsReader(session, region=REGION, deadline=None), group


def _with_groups(reader: AwsReader, name: str, *arns: str) -> ServiceSnapshot:
    raw = {
        "serviceName": name,
        "serviceArn": f"arn:aws:ecs:us-east-1:123456789012:service/prod/{name}",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "loadBalancers": [{"targetGroupArn": a, "containerPort": 80} for a in arns],
    }
    return ServiceSnapshot(reader, raw, REGION, "123456789012")


def test_target_groups_are_read_in_bulk(elb: tuple[AwsReader, str]) -> None:
    reader, group = elb
    services = [_with_groups(reader, f"s{i}", group) for i in range(5)]
    prefetch_target_groups(reader, None, services)
    assert reader.api_calls == 1
    assert all(list(s.target_groups) == [group] for s in services)
    assert reader.api_calls == 1


def test_a_deleted_target_group_fails_only_its_own_service(elb: tuple[AwsReader, str]) -> None:
    reader, group = elb
    gone = group.replace("real-tg", "gone-tg").rsplit("/", 1)[0] + "/0123456789abcdef"
    fine, broken = _with_groups(reader, "fine", group), _with_groups(reader, "broken", gone)
    prefetch_target_groups(reader, None, [fine, broken])
    # The batch failed as a whole: each service reads its own, and only one of them fails.
    assert list(fine.target_groups) == [group]
    with pytest.raises(ReadError):
        _ = broken.target_groups
