"""Table tests of the secrets checks: SSM parameters, Secrets Manager secrets, their KMS keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ecsdoctor.checks.secrets import kms_key_unusable, parameter_not_found, secret_not_found
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import (
    describe_key,
    describe_secret,
    parameter,
)
from tests.checks.documents import (
    secret_not_found as secret_missing,
)
from tests.checks.fake_reader import Answer, FakeReader
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

NO_EVIDENCE = "a RULED_OUT verdict cites no evidence of the describe call it rests on"

# -- the references -------------------------------------------------------------------------
EAST_PARAM = f"arn:aws:ssm:us-east-1:{EAST.account}:parameter/prod/api/DB_PASSWORD"
WEST_PARAM = f"arn:aws:ssm:eu-west-1:{WEST.account}:parameter/payments/STRIPE_KEY"
WEST_BARE = f"arn:aws:ssm:eu-west-1:{WEST.account}:parameter/DB_URL"
SHARED_PARAM = "arn:aws:ssm:us-east-1:999988887777:parameter/shared/LICENSE"
EAST_SECRET = f"arn:aws:secretsmanager:us-east-1:{EAST.account}:secret:prod/api/db-Ab12Cd"
WEST_SECRET = f"arn:aws:secretsmanager:eu-west-1:{WEST.account}:secret:payments/stripe-Xy98Zw"
EAST_KEY = f"arn:aws:kms:us-east-1:{EAST.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WEST_KEY = f"arn:aws:kms:eu-west-1:{WEST.account}:key/0987dcba-09fe-87dc-65ba-ab0987654321"


def _world(
    where: Where, secrets: list[tuple[str, str]], *answers: Callable[[FakeReader], object]
) -> Built:
    """A task whose container `app` reads `secrets` (name, valueFrom); `answers` plant reads."""
    container = {
        "name": "app",
        "image": f"{where.registry()}/app:2.0.1",
        "essential": True,
        "secrets": [{"name": n, "valueFrom": v} for n, v in secrets],
    }
    definition = task_definition(
        where, "app", 4, [container], executionRoleArn=where.role_arn("ecsTaskExecutionRole")
    )
    reader = task_reader(where, definition)
    for plant in answers:
        plant(reader)
    return task_context(reader, where, stopped_task(where, definition)), reader


def _params(region: str, lookup: str, *found: dict[str, object]) -> Callable[[FakeReader], object]:
    return lambda r: r.on(
        "ssm",
        "DescribeParameters",
        {"Parameters": list(found)},
        region=region,
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [lookup]}],
    )


def _secret(region: str, arn: str, answer: Answer) -> Callable[[FakeReader], object]:
    return lambda r: r.on(
        "secretsmanager",
        "DescribeSecret",
        answer,
        region=region,
        SecretId=arn,
    )


def _key(region: str, key: str, answer: Answer) -> Callable[[FakeReader], object]:
    return lambda r: r.on("kms", "DescribeKey", answer, region=region, KeyId=key)


def _deny(service: str, operation: str) -> Callable[[FakeReader], object]:
    return lambda r: r.deny(service, operation)


# -- ssm parameters -----------------------------------------------------------------------------
PARAMETER_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                [("DB_PASSWORD", EAST_PARAM)],
                _params("us-east-1", "/prod/api/DB_PASSWORD"),
            ),
            Status.CONFIRMED,
            Kind.SSM_PARAMETER,
            EAST_PARAM,
            "No parameter named /prod/api/DB_PASSWORD",
            "ssm:DescribeParameters",
        ),
        id="confirmed-missing",
    ),
    pytest.param(
        Row(
            # A bare name is a parameter in the task's own region and account.
            lambda: _world(WEST, [("DB_URL", "DB_URL")], _params("eu-west-1", "DB_URL")),
            Status.CONFIRMED,
            Kind.SSM_PARAMETER,
            WEST_BARE,
            "reads DB_URL from SSM parameter DB_URL",
            "ssm:DescribeParameters",
        ),
        id="confirmed-missing-bare-name",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                [("STRIPE_KEY", WEST_PARAM)],
                _params(
                    "eu-west-1",
                    "/payments/STRIPE_KEY",
                    parameter("/payments/STRIPE_KEY", WEST_PARAM),
                ),
            ),
            Status.RULED_OUT,
            Kind.SSM_PARAMETER,
            WEST_PARAM,
            "Parameter /payments/STRIPE_KEY exists in eu-west-1",
            "ssm:DescribeParameters",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-exists",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, [("DB_PASSWORD", EAST_PARAM)], _deny("ssm", "DescribeParameters")),
            Status.INCONCLUSIVE,
            Kind.SSM_PARAMETER,
            EAST_PARAM,
            "access denied for ssm:DescribeParameters",
            permission="ssm:DescribeParameters",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # A parameter shared from another account is invisible to DescribeParameters: not read.
        Row(lambda: _world(EAST, [("LICENSE", SHARED_PARAM)]), None),
        id="not-applicable-other-account",
    ),
    pytest.param(
        Row(lambda: _world(WEST, [("STRIPE", WEST_SECRET)]), None),
        id="not-applicable-secrets-manager-only",
    ),
]


@pytest.mark.parametrize("row", PARAMETER_ROWS)
def test_parameter_not_found(row: Row) -> None:
    verify(parameter_not_found, row)


# -- secrets manager ----------------------------------------------------------------------------
SECRET_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST, [("DB", EAST_SECRET)], _secret("us-east-1", EAST_SECRET, secret_missing())
            ),
            Status.CONFIRMED,
            Kind.SECRET,
            EAST_SECRET,
            f"reads DB from secret {EAST_SECRET}, which does not exist",
            "secretsmanager:DescribeSecret",
        ),
        id="confirmed-missing",
    ),
    pytest.param(
        Row(
            # A JSON-key reference: the secret is the ARN without the key, stage and version.
            lambda: _world(
                WEST,
                [("STRIPE_API_KEY", f"{WEST_SECRET}:api_key::")],
                _secret(
                    "eu-west-1",
                    WEST_SECRET,
                    describe_secret(
                        WEST_SECRET, "payments/stripe", DeletedDate="2025-11-20T10:00:00Z"
                    ),
                ),
            ),
            Status.CONFIRMED,
            Kind.SECRET,
            WEST_SECRET,
            "which is scheduled for deletion",
            "secretsmanager:DescribeSecret",
        ),
        id="confirmed-scheduled-for-deletion",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                [("STRIPE", WEST_SECRET)],
                _secret("eu-west-1", WEST_SECRET, describe_secret(WEST_SECRET, "payments/stripe")),
            ),
            Status.RULED_OUT,
            Kind.SECRET,
            WEST_SECRET,
            "Secret payments/stripe exists in eu-west-1",
            "secretsmanager:DescribeSecret",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-exists",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, [("DB", EAST_SECRET)], _deny("secretsmanager", "DescribeSecret")),
            Status.INCONCLUSIVE,
            Kind.SECRET,
            EAST_SECRET,
            "access denied for secretsmanager:DescribeSecret",
            permission="secretsmanager:DescribeSecret",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST, [("DB_PASSWORD", EAST_PARAM)]), None),
        id="not-applicable-ssm-only",
    ),
]


@pytest.mark.parametrize("row", SECRET_ROWS)
def test_secret_not_found(row: Row) -> None:
    verify(secret_not_found, row)


# -- kms keys -----------------------------------------------------------------------------------
def _east_secret_key(state: str) -> Built:
    return _world(
        EAST,
        [("DB", EAST_SECRET)],
        _secret("us-east-1", EAST_SECRET, describe_secret(EAST_SECRET, "prod/api/db", EAST_KEY)),
        _key("us-east-1", EAST_KEY, describe_key(EAST_KEY, state)),
    )


def _west_parameter_key(state: str, manager: str = "CUSTOMER") -> Built:
    alias = "alias/payments-secrets"
    found = parameter("/payments/STRIPE_KEY", WEST_PARAM, alias)
    return _world(
        WEST,
        [("STRIPE_KEY", WEST_PARAM)],
        _params("eu-west-1", "/payments/STRIPE_KEY", found),
        # The parameter names its key by alias; DescribeKey resolves it, then the ARN is read.
        _key("eu-west-1", alias, describe_key(WEST_KEY, state, manager)),
        _key("eu-west-1", WEST_KEY, describe_key(WEST_KEY, state, manager)),
    )


def _key_denied() -> Built:
    return _world(
        EAST,
        [("DB", EAST_SECRET)],
        _secret("us-east-1", EAST_SECRET, describe_secret(EAST_SECRET, "prod/api/db", EAST_KEY)),
        _deny("kms", "DescribeKey"),
    )


KMS_ROWS = [
    pytest.param(
        Row(
            lambda: _east_secret_key("Disabled"),
            Status.CONFIRMED,
            Kind.KMS_KEY,
            EAST_KEY,
            "KeyState is Disabled",
            "kms:DescribeKey",
        ),
        id="confirmed-disabled",
    ),
    pytest.param(
        Row(
            lambda: _west_parameter_key("PendingDeletion"),
            Status.CONFIRMED,
            Kind.KMS_KEY,
            WEST_KEY,
            "KeyState is PendingDeletion",
            "kms:DescribeKey",
        ),
        id="confirmed-pending-deletion-via-alias",
    ),
    pytest.param(
        Row(
            lambda: _east_secret_key("Enabled"),
            Status.RULED_OUT,
            Kind.KMS_KEY,
            EAST_KEY,
            f"KMS key {EAST_KEY} is enabled",
            "kms:DescribeKey",
            evidence_bug=NO_EVIDENCE,
        ),
        id="ruled-out-enabled",
    ),
    pytest.param(
        Row(
            _key_denied,
            Status.INCONCLUSIVE,
            Kind.KMS_KEY,
            EAST_KEY,
            "access denied for kms:DescribeKey",
            permission="kms:DescribeKey",
        ),
        id="inconclusive-denied",
        marks=pytest.mark.xfail(
            strict=True,
            reason="secret_keys() swallows the denied kms:DescribeKey, so the check returns []",
        ),
    ),
    pytest.param(
        # No KmsKeyId: the secret uses the AWS managed key, which needs no extra permission.
        Row(
            lambda: _world(
                WEST,
                [("STRIPE", WEST_SECRET)],
                _secret("eu-west-1", WEST_SECRET, describe_secret(WEST_SECRET, "payments/stripe")),
            ),
            None,
        ),
        id="not-applicable-aws-managed-key",
    ),
    pytest.param(
        Row(lambda: _west_parameter_key("Enabled", manager="AWS"), None),
        id="not-applicable-key-manager-aws",
    ),
]


@pytest.mark.parametrize("row", KMS_ROWS)
def test_kms_key_unusable(row: Row) -> None:
    verify(kms_key_unusable, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    parameter_not_found: PARAMETER_ROWS,
    secret_not_found: SECRET_ROWS,
    kms_key_unusable: KMS_ROWS,
}
