"""Pure evaluators: endpoint policies, SCP messages, trust context, the simulator's second
opinion (stubbed: moto lacks iam:SimulatePrincipalPolicy), and registry host typos."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from ecsdoctor.arn import ImageRef, parse_image, pull_through_upstream, registry_typo
from ecsdoctor.aws.reader import AwsReader
from ecsdoctor.iam_policy import (
    Decision,
    PolicyDoc,
    decide,
    disagreement,
    ecs_trust_context,
    endpoint_policy_allows,
    evaluate,
    scp_denial,
    simulate,
    trust_allows,
)

ROLE = "arn:aws:iam::111122223333:role/exec"
BUCKET = "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- endpoint policies ---------------------------------------------------------------------------


def test_no_endpoint_policy_is_full_access() -> None:
    assert (
        endpoint_policy_allows(None, "vpce-1", "s3:GetObject", BUCKET).decision is Decision.ALLOWED
    )


def test_endpoint_policy_naming_other_buckets_denies_layers() -> None:
    doc = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::acme/*"}
    )
    verdict = endpoint_policy_allows(doc, "vpce-1", "s3:GetObject", BUCKET, principal_arn=ROLE)
    assert verdict.decision is Decision.IMPLICIT_DENY
    assert "arn:aws:s3:::acme/*" in verdict.detail and "vpce-1" in verdict.detail


def test_endpoint_policy_not_action_deny() -> None:
    doc = _doc(
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {
            "Sid": "OnlyReads",
            "Effect": "Deny",
            "Principal": "*",
            "NotAction": ["ecr:Describe*"],
            "Resource": "*",
        },
    )
    verdict = endpoint_policy_allows(
        doc, "vpce-2", "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/web"
    )
    assert verdict.decision is Decision.EXPLICIT_DENY and "OnlyReads" in verdict.detail


def test_endpoint_policy_for_the_account_admits_its_roles() -> None:
    doc = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111122223333"},
            "Action": "logs:*",
            "Resource": "*",
        }
    )
    assert (
        endpoint_policy_allows(doc, "vpce-3", "logs:PutLogEvents", "*", principal_arn=ROLE).decision
        is Decision.ALLOWED
    )
    other = "arn:aws:iam::444455556666:role/exec"
    assert (
        endpoint_policy_allows(
            doc, "vpce-3", "logs:PutLogEvents", "*", principal_arn=other
        ).decision
        is Decision.IMPLICIT_DENY
    )


def test_endpoint_policy_condition_is_never_a_false_deny() -> None:
    doc = _doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
        }
    )
    assert (
        endpoint_policy_allows(doc, "vpce-4", "kms:Decrypt", "*").decision is Decision.CONDITIONAL
    )


# -- the whole IAM decision ----------------------------------------------------------------------


def test_boundary_denies_what_identity_allows() -> None:
    identity = [
        PolicyDoc("inline:exec/all", _doc({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}))
    ]
    boundary = PolicyDoc(
        "arn:aws:iam::111122223333:policy/dev-boundary",
        _doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}),
    )
    verdict = evaluate(identity, "ecr:BatchGetImage", "*", principal_arn=ROLE, boundary=boundary)
    assert verdict.decision is Decision.IMPLICIT_DENY and "dev-boundary" in verdict.detail
    decoy = PolicyDoc(
        "arn:aws:iam::111122223333:policy/wide",
        _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    assert (
        evaluate(identity, "ecr:BatchGetImage", "*", principal_arn=ROLE, boundary=decoy).decision
        is Decision.ALLOWED
    )


def test_trust_conditions_against_the_tasks_account() -> None:
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}},
        }
    )
    task = "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc"
    context = ecs_trust_context("111122223333", task)
    assert (
        trust_allows(trust, "ecs-tasks.amazonaws.com", context=context).decision
        is Decision.IMPLICIT_DENY
    )
    good = trust.replace("999988887777", "111122223333")
    assert (
        trust_allows(good, "ecs-tasks.amazonaws.com", context=context).decision is Decision.ALLOWED
    )
    arn_cond = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:111122223333:*"}},
        }
    )
    assert (
        trust_allows(arn_cond, "ecs-tasks.amazonaws.com", context=context).decision
        is Decision.IMPLICIT_DENY
    )


# What ECS sends as aws:SourceArn is not documented beyond "an ECS ARN of the account and
# Region": the documented condition is ArnLike arn:aws:ecs:REGION:ACCOUNT:*, and "using the
# aws:SourceArn condition key to specify a specific cluster is not currently supported"
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
_TASK = "arn:aws:ecs:eu-west-1:111122223333:task/prod/0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("operator", "value", "decision"),
    [
        ("ArnLike", "arn:aws:ecs:eu-west-1:111122223333:*", Decision.ALLOWED),
        ("StringLike", "arn:aws:ecs:eu-west-1:111122223333:*", Decision.ALLOWED),
        ("ArnLike", "arn:aws:ecs:*:111122223333:*", Decision.ALLOWED),
        ("ArnEquals", "arn:aws:ecs:eu-west-1:111122223333:*", Decision.ALLOWED),
        ("ArnLike", "arn:aws:ecs:us-east-1:111122223333:*", Decision.IMPLICIT_DENY),
        ("ArnLike", "arn:aws:ecs:eu-west-1:999988887777:*", Decision.IMPLICIT_DENY),
        ("ArnLike", "arn:aws:ecs:eu-west-1:111122223333:cluster/prod", Decision.IMPLICIT_DENY),
        ("ArnLike", "arn:aws:ecs:eu-west-1:111122223333:task/prod/*", Decision.IMPLICIT_DENY),
        ("StringEquals", "arn:aws:ecs:eu-west-1:111122223333:*", Decision.IMPLICIT_DENY),
        # Narrower but not one cluster: undocumented either way, so never a false deny.
        ("ArnLike", "arn:aws:ecs:eu-west-1:111122223333:task/*", Decision.CONDITIONAL),
        ("ArnNotLike", "arn:aws:ecs:eu-west-1:999988887777:*", Decision.ALLOWED),
    ],
)
def test_source_arn_condition_against_what_ecs_documents(
    operator: str, value: str, decision: Decision
) -> None:
    condition: dict[str, dict[str, str]] = {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    condition.setdefault(operator, {})["aws:SourceArn"] = value
    trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }
    )
    context = ecs_trust_context("111122223333", _TASK)
    verdict = trust_allows(trust, "ecs-tasks.amazonaws.com", context=context)
    assert verdict.decision is decision, verdict.detail
    if "cluster/prod" in value or "task/prod" in value:
        assert "one cluster" in verdict.detail and "not supported" in verdict.detail
    if "us-east-1" in value:
        assert "arn:aws:ecs:eu-west-1:111122223333:*" in verdict.detail


def test_scp_named_in_a_message() -> None:
    text = (
        "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/abc is not "
        "authorized to perform: ecr:GetAuthorizationToken on resource: * with an explicit deny "
        "in a service control policy"
    )
    assert scp_denial(text) == "service control policy"
    assert scp_denial("with an explicit deny in an identity-based policy") is None
    assert scp_denial("no identity-based policy allows the ecr:BatchGetImage action") is None


# -- simulation as a second opinion ------------------------------------------------------------


def _stubbed_reader(response: dict[str, object] | None) -> tuple[AwsReader, Stubber]:
    session = boto3.session.Session(region_name="eu-west-1")
    reader = AwsReader(session, region="eu-west-1")
    client = reader.client("iam", "eu-west-1")
    stubber = Stubber(client)
    if response is None:
        stubber.add_client_error("simulate_principal_policy", "AccessDenied", "not allowed", 403)
    else:
        stubber.add_response("simulate_principal_policy", response)
    stubber.activate()
    return reader, stubber


def test_simulation_agrees_or_records_the_disagreement() -> None:
    reader, stubber = _stubbed_reader(
        {
            "EvaluationResults": [
                {
                    "EvalActionName": "ecr:BatchGetImage",
                    "EvalResourceName": "*",
                    "EvalDecision": "explicitDeny",
                    "MatchedStatements": [{"SourcePolicyId": "deny-ecr"}],
                }
            ],
            "IsTruncated": False,
        }
    )
    with stubber:
        sims = simulate(reader, ROLE, ["ecr:BatchGetImage"], ["*"])
    assert sims is not None and sims[0].decision is Decision.EXPLICIT_DENY
    identity = [
        PolicyDoc("inline:exec/all", _doc({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}))
    ]
    local = evaluate(identity, "ecr:BatchGetImage", "*", principal_arn=ROLE)
    note = disagreement(local, sims)
    assert note is not None and "explicit_deny" in note and "allowed" in note
    denied_locally = evaluate([], "ecr:BatchGetImage", "*", principal_arn=ROLE)
    assert disagreement(denied_locally, sims) is None


def test_simulation_denied_leaves_the_local_evaluation() -> None:
    reader, stubber = _stubbed_reader(None)
    with stubber:
        assert simulate(reader, ROLE, ["ecr:BatchGetImage"], ["*"]) is None


# -- registry hosts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "meant", "problem"),
    [
        (
            "111122223333.dkr.erc.eu-west-1.amazonaws.com",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
            "erc",
        ),
        (
            "111122223333.ecr.ap-southeast-2.amazonaws.com",
            "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com",
            "dkr",
        ),
        (
            "111122223333.dkr.ecr.eu-west-1.amazonaws.co",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
            "domain",
        ),
        (
            "111122223333.dkr.ecr.cn-north-1.amazonaws.com",
            "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "China",
        ),
        ("pubilc.ecr.aws", "public.ecr.aws", "away from"),
    ],
)
def test_registry_typos_suggest_the_meant_host(host: str, meant: str, problem: str) -> None:
    typo = registry_typo(host)
    assert typo is not None and typo.suggestion == meant and problem in typo.problem
    with pytest.raises(ValueError, match="did you mean"):
        parse_image(f"{host}/web:v1")


@pytest.mark.parametrize(
    "image",
    [
        "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:v1",
        "111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn/web:v1",
        "registry.example.com/team/web:v1",
        "quay.io/prometheus/node-exporter:v1.8.0",
        "localhost:5000/web",
        "nginx:1.27",
    ],
)
def test_real_hosts_are_not_typos(image: str) -> None:
    assert isinstance(parse_image(image), ImageRef)


def test_cross_account_region_and_pull_through_cache() -> None:
    ref = parse_image("444455556666.dkr.ecr.us-west-2.amazonaws.com/docker-hub/library/nginx:1.27")
    assert (ref.ecr_account, ref.ecr_region) == ("444455556666", "us-west-2")
    assert (
        ref.repository_arn
        == "arn:aws:ecr:us-west-2:444455556666:repository/docker-hub/library/nginx"
    )
    assert pull_through_upstream(ref) == "registry-1.docker.io"
    assert (
        pull_through_upstream(parse_image("444455556666.dkr.ecr.us-west-2.amazonaws.com/web:v1"))
        is None
    )


# -- attribution: whose policy decides ---------------------------------------------------------

REPO = "arn:aws:ecr:eu-west-1:111122223333:repository/web"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALL_ECR = PolicyDoc(
    "inline:exec/ecr", _doc({"Effect": "Allow", "Action": ["ecr:*", "kms:*"], "Resource": "*"})
)


def test_repository_policy_deny_is_the_repositorys() -> None:
    repo_policy = PolicyDoc(
        "resource:repository/web",
        _doc({"Sid": "NoPulls", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}),
    )
    verdict = decide(
        [ALL_ECR], "ecr:BatchGetImage", REPO, principal_arn=ROLE, resource_policy=repo_policy
    )
    assert verdict.decided_by == "resource" and "NoPulls" in verdict.evaluation.detail


def test_key_policy_that_neither_allows_nor_delegates_is_the_keys() -> None:
    key_policy = PolicyDoc(
        f"resource:{KEY}",
        _doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ),
    )
    verdict = decide(
        [ALL_ECR],
        "kms:Decrypt",
        KEY,
        principal_arn=ROLE,
        resource_policy=key_policy,
        resource_policy_required=True,
    )
    assert verdict.decided_by == "resource"
    assert "neither allows the principal nor delegates" in verdict.evaluation.detail
    delegating = PolicyDoc(
        f"resource:{KEY}",
        _doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ),
    )
    assert (
        decide(
            [ALL_ECR],
            "kms:Decrypt",
            KEY,
            principal_arn=ROLE,
            resource_policy=delegating,
            resource_policy_required=True,
        ).decided_by
        == ""
    )


def test_boundary_and_identity_attribution() -> None:
    boundary = PolicyDoc(
        "arn:aws:iam::111122223333:policy/b",
        _doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}),
    )
    assert (
        decide(
            [ALL_ECR], "ecr:BatchGetImage", REPO, principal_arn=ROLE, boundary=boundary
        ).decided_by
        == "boundary"
    )
    assert (
        decide([], "ecr:BatchGetImage", REPO, principal_arn=ROLE, boundary=boundary).decided_by
        == "identity"
    )


def test_cross_account_needs_both_sides() -> None:
    other_repo = "arn:aws:ecr:eu-west-1:444455556666:repository/shared"
    verdict = decide(
        [ALL_ECR], "ecr:BatchGetImage", other_repo, principal_arn=ROLE, same_account=False
    )
    assert verdict.decided_by == "resource"
    granting = PolicyDoc(
        "resource:repository/shared",
        _doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["ecr:BatchGetImage"],
            }
        ),
    )
    assert (
        decide(
            [ALL_ECR],
            "ecr:BatchGetImage",
            other_repo,
            principal_arn=ROLE,
            same_account=False,
            resource_policy=granting,
        ).decided_by
        == ""
    )
