"""Table tests of the IAM checks: the execution and task roles, their trust and permissions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ecsdoctor.checks import REGISTRY, CheckContext
from ecsdoctor.checks.iam import (
    execution_policy_on_task_role,
    execution_role_denied_ecr,
    execution_role_denied_kms,
    execution_role_denied_logs,
    execution_role_denied_secrets,
    execution_role_not_assumable,
    scp_denied,
    task_role_not_assumable,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import (
    CREATED,
    EXECUTION_POLICY,
    EXECUTION_POLICY_DOCUMENT,
    allow,
    describe_key,
    describe_secret,
    get_role,
    json_text,
    no_such_role,
    parameter,
    policy,
    trust_policy,
)
from tests.checks.fake_reader import FakeReader
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

Plant = Callable[[FakeReader], object]
EVALUATED = "iam:GetRolePolicy/GetPolicyVersion"

EAST_EXEC = EAST.role_arn("ecsTaskExecutionRole")
EAST_APP = EAST.role_arn("api-task")
WEST_EXEC = f"arn:aws:iam::{WEST.account}:role/service/payments-exec"
WEST_APP = f"arn:aws:iam::{WEST.account}:role/service/payments-app"
MANAGED: Mapping[str, dict[str, Any]] = {EXECUTION_POLICY: EXECUTION_POLICY_DOCUMENT}

EAST_SECRET = f"arn:aws:secretsmanager:us-east-1:{EAST.account}:secret:prod/api/db-Ab12Cd"
WEST_PARAM = f"arn:aws:ssm:eu-west-1:{WEST.account}:parameter/payments/STRIPE_KEY"
EAST_KEY = f"arn:aws:kms:us-east-1:{EAST.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _world(
    where: Where,
    *plants: Plant,
    image: str | None = None,
    awslogs: bool = True,
    secrets: tuple[tuple[str, str], ...] = (),
    execution_role: str | None = None,
    task_role: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Built:
    """A task of family `api`, with the parts an IAM check looks at switched on or off."""
    container: dict[str, Any] = {
        "name": "api",
        "image": image or f"{where.registry()}/api:1.4.2",
        "essential": True,
        "secrets": [{"name": n, "valueFrom": v} for n, v in secrets],
    }
    if awslogs:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/api",
                "awslogs-region": where.region,
                "awslogs-stream-prefix": "api",
            },
        }
    td: dict[str, Any] = {}
    if execution_role:
        td["executionRoleArn"] = execution_role
    if task_role:
        td["taskRoleArn"] = task_role
    definition = task_definition(where, "api", 9, [container], **td)
    reader = task_reader(where, definition)
    for plant in plants:
        plant(reader)
    task = stopped_task(where, definition, overrides=dict(overrides or {}))
    return task_context(reader, where, task), reader


def _role(
    arn: str,
    *,
    trust: dict[str, Any] | None = None,
    attached: tuple[str, ...] = (),
    inline: Mapping[str, dict[str, Any]] | None = None,
) -> Plant:
    """Plant a role: GetRole, its attached managed policies and its inline policies."""
    name = arn.rsplit("/", 1)[-1]

    def plant(reader: FakeReader) -> None:
        reader.on("iam", "GetRole", get_role(arn, trust or trust_policy()), RoleName=name)
        reader.on(
            "iam",
            "ListAttachedRolePolicies",
            {
                "AttachedPolicies": [
                    {"PolicyName": p.rsplit("/", 1)[-1], "PolicyArn": p} for p in attached
                ],
                "IsTruncated": False,
            },
            RoleName=name,
        )
        for policy_arn in attached:
            reader.on(
                "iam",
                "GetPolicy",
                {
                    "Policy": {
                        "PolicyName": policy_arn.rsplit("/", 1)[-1],
                        "PolicyId": "ANPAJG4NMHDSEEXAMPLE",
                        "Arn": policy_arn,
                        "Path": "/service-role/",
                        "DefaultVersionId": "v1",
                        "AttachmentCount": 1,
                        "IsAttachable": True,
                        "CreateDate": CREATED,
                        "UpdateDate": CREATED,
                    }
                },
                PolicyArn=policy_arn,
            )
            reader.on(
                "iam",
                "GetPolicyVersion",
                {
                    "PolicyVersion": {
                        "Document": MANAGED[policy_arn],
                        "VersionId": "v1",
                        "IsDefaultVersion": True,
                        "CreateDate": CREATED,
                    }
                },
                PolicyArn=policy_arn,
                VersionId="v1",
            )
        reader.on(
            "iam",
            "ListRolePolicies",
            {"PolicyNames": list(inline or {}), "IsTruncated": False},
            RoleName=name,
        )
        for policy_name, document in (inline or {}).items():
            reader.on(
                "iam",
                "GetRolePolicy",
                {"RoleName": name, "PolicyName": policy_name, "PolicyDocument": document},
                RoleName=name,
                PolicyName=policy_name,
            )

    return plant


def _missing_role(arn: str) -> Plant:
    name = arn.rsplit("/", 1)[-1]
    return lambda r: r.on("iam", "GetRole", no_such_role(name), RoleName=name)


def _deny(service: str, operation: str, **params: Any) -> Plant:
    return lambda r: r.deny(service, operation, **params)


def _no_repository_policy(where: Where, name: str = "api") -> Plant:
    from ecsdoctor.errors import ApiError

    missing = ApiError(
        "ecr:GetRepositoryPolicy",
        "RepositoryPolicyNotFoundException",
        f"Repository policy does not exist for the repository with name '{name}' in the "
        f"registry with id '{where.account}'",
    )
    return lambda r: r.on(
        "ecr",
        "GetRepositoryPolicy",
        missing,
        region=where.region,
        registryId=where.account,
        repositoryName=name,
    )


# -- execution_role_not_assumable -----------------------------------------------------------------
ASSUMABLE_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST, _missing_role(EAST_EXEC), execution_role=EAST_EXEC),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "NoSuchEntity",
            "iam:GetRole",
        ),
        id="confirmed-no-such-role",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _role(WEST_EXEC, trust=trust_policy("ecs.amazonaws.com")),
                execution_role=WEST_EXEC,
            ),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            WEST_EXEC,
            "The trust policy trusts ecs.amazonaws.com, not ecs-tasks.amazonaws.com",
            "iam:GetRole",
        ),
        id="confirmed-trusts-wrong-service",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            EAST.td_arn("api", 9),
            "has no execution role, but it pulls from Amazon ECR and uses the awslogs driver",
            "ecs:DescribeTaskDefinition",
        ),
        id="confirmed-no-execution-role",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, _role(WEST_EXEC), execution_role=WEST_EXEC),
            Status.RULED_OUT,
            Kind.EXECUTION_ROLE,
            WEST_EXEC,
            "lets ecs-tasks.amazonaws.com assume the role",
            "iam:GetRole",
        ),
        id="ruled-out-trusted",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, _deny("iam", "GetRole"), execution_role=EAST_EXEC),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            EAST.task_arn(TASK_ID),
            "access denied for iam:GetRole",
            permission="iam:GetRole",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # A public image, no logs, no secrets: nothing needs an execution role.
        Row(lambda: _world(WEST, image="public.ecr.aws/nginx/nginx:1.27", awslogs=False), None),
        id="not-applicable-needs-no-role",
    ),
]


@pytest.mark.parametrize("row", ASSUMABLE_ROWS)
def test_execution_role_not_assumable(row: Row) -> None:
    verify(execution_role_not_assumable, row)


# -- task_role_not_assumable ----------------------------------------------------------------------
TASK_ROLE_ROWS = [
    pytest.param(
        Row(
            lambda: _world(WEST, _missing_role(WEST_APP), task_role=WEST_APP),
            Status.CONFIRMED,
            Kind.TASK_ROLE,
            WEST_APP,
            "NoSuchEntity",
            "iam:GetRole",
        ),
        id="confirmed-no-such-role",
    ),
    pytest.param(
        Row(
            # RunTask's override replaces the task definition's task role.
            lambda: _world(
                EAST,
                _role(EAST_APP, trust=trust_policy("ec2.amazonaws.com")),
                task_role=EAST.role_arn("unused-role"),
                overrides={"taskRoleArn": EAST_APP, "containerOverrides": []},
            ),
            Status.CONFIRMED,
            Kind.TASK_ROLE,
            EAST_APP,
            "trusts ec2.amazonaws.com, not ecs-tasks.amazonaws.com",
            "iam:GetRole",
        ),
        id="confirmed-override-trusts-ec2",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, _role(EAST_APP), task_role=EAST_APP),
            Status.RULED_OUT,
            Kind.TASK_ROLE,
            EAST_APP,
            "Trust policy statement #0 lets ecs-tasks.amazonaws.com assume the role",
            "iam:GetRole",
        ),
        id="ruled-out-trusted",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, _deny("iam", "GetRole"), task_role=WEST_APP),
            Status.INCONCLUSIVE,
            Kind.TASK_ROLE,
            WEST.task_arn(TASK_ID),
            "access denied for iam:GetRole",
            permission="iam:GetRole",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(EAST), None), id="not-applicable-no-task-role"),
]


@pytest.mark.parametrize("row", TASK_ROLE_ROWS)
def test_task_role_not_assumable(row: Row) -> None:
    verify(task_role_not_assumable, row)


# -- execution_role_denied_ecr --------------------------------------------------------------------
LOGS_ONLY = {"logs": policy(allow(["logs:CreateLogStream", "logs:PutLogEvents"]))}
ECR_FROM_ENDPOINT = {
    "pull-through-endpoint": policy(
        {
            **allow(["ecr:*"]),
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
        }
    )
}

ECR_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _no_repository_policy(EAST),
                _role(EAST_EXEC, inline=LOGS_ONLY),
                execution_role=EAST_EXEC,
            ),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "4 of 4 required calls are denied",
            EVALUATED,
        ),
        id="confirmed-no-ecr-statement",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _no_repository_policy(WEST),
                _role(WEST_EXEC, attached=(EXECUTION_POLICY,)),
                execution_role=WEST_EXEC,
            ),
            Status.RULED_OUT,
            Kind.EXECUTION_ROLE,
            WEST_EXEC,
            "Policy AmazonECSTaskExecutionRolePolicy statement #0 allows ecr:GetAuthorizationToken",
            EVALUATED,
        ),
        id="ruled-out-managed-policy",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _no_repository_policy(EAST),
                _role(EAST_EXEC, inline=ECR_FROM_ENDPOINT),
                execution_role=EAST_EXEC,
            ),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "aws:SourceVpce",
            EVALUATED,
        ),
        id="inconclusive-condition",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _no_repository_policy(WEST),
                _role(WEST_EXEC),
                _deny("iam", "ListAttachedRolePolicies"),
                execution_role=WEST_EXEC,
            ),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            WEST.task_arn(TASK_ID),
            "access denied for iam:ListAttachedRolePolicies",
            permission="iam:ListAttachedRolePolicies",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, image="docker.io/library/nginx:1.27", execution_role=EAST_EXEC),
            None,
        ),
        id="not-applicable-no-ecr-image",
    ),
    pytest.param(
        # The role does not exist: execution_role_not_assumable reports it.
        Row(
            lambda: _world(
                EAST,
                _no_repository_policy(EAST),
                _missing_role(EAST_EXEC),
                execution_role=EAST_EXEC,
            ),
            None,
        ),
        id="not-applicable-role-missing",
    ),
]


@pytest.mark.parametrize("row", ECR_ROWS)
def test_execution_role_denied_ecr(row: Row) -> None:
    verify(execution_role_denied_ecr, row)


# -- execution_role_denied_logs -------------------------------------------------------------------
ECR_ONLY = {
    "pull": policy(
        allow(
            [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
            ]
        )
    )
}
DENY_PUT = {
    "no-logs": policy(
        {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*", "Sid": "NoLogShipping"}
    )
}

LOGS_ROWS = [
    pytest.param(
        Row(
            lambda: _world(WEST, _role(WEST_EXEC, inline=ECR_ONLY), execution_role=WEST_EXEC),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            WEST_EXEC,
            "is not allowed to write its CloudWatch log streams: 2 of 2 required calls are denied",
            EVALUATED,
        ),
        id="confirmed-no-logs-statement",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _role(EAST_EXEC, attached=(EXECUTION_POLICY,), inline=DENY_PUT),
                execution_role=EAST_EXEC,
            ),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "Inline policy ecsTaskExecutionRole/no-logs statement NoLogShipping denies logs:PutLogEvents",
            EVALUATED,
        ),
        id="confirmed-explicit-deny",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST, _role(EAST_EXEC, attached=(EXECUTION_POLICY,)), execution_role=EAST_EXEC
            ),
            Status.RULED_OUT,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "allows logs:CreateLogStream",
            EVALUATED,
        ),
        id="ruled-out-managed-policy",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _role(WEST_EXEC, attached=(EXECUTION_POLICY,)),
                _deny("iam", "GetPolicyVersion"),
                execution_role=WEST_EXEC,
            ),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            WEST.task_arn(TASK_ID),
            "access denied for iam:GetPolicyVersion",
            permission="iam:GetPolicyVersion",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST, awslogs=False, execution_role=EAST_EXEC), None),
        id="not-applicable-no-awslogs",
    ),
]


@pytest.mark.parametrize("row", LOGS_ROWS)
def test_execution_role_denied_logs(row: Row) -> None:
    verify(execution_role_denied_logs, row)


# -- execution_role_denied_secrets ----------------------------------------------------------------
def _no_secret_policy(where: Where, arn: str) -> Plant:
    name = arn.split(":")[6].rsplit("-", 1)[0]
    return lambda r: r.on(
        "secretsmanager",
        "GetResourcePolicy",
        {"ARN": arn, "Name": name},
        region=where.region,
        SecretId=arn,
    )


SECRETS_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                _role(WEST_EXEC, attached=(EXECUTION_POLICY,)),
                secrets=(("STRIPE_KEY", WEST_PARAM),),
                execution_role=WEST_EXEC,
            ),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            WEST_EXEC,
            f"allows ssm:GetParameters on {WEST_PARAM}",
            EVALUATED,
        ),
        id="confirmed-no-ssm-statement",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _no_secret_policy(EAST, EAST_SECRET),
                _role(
                    EAST_EXEC,
                    attached=(EXECUTION_POLICY,),
                    inline={
                        "secrets": policy(
                            allow(
                                "secretsmanager:GetSecretValue",
                                "arn:aws:secretsmanager:*:*:secret:prod/api/*",
                            )
                        )
                    },
                ),
                secrets=(("DB", EAST_SECRET),),
                execution_role=EAST_EXEC,
            ),
            Status.RULED_OUT,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "Inline policy ecsTaskExecutionRole/secrets statement #0 allows secretsmanager:GetSecretValue",
            EVALUATED,
        ),
        id="ruled-out-inline-policy",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _deny("secretsmanager", "GetResourcePolicy"),
                _role(EAST_EXEC, attached=(EXECUTION_POLICY,)),
                secrets=(("DB", EAST_SECRET),),
                execution_role=EAST_EXEC,
            ),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            EAST.task_arn(TASK_ID),
            "access denied for secretsmanager:GetResourcePolicy",
            permission="secretsmanager:GetResourcePolicy",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST, execution_role=WEST_EXEC), None),
        id="not-applicable-no-secrets",
    ),
]


@pytest.mark.parametrize("row", SECRETS_ROWS)
def test_execution_role_denied_secrets(row: Row) -> None:
    verify(execution_role_denied_secrets, row)


def test_denied_secret_is_explained_by_a_missing_secret_first() -> None:
    """A denial on a secret points at secret_not_found for it: a missing secret explains both."""
    ctx, _ = _world(
        EAST,
        _no_secret_policy(EAST, EAST_SECRET),
        _role(EAST_EXEC, attached=(EXECUTION_POLICY,)),
        secrets=(("DB", EAST_SECRET),),
        execution_role=EAST_EXEC,
    )
    assert isinstance(ctx, CheckContext)
    [verdict] = execution_role_denied_secrets(ctx)
    assert verdict.status is Status.CONFIRMED
    assert f"secrets.secret_not_found:{EAST_SECRET}" in {d.key for d in verdict.depends_on}


# -- execution_role_denied_kms --------------------------------------------------------------------
def _key_policy(where: Where, key: str, document: dict[str, Any] | None) -> Plant:
    answer: Any = (
        {"Policy": json_text(document), "PolicyName": "default"}
        if document is not None
        else {"PolicyName": "default"}
    )
    return lambda r: r.on(
        "kms", "GetKeyPolicy", answer, region=where.region, KeyId=key, PolicyName="default"
    )


def _default_key_policy(account: str) -> dict[str, Any]:
    """The default key policy: it delegates to the account's IAM policies."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def _kms(*plants: Plant, inline: Mapping[str, dict[str, Any]] | None = None) -> Built:
    secret = describe_secret(EAST_SECRET, "prod/api/db", EAST_KEY)
    return _world(
        EAST,
        lambda r: r.on(
            "secretsmanager", "DescribeSecret", secret, region="us-east-1", SecretId=EAST_SECRET
        ),
        lambda r: r.on(
            "kms",
            "DescribeKey",
            describe_key(EAST_KEY, "Enabled"),
            region="us-east-1",
            KeyId=EAST_KEY,
        ),
        _role(EAST_EXEC, attached=(EXECUTION_POLICY,), inline=inline),
        *plants,
        secrets=(("DB", EAST_SECRET),),
        execution_role=EAST_EXEC,
    )


KMS_ROWS = [
    pytest.param(
        Row(
            lambda: _kms(_key_policy(EAST, EAST_KEY, _default_key_policy(EAST.account))),
            Status.CONFIRMED,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            f"allows kms:Decrypt on {EAST_KEY}",
            EVALUATED,
        ),
        id="confirmed-no-decrypt-statement",
    ),
    pytest.param(
        Row(
            lambda: _kms(
                _key_policy(EAST, EAST_KEY, _default_key_policy(EAST.account)),
                inline={"decrypt": policy(allow("kms:Decrypt", EAST_KEY))},
            ),
            Status.RULED_OUT,
            Kind.EXECUTION_ROLE,
            EAST_EXEC,
            "Inline policy ecsTaskExecutionRole/decrypt statement #0 allows kms:Decrypt",
            EVALUATED,
        ),
        id="ruled-out-decrypt-allowed",
    ),
    pytest.param(
        Row(
            lambda: _kms(_deny("kms", "GetKeyPolicy")),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            EAST.task_arn(TASK_ID),
            "access denied for kms:GetKeyPolicy",
            permission="kms:GetKeyPolicy",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        # An SSM parameter under the AWS managed key: ECS needs no kms:Decrypt grant for it.
        Row(
            lambda: _world(
                WEST,
                lambda r: r.on(
                    "ssm",
                    "DescribeParameters",
                    {"Parameters": [parameter("/payments/STRIPE_KEY", WEST_PARAM)]},
                    region="eu-west-1",
                ),
                secrets=(("STRIPE_KEY", WEST_PARAM),),
                execution_role=WEST_EXEC,
            ),
            None,
        ),
        id="not-applicable-aws-managed-key",
    ),
]


@pytest.mark.parametrize("row", KMS_ROWS)
def test_execution_role_denied_kms(row: Row) -> None:
    verify(execution_role_denied_kms, row)


# -- execution_policy_on_task_role ----------------------------------------------------------------
MISPLACED_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _role(EAST_APP, attached=(EXECUTION_POLICY,)),
                _role(EAST_EXEC),
                execution_role=EAST_EXEC,
                task_role=EAST_APP,
            ),
            Status.CONFIRMED,
            Kind.TASK_ROLE,
            EAST_APP,
            f"{EXECUTION_POLICY} is attached.",
            "iam:ListAttachedRolePolicies",
        ),
        id="confirmed-on-task-role-only",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, _role(WEST_APP, attached=(EXECUTION_POLICY,)), task_role=WEST_APP),
            Status.CONFIRMED,
            Kind.TASK_ROLE,
            WEST_APP,
            "the task has no execution role at all",
            "iam:ListAttachedRolePolicies",
        ),
        id="confirmed-no-execution-role",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, _role(WEST_APP), task_role=WEST_APP),
            Status.RULED_OUT,
            Kind.TASK_ROLE,
            WEST_APP,
            "does not carry AmazonECSTaskExecutionRolePolicy",
            "iam:ListAttachedRolePolicies",
        ),
        id="ruled-out-not-attached",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                _role(EAST_APP, attached=(EXECUTION_POLICY,)),
                _role(EAST_EXEC, attached=(EXECUTION_POLICY,)),
                execution_role=EAST_EXEC,
                task_role=EAST_APP,
            ),
            Status.RULED_OUT,
            Kind.TASK_ROLE,
            EAST_APP,
            f"but execution role {EAST_EXEC} has it too",
            "iam:ListAttachedRolePolicies",
        ),
        id="ruled-out-on-both",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, _deny("iam", "ListAttachedRolePolicies"), task_role=WEST_APP),
            Status.INCONCLUSIVE,
            Kind.TASK_ROLE,
            WEST.task_arn(TASK_ID),
            "access denied for iam:ListAttachedRolePolicies",
            permission="iam:ListAttachedRolePolicies",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(
            # Denied on the execution role only (a resource-scoped deny).
            lambda: _world(
                EAST,
                _role(EAST_APP, attached=(EXECUTION_POLICY,)),
                _deny("iam", "ListAttachedRolePolicies", RoleName="ecsTaskExecutionRole"),
                execution_role=EAST_EXEC,
                task_role=EAST_APP,
            ),
            Status.INCONCLUSIVE,
            Kind.TASK_ROLE,
            EAST_APP,
            "access denied for iam:ListAttachedRolePolicies",
            permission="iam:ListAttachedRolePolicies",
        ),
        id="inconclusive-denied-on-execution-role",
    ),
    pytest.param(Row(lambda: _world(EAST), None), id="not-applicable-no-task-role"),
]


@pytest.mark.parametrize("row", MISPLACED_ROWS)
def test_execution_policy_on_task_role(row: Row) -> None:
    verify(execution_policy_on_task_role, row)


# -- service control policies -----------------------------------------------------------------
def _registry_auth_denied(where: Where, role: str, policy_type: str) -> str:
    """knowledge/resource_init/registry_auth_denied.toml (first example's shape) with AWS's
    documented explicit-deny wording:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"""
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 "
        "time(s): operation error ECR: GetAuthorizationToken, https response error StatusCode: "
        f"400, api error AccessDeniedException: User: arn:aws:sts::{where.account}:assumed-role/"
        f"{role}/abc is not authorized to perform: ecr:GetAuthorizationToken on resource: * with "
        f"an explicit deny in {policy_type}"
    )


def _stopped_by(where: Where, reason: str, *, in_container: bool = False) -> Built:
    """A task that stopped with `reason` (ECS's stoppedReason, or its container's reason)."""
    container = {"name": "api", "image": f"{where.registry()}/api:1.4.2", "essential": True}
    definition = task_definition(
        where, "api", 9, [container], executionRoleArn=where.role_arn("ecsTaskExecutionRole")
    )
    reader = task_reader(where, definition)
    extra: dict[str, Any] = (
        {"containers": [{"name": "api", "lastStatus": "STOPPED", "reason": reason}]}
        if in_container
        else {"stoppedReason": reason}
    )
    return task_context(reader, where, stopped_task(where, definition, **extra)), reader


ORGANIZATIONS = "organizations:ListPoliciesForTarget (management account)"

SCP_ROWS = [
    pytest.param(
        Row(
            lambda: _stopped_by(
                EAST,
                _registry_auth_denied(EAST, "ecsTaskExecutionRole", "a service control policy"),
            ),
            Status.INCONCLUSIVE,
            Kind.IAM_POLICY,
            EAST.account,
            "An AWS Organizations service control policy denies the call, not the task's roles",
            "stoppedReason",
            permission=ORGANIZATIONS,
        ),
        id="inconclusive-scp-in-stopped-reason",
    ),
    pytest.param(
        Row(
            lambda: _stopped_by(
                WEST,
                _registry_auth_denied(WEST, "payments-exec", "a service control policy"),
                in_container=True,
            ),
            Status.INCONCLUSIVE,
            Kind.IAM_POLICY,
            WEST.account,
            # The evidence keeps the message's first 300 characters, which end before the
            # "explicit deny in a service control policy" of a message this long: cite the detail.
            "the message says an explicit deny in a service control policy blocked the call",
            "stoppedReason",
            permission=ORGANIZATIONS,
        ),
        id="inconclusive-scp-in-container-reason",
    ),
    pytest.param(
        # An identity-based deny is the role's own policy: the execution-role checks judge it.
        Row(
            lambda: _stopped_by(
                EAST,
                _registry_auth_denied(EAST, "ecsTaskExecutionRole", "an identity-based policy"),
            ),
            None,
        ),
        id="not-applicable-identity-based-deny",
    ),
    pytest.param(
        Row(
            lambda: _stopped_by(WEST, "Essential container in task exited", in_container=False),
            None,
        ),
        id="not-applicable-no-denial",
    ),
]


@pytest.mark.parametrize("row", SCP_ROWS)
def test_scp_denied(row: Row) -> None:
    """Like `verify`, but the gap names a permission no read was denied: the management
    account's, which no member-account caller can be granted."""
    if row.status is None:
        verify(scp_denied, row)
        return
    ctx, reader = row.build()
    results = REGISTRY["iam.scp_denied"].run(ctx)  # type: ignore[arg-type]
    assert reader.calls == [], "an SCP finding reads nothing: the message is the evidence"
    (verdict,) = results
    assert (verdict.status, verdict.kind, verdict.resource) == (row.status, row.kind, row.resource)
    assert any(row.cites in t for t in (verdict.detail, *(e.detail for e in verdict.evidence)))
    assert [e.source for e in verdict.evidence] == [row.source]
    assert verdict.gap is not None and verdict.gap.permission == row.permission
    assert "management account" in verdict.gap.reason
    assert "access denied for" not in verdict.detail  # no read of ours was denied


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    execution_role_not_assumable: ASSUMABLE_ROWS,
    task_role_not_assumable: TASK_ROLE_ROWS,
    execution_role_denied_ecr: ECR_ROWS,
    execution_role_denied_logs: LOGS_ROWS,
    execution_role_denied_secrets: SECRETS_ROWS,
    execution_role_denied_kms: KMS_ROWS,
    execution_policy_on_task_role: MISPLACED_ROWS,
    scp_denied: SCP_ROWS,
}
