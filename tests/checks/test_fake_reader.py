"""The table tests' reader keeps the live reader's promises: protocol, guard, loud misses."""

from __future__ import annotations

import pytest

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import CallDenied, ForbiddenOperation, ReadError
from tests.checks.fake_reader import FakeReader


def test_satisfies_the_reader_protocol() -> None:
    assert isinstance(FakeReader("eu-west-1", "444455556666"), Reader)


def test_answers_by_region_and_parameters_and_the_last_rule_wins() -> None:
    reader = (
        FakeReader("us-east-1")
        .on("ec2", "DescribeSubnets", {"Subnets": [{"SubnetId": "subnet-a"}]})
        .on("ec2", "DescribeSubnets", {"Subnets": []}, region="eu-west-1", SubnetIds=["subnet-b"])
    )
    assert reader.call("ec2", "DescribeSubnets", SubnetIds=["subnet-a"])["Subnets"]
    assert (
        reader.pages(
            "ec2", "DescribeSubnets", "Subnets", region="eu-west-1", SubnetIds=["subnet-b"]
        )
        == []
    )
    assert reader.calls == ["ec2:DescribeSubnets", "ec2:DescribeSubnets"]
    assert reader.api_calls == 2


def test_an_unplanted_read_fails_loudly_and_is_recorded() -> None:
    reader = FakeReader("us-east-1").on("iam", "GetRole", {"Role": {}}, RoleName="app")
    with pytest.raises(
        AssertionError, match=r"iam:GetRole in us-east-1 with \{'RoleName': 'other'\}"
    ):
        reader.call("iam", "GetRole", RoleName="other")
    assert reader.unexpected == ["iam:GetRole in us-east-1 with {'RoleName': 'other'}"]


def test_refuses_what_the_live_reader_refuses() -> None:
    reader = FakeReader("us-east-1")
    with pytest.raises(ForbiddenOperation):
        reader.call("secretsmanager", "GetSecretValue", SecretId="prod/db")
    with pytest.raises(ForbiddenOperation):
        reader.call("ecs", "StopTask", cluster="prod", task="0f9d8c7b6a5e4d3c2b1a09f8e7d6c5b4")
    assert reader.calls == []


def test_a_denied_read_names_its_permission_and_parallel_keeps_it_as_a_result() -> None:
    reader = FakeReader("us-east-1").deny("logs", "DescribeLogGroups")
    [outcome] = reader.parallel([lambda: reader.call("logs", "DescribeLogGroups")])
    assert isinstance(outcome, CallDenied) and isinstance(outcome, ReadError)
    assert outcome.permission == "logs:DescribeLogGroups"
