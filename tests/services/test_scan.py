"""A 50-service cluster with mixed failures, scanned: grouped causes and a flat request budget."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.demo.service_scenarios import WORKER_LOG_GROUP, ClusterMix, build_cluster
from ecsdoctor.errors import AwsSetupError
from ecsdoctor.models import Diagnosis
from ecsdoctor.report import Format, render
from ecsdoctor.scan import scan_cluster

BUILD = boto3.session.Session(region_name="us-east-1")


def _scan(mix: ClusterMix) -> tuple[dict[str, str], Diagnosis]:
    with mock_aws():
        ids = build_cluster(BUILD, mix)
        # Uncapped: these tests count requests; the cap's pacing is tests/aws/test_rate.py's.
        session = boto3.session.Session(region_name="us-east-1")
        return ids, scan_cluster("prod", reader=open_reader(AwsAccess(session, max_rps=0)))


@pytest.fixture(scope="module")
def fifty() -> tuple[dict[str, str], Diagnosis]:
    return _scan(ClusterMix())


def test_scan_groups_the_shared_root_cause(fifty: tuple[dict[str, str], Diagnosis]) -> None:
    _, diagnosis = fifty
    assert diagnosis.subject.type == "cluster"
    services = diagnosis.services
    assert len(services) == 50
    unhealthy = {s.name for s in services if not s.healthy}
    assert unhealthy == {f"worker-{i:02d}" for i in range(12)} | {
        f"front-{i:02d}" for i in range(3)
    } | {f"batch-{i:02d}" for i in range(3)}
    assert all(not s.causes for s in services if s.healthy)
    # The one missing log group breaks twelve services: one root cause, twelve affected.
    top = diagnosis.root_causes[0]
    assert top.check == "logs.log_group_missing"
    assert top.resource == f"arn:aws:logs:us-east-1:123456789012:log-group:{WORKER_LOG_GROUP}"
    assert sorted(top.affected) == [f"worker-{i:02d}" for i in range(12)]
    by_check: dict[str, int] = {}
    for finding in diagnosis.root_causes:
        by_check[finding.check] = by_check.get(finding.check, 0) + 1
        assert finding.affected, finding
    assert by_check["load_balancer.health_check_port"] == 3
    assert by_check["image.repository_not_found"] == 3
    assert by_check["deployment.circuit_breaker_disabled"] == 3
    for service in services:
        if service.name.startswith("worker-"):
            assert service.causes == (f"log_group:{top.resource}",)
    document = json.loads(render(Format.JSON, diagnosis))
    assert document["subject"]["type"] == "cluster"
    assert len(document["services"]) == 50
    assert document["root_causes"][0]["affected"][0] == "worker-00"
    assert "worker-00" in render(Format.TEXT, diagnosis)
    assert "| worker-00 |" in render(Format.MARKDOWN, diagnosis)


def test_scan_requests_do_not_grow_with_the_tasks(fifty: tuple[dict[str, str], Diagnosis]) -> None:
    _, few = _scan(ClusterMix(stopped_per_service=2))
    _, many = fifty
    tasks_few = sum(s.failed_tasks for s in few.services)
    tasks_many = sum(s.failed_tasks for s in many.services)
    assert tasks_many >= 3 * tasks_few
    # Tasks are described 100 per request and each distinct failure is diagnosed once, so three
    # times the stopped tasks costs at most a couple of DescribeTasks/ListTasks pages more.
    assert many.api_calls - few.api_calls <= 3, (few.api_calls, many.api_calls)
    # The documented budget (docs/performance.md): under 2 requests per service here, though
    # every failing service has a task definition, repository or target group of its own.
    assert many.api_calls <= 2 * 50


def test_scan_needs_a_cluster() -> None:
    with pytest.raises(AwsSetupError):
        scan_cluster(session=BUILD)


def test_scan_of_a_missing_cluster_is_a_setup_error() -> None:
    with mock_aws(), pytest.raises(AwsSetupError, match="not found"):
        scan_cluster("nowhere", session=boto3.session.Session(region_name="us-east-1"))


def test_scan_all_clusters() -> None:
    with mock_aws():
        build_cluster(BUILD, ClusterMix(healthy=2, unreachable=1, wrong_port=0, typo=0))
        diagnosis = scan_cluster(all_clusters=True, session=BUILD)
    assert {s.name for s in diagnosis.services} == {"api-00", "api-01", "worker-00"}
    assert diagnosis.root_causes[0].affected == ("worker-00",)
