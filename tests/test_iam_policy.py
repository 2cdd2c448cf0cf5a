"""The local IAM evaluator: AWS's evaluation rules, table by table, plus properties of the logic."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsdoctor.iam_policy import Decision, PolicyDoc, evaluate, parse_document, trust_allows

A, D, N, C = (
    Decision.ALLOWED,
    Decision.EXPLICIT_DENY,
    Decision.IMPLICIT_DENY,
    Decision.CONDITIONAL,
)
ACCT, OTHER = "111122223333", "444455556666"
ROLE = f"arn:aws:iam::{ACCT}:role/ecsTaskExecutionRole"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/ecsTaskExecutionRole/0123abcd"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:db-AbCdEf"
REPO = f"arn:aws:ecr:us-east-1:{ACCT}:repository/app"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd"

ECS_EXEC_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_EXEC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
}


def stmt(effect: str = "Allow", **parts: Any) -> dict[str, Any]:
    """One statement; Action and Resource default to a secret read on every resource."""
    out: dict[str, Any] = {"Effect": effect}
    if "NotAction" not in parts:
        out["Action"] = "secretsmanager:GetSecretValue"
    if "NotResource" not in parts:
        out["Resource"] = "*"
    out.update(parts)
    return out


def doc(*statements: dict[str, Any], name: str = "inline:exec/p") -> PolicyDoc:
    return PolicyDoc(name, {"Version": "2012-10-17", "Statement": list(statements)})


def decide(
    *statements: dict[str, Any],
    action: str = "secretsmanager:GetSecretValue",
    resource: str = SECRET,
    **kw: Any,
) -> Decision:
    return evaluate([doc(*statements)], action, resource, **kw).decision


# --- statements: actions, resources, effects ------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "action", "resource", "expected"),
    [
        (stmt(Action="ecr:*"), "ecr:BatchGetImage", REPO, A),
        (stmt(Action="ecr:Get*"), "ecr:GetDownloadUrlForLayer", REPO, A),
        (stmt(Action="ecr:Get*"), "ecr:BatchGetImage", REPO, N),
        (stmt(Action="*"), "kms:Decrypt", KEY, A),
        (stmt(Action="ECR:batchgetimage"), "ecr:BatchGetImage", REPO, A),  # actions ignore case
        (stmt(Action="ecr:BatchGet?mage"), "ecr:BatchGetImage", REPO, A),
        (stmt(Action="ecr:BatchGet?"), "ecr:BatchGetImage", REPO, N),
        (stmt(Action=["logs:PutLogEvents", "ecr:BatchGetImage"]), "ecr:BatchGetImage", REPO, A),
        (stmt(Action=[]), "ecr:BatchGetImage", REPO, N),
        (stmt(Resource=SECRET), "secretsmanager:GetSecretValue", SECRET, A),
        (stmt(Resource=SECRET.upper()), "secretsmanager:GetSecretValue", SECRET, N),  # case
        (
            stmt(Resource=f"arn:aws:secretsmanager:*:{ACCT}:secret:db-*"),
            "secretsmanager:GetSecretValue",
            SECRET,
            A,
        ),
        (
            stmt(Resource=f"arn:aws:secretsmanager:*:{ACCT}:secret:db-??????"),
            "secretsmanager:GetSecretValue",
            SECRET,
            A,
        ),
        (
            stmt(Resource=f"arn:aws:secretsmanager:*:{ACCT}:secret:other-*"),
            "secretsmanager:GetSecretValue",
            SECRET,
            N,
        ),
        (stmt(Resource=["arn:aws:s3:::b", SECRET]), "secretsmanager:GetSecretValue", SECRET, A),
        (stmt(NotAction="iam:*"), "secretsmanager:GetSecretValue", SECRET, A),
        (stmt(NotAction=["iam:*", "secretsmanager:*"]), "secretsmanager:GetSecretValue", SECRET, N),
        (stmt(NotResource="arn:aws:s3:::*"), "secretsmanager:GetSecretValue", SECRET, A),
        (stmt(NotResource=[SECRET]), "secretsmanager:GetSecretValue", SECRET, N),
        (stmt("Deny"), "secretsmanager:GetSecretValue", SECRET, D),
        (stmt(Effect="allow"), "secretsmanager:GetSecretValue", SECRET, N),  # invalid effect
        (stmt(Action="ecr:*", NotAction="x:*"), "ecr:BatchGetImage", REPO, N),  # malformed
    ],
)
def test_statement_matching(
    statement: dict[str, Any], action: str, resource: str, expected: Decision
) -> None:
    assert decide(statement, action=action, resource=resource) == expected


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([stmt(), stmt("Deny")], D),
        ([stmt("Deny"), stmt()], D),
        ([stmt(), stmt("Deny", Action="secretsmanager:*")], D),
        ([stmt(), stmt("Deny", Resource="arn:aws:secretsmanager:*:*:secret:other-*")], A),
        ([stmt(), stmt("Deny", NotResource=SECRET)], A),
        ([stmt(), stmt("Deny", NotAction="secretsmanager:GetSecretValue")], A),
        ([stmt(), stmt("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})], C),
        ([stmt("Deny", Condition={"Bool": {"aws:SecureTransport": "false"}})], N),
        ([stmt(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})], C),
        ([stmt(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}), stmt()], A),
        ([stmt(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})], C),
        ([stmt(Condition="garbage")], C),
    ],
)
def test_deny_wins_and_conditions_are_never_a_false_deny(
    statements: list[dict[str, Any]], expected: Decision
) -> None:
    assert decide(*statements) == expected


def test_explicit_deny_names_the_statement() -> None:
    ev = evaluate(
        [doc(stmt(), name=ECS_EXEC_ARN), doc(stmt("Deny", Sid="NoSecrets"), name="inline:r/deny")],
        "secretsmanager:GetSecretValue",
        SECRET,
    )
    assert ev.decision == D
    assert ev.deciding == ("inline:r/deny#NoSecrets",)
    assert ev.detail == (
        "Inline policy r/deny statement NoSecrets denies secretsmanager:GetSecretValue on *."
    )


# --- conditions with context ---------------------------------------------------------------------

VPC = {"aws:SourceVpc": "vpc-1"}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, VPC, A),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {"AWS:SOURCEVPC": "vpc-1"}, A),  # key case
        ({"StringEquals": {"aws:SourceVpc": ["vpc-2", "vpc-1"]}}, VPC, A),
        ({"StringEquals": {"aws:SourceVpc": "VPC-1"}}, VPC, N),
        ({"StringEqualsIgnoreCase": {"aws:SourceVpc": "VPC-1"}}, VPC, A),
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, VPC, N),
        ({"StringNotEquals": {"aws:SourceVpc": ["vpc-2", "vpc-3"]}}, VPC, A),
        ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, VPC, A),
        ({"StringNotLike": {"aws:SourceVpc": "vpc-*"}}, VPC, N),
        ({"StringEquals": {"aws:SourceVpc": "vpc-*"}}, VPC, N),  # no wildcards in Equals
        ({"StringEquals": {"aws:SourceVpc": "vpc-1", "aws:SourceAccount": ACCT}}, VPC, C),
        ({"StringEquals": {"aws:SourceVpc": "vpc-9", "aws:SourceAccount": ACCT}}, VPC, N),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}, "DateLessThan": {"aws:x": "1"}}, VPC, C),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {}, C),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": []}, N),  # absent
        ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": []}, A),
        ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": []}, A),
        ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-2"}, N),
        ({"Null": {"aws:SourceVpc": "true"}}, {"aws:SourceVpc": []}, A),
        ({"Null": {"aws:SourceVpc": "false"}}, VPC, A),
        ({"Null": {"aws:SourceVpc": "true"}}, VPC, N),
        ({"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": "true"}, A),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, N),
        (
            {"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:*:{ACCT}:*"}},
            {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCT}:task/c/1"},
            A,
        ),
        (
            {"ArnEquals": {"aws:SourceArn": f"arn:aws:ecs:*:{OTHER}:*"}},
            {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCT}:task/c/1"},
            N,
        ),
        (
            {"ArnNotLike": {"aws:SourceArn": "arn:aws:ecs:*:*:*"}},
            {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCT}:task/c/1"},
            N,
        ),
        (
            {"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::*"}},
            {"aws:SourceArn": f"arn:aws:ecs:us-east-1:{ACCT}:task/c/1"},
            A,
        ),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["c", "b"]}, A),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["c", "b"]}, N),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": []}, N),
        (
            {"ForAllValues:StringLike": {"aws:TagKeys": ["team-*"]}},
            {"aws:TagKeys": ["team-a", "team-b"]},
            A,
        ),
        (
            {"ForAllValues:StringLike": {"aws:TagKeys": ["team-*"]}},
            {"aws:TagKeys": ["team-a", "cost"]},
            N,
        ),
        ({"ForAllValues:StringLike": {"aws:TagKeys": ["team-*"]}}, {"aws:TagKeys": []}, A),
        ({"StringEquals": {"aws:PrincipalAccount": ACCT}}, {}, C),  # no principal_arn given
    ],
)
def test_conditions_decided_by_context(
    condition: dict[str, Any], context: dict[str, Any], expected: Decision
) -> None:
    assert decide(stmt(Condition=condition), context=context) == expected


def test_principal_account_comes_from_principal_arn() -> None:
    cond = {"StringEquals": {"aws:PrincipalAccount": ACCT}}
    assert decide(stmt(Condition=cond), principal_arn=ROLE) == A
    assert decide(stmt(Condition=cond), principal_arn=f"arn:aws:iam::{OTHER}:role/r") == N


def test_a_decided_deny_condition_is_an_explicit_deny() -> None:
    deny = stmt("Deny", Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}})
    assert decide(stmt(), deny, context={"aws:SourceVpc": "vpc-2"}) == D
    assert decide(stmt(), deny, context=VPC) == A
    assert decide(stmt(), deny) == C


@pytest.mark.parametrize(
    ("resource_pattern", "context", "expected"),
    [
        ("arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*", {}, C),
        (
            "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*",
            {"aws:PrincipalTag/team": "db"},
            A,
        ),
        (
            "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*",
            {"aws:PrincipalTag/team": "web"},
            N,
        ),
        ("arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team, 'db'}-*", {}, A),
        ("arn:aws:secretsmanager:*:*:secret:db-${*}", {}, N),  # ${*} is a literal star
    ],
)
def test_policy_variables(
    resource_pattern: str, context: dict[str, str], expected: Decision
) -> None:
    assert decide(stmt(Resource=resource_pattern), context=context) == expected


# --- documents ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        ECS_EXEC,
        json.dumps(ECS_EXEC),
        urllib.parse.quote(json.dumps(ECS_EXEC)),
        urllib.parse.quote_plus(json.dumps(ECS_EXEC)),
        json.dumps({"Statement": ECS_EXEC["Statement"][0]}),  # a single statement, not a list
    ],
)
def test_document_forms(form: dict[str, Any] | str) -> None:
    assert parse_document(form)["Statement"]
    ev = evaluate([PolicyDoc(ECS_EXEC_ARN, form)], "ecr:BatchGetImage", REPO)
    assert ev.decision == A


@pytest.mark.parametrize(
    "garbage", ["", "not json", "[1, 2]", "%5B%5D", '{"Version": "2012-10-17"}', '{"Statement": 3}']
)
def test_garbage_documents_raise_value_error(garbage: str) -> None:
    with pytest.raises(ValueError):
        parse_document(garbage)
    with pytest.raises(ValueError):
        evaluate([PolicyDoc("inline:r/p", garbage)], "ecr:BatchGetImage", REPO)


def test_the_managed_execution_policy() -> None:
    policies = [PolicyDoc(ECS_EXEC_ARN, ECS_EXEC)]
    ok = evaluate(policies, "ecr:BatchGetImage", REPO)
    assert (ok.decision, ok.deciding) == (A, (f"{ECS_EXEC_ARN}#0",))
    assert ok.detail == (
        "Policy AmazonECSTaskExecutionRolePolicy statement #0 allows ecr:BatchGetImage on *."
    )
    for action in ("ecr:GetAuthorizationToken", "logs:CreateLogStream", "logs:PutLogEvents"):
        assert evaluate(policies, action, "*").decision == A
    no = evaluate(
        [*policies, doc(stmt(Action="ssm:GetParameters"))], "secretsmanager:GetSecretValue", SECRET
    )
    assert (no.decision, no.deciding) == (N, ())
    assert no.detail == (
        "No statement of the 2 identity policies (AmazonECSTaskExecutionRolePolicy, exec/p) "
        f"allows secretsmanager:GetSecretValue on {SECRET}."
    )


def test_no_policies_at_all() -> None:
    ev = evaluate([], "ecr:BatchGetImage", REPO)
    assert ev.decision == N
    assert "0 identity policies" in ev.detail


def test_conditional_detail_names_the_keys() -> None:
    ev = evaluate(
        [
            doc(
                stmt(
                    Sid="ViaSM",
                    Action="kms:Decrypt",
                    Condition={
                        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
                    },
                )
            )
        ],
        "kms:Decrypt",
        KEY,
    )
    assert (ev.decision, ev.deciding) == (C, ("inline:exec/p#ViaSM",))
    assert ev.detail == (
        "Inline policy exec/p statement ViaSM allows kms:Decrypt on * "
        "only when its condition on kms:ViaService holds."
    )


# --- permissions boundary -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "boundary", "expected"),
    [
        ([stmt()], [stmt(Action="secretsmanager:*")], A),
        ([stmt()], [stmt(Action="ecr:*")], N),
        ([stmt(Action="ecr:*")], [stmt()], N),
        ([stmt()], [stmt(Action="*"), stmt("Deny")], D),
        ([stmt()], [stmt(Condition={"Bool": {"aws:ViaAWSService": "true"}})], C),
    ],
)
def test_permissions_boundary(
    identity: list[dict[str, Any]], boundary: list[dict[str, Any]], expected: Decision
) -> None:
    bound = doc(*boundary, name=f"arn:aws:iam::{ACCT}:policy/Boundary")
    ev = evaluate([doc(*identity)], "secretsmanager:GetSecretValue", SECRET, boundary=bound)
    assert ev.decision == expected
    if expected == N and identity[0]["Action"] != "ecr:*":
        assert "Permissions boundary Boundary does not" in ev.detail


# --- resource policies ----------------------------------------------------------------------------


def rstmt(principal: Any, effect: str = "Allow", **parts: Any) -> dict[str, Any]:
    """A resource-policy statement (no Resource element, as in ECR repository policies)."""
    out = {"Effect": effect, "Principal": principal, "Action": "secretsmanager:GetSecretValue"}
    out.update(parts)
    return out


ROOT = f"arn:aws:iam::{ACCT}:root"
EMPTY: list[dict[str, Any]] = []


@pytest.mark.parametrize(
    ("identity", "resource_stmts", "principal", "same", "expected"),
    [
        # same account: either grants, a deny in either wins
        (EMPTY, [rstmt("*")], ROLE, True, A),
        (EMPTY, [rstmt({"AWS": "*"})], ROLE, True, A),
        (EMPTY, [rstmt({"AWS": ROLE})], ROLE, True, A),
        (EMPTY, [rstmt({"AWS": [f"arn:aws:iam::{ACCT}:role/other", ROLE]})], ROLE, True, A),
        (EMPTY, [rstmt({"AWS": ROLE})], SESSION, True, A),  # a role ARN names its sessions
        (EMPTY, [rstmt({"AWS": SESSION})], SESSION, True, A),
        (EMPTY, [rstmt({"AWS": SESSION})], ROLE, True, C),  # depends on the session name
        (EMPTY, [rstmt({"AWS": f"arn:aws:iam::{ACCT}:role/other"})], ROLE, True, N),
        (EMPTY, [rstmt({"Service": "ecs-tasks.amazonaws.com"})], ROLE, True, N),
        (EMPTY, [rstmt({"AWS": ROOT})], ROLE, True, N),  # the account root only delegates
        ([stmt()], [rstmt({"AWS": ROOT})], ROLE, True, A),
        ([stmt()], EMPTY, ROLE, True, A),
        ([stmt()], [rstmt({"AWS": "*"}, "Deny")], ROLE, True, D),
        ([stmt()], [rstmt({"AWS": ACCT}, "Deny")], ROLE, True, D),  # deny to the account
        ([stmt()], [rstmt({"AWS": OTHER}, "Deny")], ROLE, True, A),
        (
            [stmt()],
            [rstmt({"AWS": ROLE}, "Deny", Condition={"Bool": {"a:b": "true"}})],
            ROLE,
            True,
            C,
        ),
        ([stmt()], [rstmt({"AWS": ROLE}, "Deny", Resource="arn:aws:s3:::x")], ROLE, True, A),
        (
            [stmt()],
            [{"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "secretsmanager:*"}],
            ROLE,
            True,
            A,
        ),
        (
            [stmt()],
            [
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCT}:role/x"},
                    "Action": "secretsmanager:*",
                }
            ],
            ROLE,
            True,
            D,
        ),
        (EMPTY, [rstmt({"AWS": ROLE})], None, True, C),  # who is calling is unknown
        (EMPTY, [rstmt("*")], None, True, A),
        # cross account: both must allow
        (
            EMPTY,
            [rstmt({"AWS": f"arn:aws:iam::{OTHER}:role/r"})],
            f"arn:aws:iam::{OTHER}:role/r",
            False,
            N,
        ),
        ([stmt()], EMPTY, f"arn:aws:iam::{OTHER}:role/r", False, N),
        ([stmt()], [rstmt({"AWS": OTHER})], f"arn:aws:iam::{OTHER}:role/r", False, A),
        (
            [stmt()],
            [rstmt({"AWS": f"arn:aws:iam::{OTHER}:root"})],
            f"arn:aws:iam::{OTHER}:role/r",
            False,
            A,
        ),
        ([stmt()], [rstmt({"AWS": ROOT})], f"arn:aws:iam::{OTHER}:role/r", False, N),
        (
            [stmt(Condition={"Bool": {"a:b": "true"}})],
            [rstmt({"AWS": OTHER})],
            f"arn:aws:iam::{OTHER}:role/r",
            False,
            C,
        ),
    ],
)
def test_resource_policy(
    identity: list[dict[str, Any]],
    resource_stmts: list[dict[str, Any]],
    principal: str | None,
    same: bool,
    expected: Decision,
) -> None:
    rp = doc(*resource_stmts, name=f"resource:{SECRET}") if resource_stmts else None
    ev = evaluate(
        [doc(*identity)] if identity else [],
        "secretsmanager:GetSecretValue",
        SECRET,
        principal_arn=principal,
        resource_policy=rp,
        same_account=same,
    )
    assert ev.decision == expected


def test_cross_account_detail_says_both_are_needed() -> None:
    ev = evaluate(
        [doc(stmt())],
        "secretsmanager:GetSecretValue",
        SECRET,
        principal_arn=f"arn:aws:iam::{OTHER}:role/r",
        same_account=False,
        resource_policy=doc(rstmt({"AWS": ROOT}), name=f"resource:{SECRET}"),
    )
    assert ev.decision == N
    assert "cross-account access needs both" in ev.detail


def test_boundary_limits_a_resource_policy_grant_to_the_role() -> None:
    rp = doc(rstmt({"AWS": ROLE}), name=f"resource:{SECRET}")
    bound = doc(stmt(Action="ecr:*"), name="arn:aws:iam::1:policy/B")
    ev = evaluate(
        [],
        "secretsmanager:GetSecretValue",
        SECRET,
        principal_arn=ROLE,
        resource_policy=rp,
        boundary=bound,
    )
    assert ev.decision == N


# --- KMS: the key policy must allow, or delegate to the account -----------------------------------


def kstmt(principal: Any, **parts: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*", **parts}


@pytest.mark.parametrize(
    ("identity", "key_stmts", "expected"),
    [
        (
            [stmt(Action="kms:Decrypt")],
            [kstmt({"AWS": ROOT}, Sid="Enable IAM User Permissions")],
            A,
        ),
        ([stmt(Action="kms:Decrypt")], [kstmt({"AWS": f"arn:aws:iam::{ACCT}:role/admin"})], N),
        (EMPTY, [kstmt({"AWS": ROLE})], A),
        (EMPTY, [kstmt({"AWS": ROOT})], N),
        (
            [stmt(Action="kms:Decrypt")],
            [
                kstmt({"AWS": ROOT}),
                {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
            ],
            D,
        ),
        (
            [stmt(Action="kms:Decrypt")],
            [kstmt({"AWS": ROOT}, Condition={"StringEquals": {"kms:CallerAccount": ACCT}})],
            C,
        ),
    ],
)
def test_kms_key_policy_required(
    identity: list[dict[str, Any]], key_stmts: list[dict[str, Any]], expected: Decision
) -> None:
    key_policy = doc(*key_stmts, name=f"resource:{KEY}")
    ev = evaluate(
        [doc(*identity)] if identity else [],
        "kms:Decrypt",
        KEY,
        principal_arn=ROLE,
        resource_policy=key_policy,
        resource_policy_required=True,
    )
    assert ev.decision == expected
    if expected == N and identity:
        assert f"delegates to the account ({ROOT})" in ev.detail
    # Without the flag the identity policy alone is enough, as for every other service.
    if identity and expected == N:
        assert (
            evaluate(
                [doc(*identity)], "kms:Decrypt", KEY, principal_arn=ROLE, resource_policy=key_policy
            ).decision
            == A
        )


def test_kms_required_without_key_policy_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="resource_policy_required"):
        evaluate([], "kms:Decrypt", KEY, resource_policy_required=True)


def test_allowed_detail_cites_every_leg() -> None:
    ev = evaluate(
        [doc(stmt(Action="kms:Decrypt"))],
        "kms:Decrypt",
        KEY,
        principal_arn=ROLE,
        resource_policy=doc(kstmt({"AWS": ROOT}, Sid="Root"), name=f"resource:{KEY}"),
        resource_policy_required=True,
    )
    assert ev.deciding == ("inline:exec/p#0", f"resource:{KEY}#Root")
    assert f"Resource policy of {KEY} statement Root allows kms:Decrypt on *" in ev.detail


# --- trust policies -------------------------------------------------------------------------------

TASKS = "ecs-tasks.amazonaws.com"


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def tstmt(
    service: Any, effect: str = "Allow", action: Any = "sts:AssumeRole", **parts: Any
) -> dict[str, Any]:
    return {"Effect": effect, "Principal": {"Service": service}, "Action": action, **parts}


SOURCE = {"StringEquals": {"aws:SourceAccount": ACCT}}


@pytest.mark.parametrize(
    ("policy", "context", "expected", "detail"),
    [
        (trust(tstmt(TASKS)), None, A, f"Trust policy statement #0 lets {TASKS} assume the role"),
        (trust(tstmt([TASKS, "ec2.amazonaws.com"])), None, A, ""),
        (trust(tstmt(TASKS, action=["sts:AssumeRole", "sts:TagSession"])), None, A, ""),
        (trust(tstmt(TASKS, action="sts:*")), None, A, ""),
        ({"Statement": tstmt(TASKS)}, None, A, ""),
        (json.dumps(trust(tstmt(TASKS))), None, A, ""),
        (urllib.parse.quote(json.dumps(trust(tstmt(TASKS)))), None, A, ""),
        (
            trust(tstmt("ecs.amazonaws.com")),
            None,
            N,
            f"The trust policy trusts ecs.amazonaws.com, not {TASKS}.",
        ),
        (
            trust(tstmt(["ecs.amazonaws.com", "ec2.amazonaws.com"])),
            None,
            N,
            f"trusts ecs.amazonaws.com, ec2.amazonaws.com, not {TASKS}",
        ),
        (
            trust({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}),
            None,
            N,
            f"trusts {ROOT}, not {TASKS}",
        ),
        (
            trust(tstmt(TASKS, action="sts:AssumeRoleWithWebIdentity")),
            None,
            N,
            "lets no principal call sts:AssumeRole",
        ),
        (
            trust(tstmt(TASKS, Condition=SOURCE)),
            None,
            C,
            "only when its condition on aws:SourceAccount holds",
        ),
        (trust(tstmt(TASKS, Condition=SOURCE)), {"aws:SourceAccount": ACCT}, A, ""),
        (trust(tstmt(TASKS, Condition=SOURCE)), {"aws:SourceAccount": OTHER}, N, ""),
        (trust(tstmt(TASKS), tstmt(TASKS, "Deny")), None, D, "denies sts:AssumeRole"),
        (trust(tstmt(TASKS), tstmt(TASKS, "Deny", Condition=SOURCE)), None, C, ""),
        (trust({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}), None, A, ""),
    ],
)
def test_trust_policy(
    policy: dict[str, Any] | str, context: dict[str, str] | None, expected: Decision, detail: str
) -> None:
    ev = trust_allows(policy, TASKS, context=context)
    assert (ev.action, ev.decision) == ("sts:AssumeRole", expected)
    assert detail in ev.detail
    assert bool(ev.deciding) == (expected in (A, D, C))


# --- properties -----------------------------------------------------------------------------------

NAMES = st.sampled_from(["ecr", "logs", "kms", "secretsmanager", "sts", "*", "e?r", "ECR"])
VERBS = st.sampled_from(["BatchGetImage", "Get*", "Decrypt", "*", "PutLog?vents", "getsecretvalue"])
ACTIONS = st.builds(lambda s, v: f"{s}:{v}", NAMES, VERBS) | st.just("*")
RESOURCES = st.sampled_from([SECRET, REPO, KEY, "*", "arn:aws:ecr:*:*:repository/*", "arn:*"])
PRINCIPALS = st.sampled_from(
    [
        "*",
        {"AWS": "*"},
        {"AWS": ROOT},
        {"AWS": ACCT},
        {"AWS": [ROLE]},
        {"Service": TASKS},
        {"AWS": SESSION},
        {"Federated": "x"},
        7,
    ]
)
CONDITIONS = st.dictionaries(
    st.sampled_from(
        [
            "StringEquals",
            "StringLike",
            "Bool",
            "Null",
            "ArnLike",
            "NumericEquals",
            "ForAllValues:StringEquals",
            "StringNotEqualsIfExists",
            "Bogus",
        ]
    ),
    st.dictionaries(
        st.sampled_from(["aws:SourceVpc", "aws:SourceAccount", "aws:TagKeys"]),
        st.sampled_from(["vpc-1", ACCT, "true", ["a", "b"], 1, None, {"x": 1}]),
        max_size=2,
    ),
    max_size=2,
)
JUNK = st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)


def element(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return values | st.lists(values, max_size=3) | JUNK


STATEMENTS = (
    st.fixed_dictionaries(
        {},
        optional={
            "Sid": st.text(max_size=4) | JUNK,
            "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | JUNK,
            "Action": element(ACTIONS),
            "NotAction": element(ACTIONS),
            "Resource": element(RESOURCES),
            "NotResource": element(RESOURCES),
            "Principal": PRINCIPALS | JUNK,
            "NotPrincipal": PRINCIPALS,
            "Condition": CONDITIONS | JUNK,
        },
    )
    | JUNK
)
DOCUMENTS = st.fixed_dictionaries(
    {"Statement": STATEMENTS | st.lists(STATEMENTS, max_size=4)},
    optional={"Version": st.just("2012-10-17")},
)
CONTEXTS = st.dictionaries(
    st.sampled_from(["aws:SourceVpc", "aws:sourceaccount", "aws:TagKeys"]),
    st.sampled_from(["vpc-1", ACCT, "true", [], ["a"]]),
    max_size=3,
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(DOCUMENTS, ACTIONS, RESOURCES, CONTEXTS)
def test_an_unconditional_deny_is_never_allowed(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, Any]
) -> None:
    deny = {"Effect": "Deny", "Action": action, "Resource": "*"}
    old = policy["Statement"]
    both = {"Statement": [*(old if isinstance(old, list) else [old]), deny]}
    assert evaluate([PolicyDoc("p", both)], action, resource, context=context).decision == D


@FAST
@given(ACTIONS, RESOURCES, st.sampled_from([None, ROLE, SESSION]))
def test_allow_everything_allows_anything(
    action: str, resource: str, principal: str | None
) -> None:
    policy = PolicyDoc("admin", {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    assert evaluate([policy], action, resource, principal_arn=principal).decision == A


@FAST
@given(
    DOCUMENTS,
    DOCUMENTS,
    DOCUMENTS,
    ACTIONS,
    RESOURCES,
    CONTEXTS,
    st.sampled_from([None, ROLE, SESSION, "garbage"]),
    st.booleans(),
    st.booleans(),
)
def test_evaluation_never_raises_on_grammar_shaped_documents(
    identity: dict[str, Any],
    resource_policy: dict[str, Any],
    boundary: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, Any],
    principal: str | None,
    same: bool,
    required: bool,
) -> None:
    docs = (identity, resource_policy, boundary)
    try:
        ev = evaluate(
            [PolicyDoc("i", identity)],
            action,
            resource,
            principal_arn=principal,
            resource_policy=PolicyDoc("resource:r", resource_policy),
            boundary=PolicyDoc("b", boundary),
            context=context,
            same_account=same,
            resource_policy_required=required,
        )
    except ValueError:
        assert not all(_parses(d) for d in docs)
        return
    assert ev.decision in Decision
    assert ev.detail.endswith(".")
    assert trust_allows(identity, TASKS, context=context).decision in Decision


def _parses(document: dict[str, Any]) -> bool:
    try:
        parse_document(document)
    except ValueError:
        return False
    return True


@FAST
@given(st.text(max_size=30) | st.binary(max_size=10).map(lambda b: b.hex()))
def test_only_parse_document_rejects_garbage(text: str) -> None:
    try:
        parse_document(text)
    except ValueError:
        with pytest.raises(ValueError):
            evaluate([PolicyDoc("p", text)], "ecr:BatchGetImage", REPO)
    else:
        evaluate([PolicyDoc("p", text)], "ecr:BatchGetImage", REPO)


@FAST
@given(CONDITIONS, ACTIONS, RESOURCES)
def test_an_unknown_condition_never_turns_an_allow_into_a_deny(
    condition: dict[str, Any], action: str, resource: str
) -> None:
    base = {"Effect": "Allow", "Action": action, "Resource": resource}
    plain = evaluate([PolicyDoc("p", {"Statement": base})], action, resource).decision
    guarded = {"Statement": {**base, "Condition": condition}}
    assert plain == A
    assert evaluate([PolicyDoc("p", guarded)], action, resource).decision in (A, C)
