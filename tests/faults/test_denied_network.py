"""With all of EC2 denied, the root causes that need no network data still come out: IAM and
log-group scenarios, diagnosed in-process (mock_aws) through a reader whose EC2 reads all fail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from ecsdoctor.aws import AwsReader
from ecsdoctor.demo import SCENARIOS
from ecsdoctor.diagnose import diagnose_task


def _deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """UnauthorizedOperation as EC2 answers it (hashicorp/terraform-provider-aws#34234)."""
    parsed = {
        "Error": {
            "Code": "UnauthorizedOperation",
            "Message": "You are not authorized to perform this operation.",
        },
        "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}, "RetryAttempts": 0},
    }
    return AWSResponse("https://ec2.amazonaws.com", 403, {}, None), parsed  # type: ignore[arg-type]


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


@pytest.mark.parametrize("name", ["log-group-missing", "execution-role-no-ecr"])
def test_root_causes_without_network_data(session: boto3.session.Session, name: str) -> None:
    built = SCENARIOS[name].build(session)
    assert built.expected is not None
    reader = AwsReader(session, deadline=30)
    reader.client("ec2").meta.events.register("before-call.ec2", _deny)
    diagnosis = diagnose_task(built.task_arn, cluster=built.cluster, reader=reader)
    root = diagnosis.root_causes[0]
    assert (root.check, root.kind, root.resource) == (
        built.expected.check,
        built.expected.kind,
        built.expected.resource,
    )
    denied = {g.permission for g in diagnosis.data_gaps if g.permission}
    assert denied and all(p.startswith("ec2:") for p in denied), denied
