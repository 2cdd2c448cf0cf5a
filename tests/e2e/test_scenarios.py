"""Every broken-account scenario, built in moto and diagnosed end to end, read-only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.operations import FORBIDDEN, is_allowed
from ecsdoctor.demo import SCENARIOS
from ecsdoctor.diagnose import diagnose_task
from ecsdoctor.errors import AwsSetupError
from ecsdoctor.report import Format, render

BUILD = boto3.session.Session(region_name="us-east-1")
LEAK = "SECRET_VALUE_SHOULD_NEVER_PRINT"


@pytest.fixture
def account() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario_diagnosed_to_its_root_cause(name: str, account: None, recorder: type) -> None:
    scenario = SCENARIOS[name].build(BUILD)
    session = boto3.session.Session(region_name="us-east-1")
    calls = recorder(session)
    diagnosis = diagnose_task(scenario.task_arn, cluster=scenario.cluster, session=session)

    if scenario.expected is None:
        assert diagnosis.root_causes == ()
        assert diagnosis.ruled_out, "a healthy task must show what was checked"
    else:
        top = diagnosis.root_causes[0]
        assert (top.check, top.kind, top.resource) == (
            scenario.expected.check,
            scenario.expected.kind,
            scenario.expected.resource,
        )
        assert top.evidence and top.remediation
        assert scenario.expected.resource in top.summary or any(
            scenario.expected.resource in e.detail or scenario.expected.resource == e.resource
            for e in top.evidence
        )
    # Read-only, always: every attempted operation is on the allow-list, none reads a secret.
    assert calls.calls, "the diagnosis made no AWS call"
    assert all(is_allowed(op) for op in calls.calls), sorted(set(calls.calls))
    assert not set(calls.calls) & FORBIDDEN
    assert diagnosis.api_calls >= len(set(calls.calls)) > 0
    # Never leak: the environment value in the task definition appears in no output format.
    for fmt in Format:
        assert LEAK not in render(fmt, diagnosis)


def test_diagnosis_json_follows_the_schema(account: None) -> None:
    scenario = SCENARIOS["seed-incident"].build(BUILD)
    diagnosis = diagnose_task(scenario.task_arn, cluster=scenario.cluster, session=BUILD)
    document = json.loads(render(Format.JSON, diagnosis))
    assert document["schema"] == "ecsdoctor.diagnosis/v1"
    for key in (
        "subject",
        "signals",
        "matches",
        "root_causes",
        "consequences",
        "ruled_out",
        "checks",
        "data_gaps",
        "api_calls",
    ):
        assert key in document
    assert document["subject"]["type"] == "task"
    assert document["subject"]["region"] == "us-east-1"
    assert document["matches"][0]["entry"] == "image_pull.network_timeout"
    root = document["root_causes"][0]
    assert root["kind"] == "vpc_endpoint" and root["resource"].startswith("vpc-")
    assert root["evidence"][0]["source"] == "ec2:DescribeVpcEndpoints"
    assert {c["status"] for c in document["checks"]} <= {"confirmed", "ruled_out", "inconclusive"}


def test_denied_read_becomes_a_data_gap_and_the_diagnosis_goes_on(account: None) -> None:
    from botocore.awsrequest import AWSResponse

    scenario = SCENARIOS["log-group-missing"].build(BUILD)
    session = boto3.session.Session(region_name="us-east-1")

    def denied(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = {
            "Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"},
            "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse("https://denied", 403, {}, None), body  # type: ignore[arg-type]

    session.events.register("before-call.ec2.DescribeVpcEndpoints", denied)
    # thorough: the network checks are off a missing log group's path; run them anyway.
    diagnosis = diagnose_task(
        scenario.task_arn, cluster=scenario.cluster, session=session, thorough=True
    )
    assert (
        diagnosis.root_causes[0].check,
        diagnosis.root_causes[0].kind,
    ) == ("logs.log_group_missing", "log_group")
    assert any(g.permission == "ec2:DescribeVpcEndpoints" for g in diagnosis.data_gaps)
    statuses = {c.check: c.status.value for c in diagnosis.checks if c.check.startswith("network.")}
    assert "inconclusive" in statuses.values()


def test_forgotten_task_is_a_clear_setup_error(account: None) -> None:
    SCENARIOS["healthy"].build(BUILD)
    arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
    with pytest.raises(AwsSetupError, match="about an hour"):
        diagnose_task(arn, session=BUILD)
