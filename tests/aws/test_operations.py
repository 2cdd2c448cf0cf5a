"""The allow-list is the safety promise: only reads, never secrets, only operations that exist."""

from __future__ import annotations

import botocore.session
import pytest

from ecsdoctor.aws import operations
from ecsdoctor.aws.operations import (
    FORBIDDEN,
    IAM_PREFIX,
    MUTATING_PREFIXES,
    READ_OPERATIONS,
    is_allowed,
    permission_name,
)

SERVICE_FOR_PREFIX = {prefix: service for service, prefix in IAM_PREFIX.items()}


def test_no_forbidden_or_mutating_operation_is_listed() -> None:
    assert not READ_OPERATIONS & FORBIDDEN
    for permission in READ_OPERATIONS:
        operation = permission.split(":", 1)[1]
        assert not operation.startswith(MUTATING_PREFIXES), permission
        assert is_allowed(permission), permission


def test_every_read_operation_exists_in_botocore() -> None:
    session = botocore.session.get_session()
    models = {}
    for permission in sorted(READ_OPERATIONS):
        prefix, operation = permission.split(":", 1)
        assert prefix in SERVICE_FOR_PREFIX, f"no boto3 service for IAM prefix {prefix!r}"
        service = SERVICE_FOR_PREFIX[prefix]
        if service not in models:
            models[service] = set(session.get_service_model(service).operation_names)
        assert operation in models[service], permission


def test_forbidden_operations_exist_and_are_refused() -> None:
    session = botocore.session.get_session()
    for permission in FORBIDDEN:
        prefix, operation = permission.split(":", 1)
        model = session.get_service_model(SERVICE_FOR_PREFIX[prefix])
        assert operation in model.operation_names, permission
        assert not is_allowed(permission)


@pytest.mark.parametrize(
    "permission",
    ["ecs:RunTask", "ec2:CreateRoute", "secretsmanager:GetSecretValue", "ssm:GetParameters"],
)
def test_refusal_survives_a_bad_edit_of_the_allow_list(
    monkeypatch: pytest.MonkeyPatch, permission: str
) -> None:
    """Defense in depth: even if someone adds these to READ_OPERATIONS, they stay refused."""
    monkeypatch.setattr(operations, "READ_OPERATIONS", READ_OPERATIONS | {permission})
    assert not operations.is_allowed(permission)


@pytest.mark.parametrize(
    "permission", ["ecs:DescribeTasks", "s3:GetObject", "ecs:describetasks", "DescribeTasks", ""]
)
def test_only_exact_listed_names_are_allowed(permission: str) -> None:
    assert is_allowed(permission) is (permission == "ecs:DescribeTasks")


def test_permission_names_use_iam_prefixes() -> None:
    assert permission_name("elbv2", "DescribeRules") == "elasticloadbalancing:DescribeRules"
    assert permission_name("efs", "DescribeFileSystems") == "elasticfilesystem:DescribeFileSystems"
    assert permission_name("ec2", "DescribeVpcs") == "ec2:DescribeVpcs"
