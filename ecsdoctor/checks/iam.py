"""The execution role (pull, logs, secrets, decrypt) and the task role, checked separately.

Permissions are evaluated locally from the role's policy documents plus the resource's own
policy (ECR repository, secret, KMS key), because iam:SimulatePrincipalPolicy is often not
permitted and cannot include resource policies for roles. A Condition never yields a false deny.
"""

from __future__ import annotations

from collections.abc import Sequence

from ecsdoctor.arn import ImageRef
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.checks.secrets import (
    kms_key_unusable,
    parameter_not_found,
    secret_keys,
    secret_not_found,
)
from ecsdoctor.errors import ApiError, ReadError
from ecsdoctor.iam_policy import Decision, PolicyDoc, evaluate, trust_allows
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, ResultRef, Status
from ecsdoctor.snapshot import TaskSnapshot

ECS_TASKS = "ecs-tasks.amazonaws.com"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#: What evaluating a role's identity policies reads.
ROLE_POLICY_READS = (
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
)
ECR_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")


def _needs_execution_role(snap: TaskSnapshot) -> list[str]:
    reasons = []
    if any(isinstance(r, ImageRef) and r.is_ecr for _, _, r in snap.images()):
        reasons.append("pulls from Amazon ECR")
    if snap.log_configs():
        reasons.append("uses the awslogs driver")
    if snap.secret_refs():
        reasons.append("references secrets")
    return reasons


def _assumable(ctx: CheckContext, kind: Kind, role_arn: str) -> list[CheckResult]:
    snap = ctx.snap
    try:
        role = snap.role(role_arn)
    except ApiError as err:
        if err.code != "NoSuchEntity":
            raise
        detail = f"Role {role_arn} named by {snap.task_definition_arn} does not exist."
        return [
            ctx.result(
                kind,
                role_arn,
                Status.CONFIRMED,
                detail,
                (Evidence(role_arn, "iam:GetRole", "NoSuchEntity."),),
                f"Create role {role_arn} trusting {ECS_TASKS}, or point the task definition at an existing role.",
            )
        ]
    trust = trust_allows(role.get("AssumeRolePolicyDocument") or {}, ECS_TASKS)
    if trust.decision in (Decision.ALLOWED, Decision.CONDITIONAL):
        return [
            ctx.result(
                kind,
                role_arn,
                Status.RULED_OUT,
                f"Role {role_arn} exists and its trust policy lets {ECS_TASKS} assume it.",
                (Evidence(role_arn, "iam:GetRole", trust.detail),),
            )
        ]
    name = role_arn.rsplit("/", 1)[-1]
    detail = f"ECS cannot assume role {role_arn}: {trust.detail}"
    fix = (
        f"aws iam update-assume-role-policy --role-name {name} --policy-document "
        f'\'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":'
        f'{{"Service":"{ECS_TASKS}"}},"Action":"sts:AssumeRole"}}]}}\''
    )
    return [
        ctx.result(
            kind,
            role_arn,
            Status.CONFIRMED,
            detail,
            (Evidence(role_arn, "iam:GetRole", trust.detail),),
            fix,
        )
    ]


@check(Kind.EXECUTION_ROLE, reads=("iam:GetRole",), rank=5)
def execution_role_not_assumable(ctx: CheckContext) -> list[CheckResult]:
    """The execution role is missing, does not exist, or does not trust ecs-tasks.amazonaws.com."""
    snap = ctx.snap
    role = snap.execution_role_arn
    if role is None:
        needs = _needs_execution_role(snap)
        if not needs:
            return []
        td = snap.task_definition_arn
        detail = f"Task definition {td} has no execution role, but it {' and '.join(needs)}."
        return [
            ctx.result(
                Kind.EXECUTION_ROLE,
                td,
                Status.CONFIRMED,
                detail,
                (Evidence(td, "ecs:DescribeTaskDefinition", detail),),
                f"Set executionRoleArn in a new revision of {td} to a role trusting {ECS_TASKS} "
                f"with {EXECUTION_POLICY} attached.",
            )
        ]
    return _assumable(ctx, Kind.EXECUTION_ROLE, role)


@check(Kind.TASK_ROLE, reads=("iam:GetRole",), rank=30)
def task_role_not_assumable(ctx: CheckContext) -> list[CheckResult]:
    """The task role does not exist or does not trust ecs-tasks.amazonaws.com."""
    role = ctx.snap.task_role_arn
    return _assumable(ctx, Kind.TASK_ROLE, role) if role else []


#: (action, resource, resource policy, key policy required, results that would explain a denial)
Ask = tuple[str, str, PolicyDoc | None, bool, tuple[ResultRef, ...]]


def _attach_execution_policy(snap: TaskSnapshot) -> str:
    role = snap.execution_role_arn or "<execution-role>"
    return f"aws iam attach-role-policy --role-name {role.rsplit('/', 1)[-1]} --policy-arn {EXECUTION_POLICY}"


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _policies(snap: TaskSnapshot, role_arn: str) -> list[PolicyDoc]:
    return [PolicyDoc(name, doc) for name, doc in snap.role_policies(role_arn)]


def _denials(
    ctx: CheckContext,
    asks: Sequence[Ask],
    what: str,
    fix: str,
) -> list[CheckResult]:
    """Evaluate (action, resource, resource policy, key-policy-required, depends) for the role."""
    snap = ctx.snap
    role = snap.execution_role_arn
    if role is None or not asks:
        return []
    try:
        snap.role(role)
        policies = _policies(snap, role)
    except ApiError as err:
        if err.code == "NoSuchEntity":
            return []  # reported by execution_role_not_assumable
        raise
    assumable = ctx.ref(execution_role_not_assumable, role)
    misplaced = ctx.ref(execution_policy_on_task_role, str(snap.task_role_arn))
    denied: list[Evidence] = []
    allowed: list[Evidence] = []
    conditional: list[Evidence] = []
    depends: set[ResultRef] = {assumable, misplaced}
    for action, resource, resource_policy, key_policy_required, deps in asks:
        try:
            verdict = evaluate(
                policies,
                action,
                resource,
                principal_arn=role,
                resource_policy=resource_policy,
                resource_policy_required=key_policy_required,
                same_account=_account(resource) in ("", _account(role)),
            )
        except ValueError as err:
            conditional.append(
                Evidence(role, "iam:GetPolicyVersion", f"Unreadable policy document: {err}")
            )
            continue
        evidence = Evidence(role, "iam:GetRolePolicy/GetPolicyVersion", verdict.detail)
        if verdict.decision in (Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY):
            denied.append(evidence)
            depends.update(deps)
        elif verdict.decision is Decision.CONDITIONAL:
            conditional.append(evidence)
        else:
            allowed.append(evidence)
    if denied:
        actions = sorted({e.detail for e in denied})
        detail = (
            f"Execution role {role} is not allowed {what}: {len(denied)} of {len(asks)} required "
            f"calls are denied ({actions[0]})"
        )
        return [
            ctx.result(
                Kind.EXECUTION_ROLE,
                role,
                Status.CONFIRMED,
                detail,
                tuple(denied) + tuple(allowed[:3]),
                fix,
                tuple(sorted(depends, key=lambda r: r.key)),
            )
        ]
    if conditional:
        return [
            ctx.result(
                Kind.EXECUTION_ROLE,
                role,
                Status.INCONCLUSIVE,
                f"Execution role {role} is allowed {what} only under conditions that "
                "describe calls cannot evaluate.",
                tuple(conditional),
            )
        ]
    return [
        ctx.result(
            Kind.EXECUTION_ROLE,
            role,
            Status.RULED_OUT,
            f"Execution role {role} is allowed {what} (evaluated from its policy documents).",
            tuple(allowed[:4]),
        )
    ]


def _repository_policy(snap: TaskSnapshot, ref: ImageRef) -> PolicyDoc | None:
    try:
        text = snap.reader.call(
            "ecr",
            "GetRepositoryPolicy",
            region=ref.ecr_region,
            registryId=ref.ecr_account,
            repositoryName=ref.repository,
        ).get("policyText")
    except ApiError as err:
        if err.code in ("RepositoryPolicyNotFoundException", "RepositoryNotFoundException"):
            return None
        raise
    return PolicyDoc(f"resource:repository/{ref.repository}", text) if text else None


@check(Kind.EXECUTION_ROLE, reads=(*ROLE_POLICY_READS, "ecr:GetRepositoryPolicy"), rank=8)
def execution_role_denied_ecr(ctx: CheckContext) -> list[CheckResult]:
    """The execution role's policies do not allow the calls ECS makes to pull from ECR."""
    snap = ctx.snap
    asks: list[Ask] = []
    for _, _, ref in snap.images():
        if not (isinstance(ref, ImageRef) and ref.is_ecr):
            continue
        repo = str(ref.repository_arn)
        policy = _repository_policy(snap, ref)
        asks.append(("ecr:GetAuthorizationToken", "*", None, False, ()))
        asks.extend((action, repo, policy, False, ()) for action in ECR_PULL)
    fix = _attach_execution_policy(snap)
    return _denials(ctx, asks, "to pull the image from Amazon ECR", fix)


@check(Kind.EXECUTION_ROLE, reads=ROLE_POLICY_READS, rank=9)
def execution_role_denied_logs(ctx: CheckContext) -> list[CheckResult]:
    """The execution role's policies do not allow writing the awslogs log streams."""
    snap = ctx.snap
    asks: list[Ask] = []
    for _, options in snap.log_configs():
        group = str(options.get("awslogs-group", ""))
        region = str(options.get("awslogs-region") or snap.region)
        base = f"arn:aws:logs:{region}:{snap.account}:log-group:{group}"
        stream = f"{base}:log-stream:{options.get('awslogs-stream-prefix', 'ecs')}/x"
        asks.append(("logs:CreateLogStream", stream, None, False, ()))
        asks.append(("logs:PutLogEvents", stream, None, False, ()))
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            asks.append(("logs:CreateLogGroup", base, None, False, ()))
    fix = _attach_execution_policy(snap)
    return _denials(ctx, asks, "to write its CloudWatch log streams", fix)


@check(Kind.EXECUTION_ROLE, reads=(*ROLE_POLICY_READS, "secretsmanager:GetResourcePolicy"), rank=9)
def execution_role_denied_secrets(ctx: CheckContext) -> list[CheckResult]:
    """The execution role's policies do not allow fetching the secrets the containers reference."""
    snap = ctx.snap
    asks: list[Ask] = []
    for ref in snap.secret_refs():
        if ref.store == "ssm":
            asks.append(
                (
                    "ssm:GetParameters",
                    ref.arn,
                    None,
                    False,
                    (ctx.ref(parameter_not_found, ref.arn),),
                )
            )
        else:
            policy = None
            try:
                text = snap.reader.call(
                    "secretsmanager", "GetResourcePolicy", region=ref.region, SecretId=ref.lookup
                ).get("ResourcePolicy")
                policy = PolicyDoc(f"resource:{ref.arn}", text) if text else None
            except ApiError:
                policy = None
            asks.append(
                (
                    "secretsmanager:GetSecretValue",
                    ref.arn,
                    policy,
                    False,
                    (ctx.ref(secret_not_found, ref.arn),),
                )
            )
    role = snap.execution_role_arn or "<execution-role>"
    resources = ", ".join(sorted({r.arn for r in snap.secret_refs()}))
    fix = (
        f"Add an inline policy to {role} allowing ssm:GetParameters / secretsmanager:GetSecretValue "
        f"on {resources}."
    )
    return _denials(ctx, asks, "to fetch the task's secrets", fix)


@check(
    Kind.EXECUTION_ROLE,
    reads=(
        *ROLE_POLICY_READS,
        "secretsmanager:DescribeSecret",
        "ssm:DescribeParameters",
        "kms:GetKeyPolicy",
    ),
    rank=9,
)
def execution_role_denied_kms(ctx: CheckContext) -> list[CheckResult]:
    """The execution role cannot kms:Decrypt with the customer key that encrypts a secret."""
    snap = ctx.snap
    asks: list[Ask] = []
    for key_arn, region in secret_keys(snap):
        try:
            text = snap.reader.call(
                "kms", "GetKeyPolicy", region=region, KeyId=key_arn, PolicyName="default"
            ).get("Policy")
        except ApiError:
            text = None
        policy = PolicyDoc(f"resource:{key_arn}", text) if text else None
        asks.append(
            (
                "kms:Decrypt",
                key_arn,
                policy,
                policy is not None,
                (ctx.ref(kms_key_unusable, key_arn),),
            )
        )
    role = snap.execution_role_arn or "<execution-role>"
    fix = f"Allow kms:Decrypt for {role} on the keys in its inline policy and in the key policies."
    return _denials(ctx, asks, "to decrypt the task's secrets", fix)


@check(Kind.TASK_ROLE, reads=("iam:ListAttachedRolePolicies",), rank=6)
def execution_policy_on_task_role(ctx: CheckContext) -> list[CheckResult]:
    """The managed execution policy is attached to the task role instead of the execution role."""
    snap = ctx.snap
    task_role = snap.task_role_arn
    if not task_role:
        return []
    try:
        on_task_role = EXECUTION_POLICY in snap.attached_policy_arns(task_role)
    except ApiError as err:
        if err.code == "NoSuchEntity":
            return []
        raise
    if not on_task_role:
        return [
            ctx.result(
                Kind.TASK_ROLE,
                task_role,
                Status.RULED_OUT,
                f"Task role {task_role} does not carry AmazonECSTaskExecutionRolePolicy.",
            )
        ]
    exec_role = snap.execution_role_arn
    exec_has = False
    if exec_role:
        try:
            exec_has = EXECUTION_POLICY in snap.attached_policy_arns(exec_role)
        except ReadError as err:
            return [ctx.gap(Kind.TASK_ROLE, task_role, err)]
    if exec_has:
        return [
            ctx.result(
                Kind.TASK_ROLE,
                task_role,
                Status.RULED_OUT,
                f"AmazonECSTaskExecutionRolePolicy is on task role {task_role}, but execution role "
                f"{exec_role} has it too.",
            )
        ]
    where = f"execution role {exec_role}" if exec_role else "no execution role at all"
    detail = (
        f"AmazonECSTaskExecutionRolePolicy is attached to task role {task_role} (the application's "
        f"role) instead of the execution role: the task has {where}, which is what ECS uses to "
        "pull the image, write logs and fetch secrets."
    )
    exec_name = (exec_role or "<execution-role>").rsplit("/", 1)[-1]
    fix = (
        f"aws iam attach-role-policy --role-name {exec_name} --policy-arn {EXECUTION_POLICY} && "
        f"aws iam detach-role-policy --role-name {task_role.rsplit('/', 1)[-1]} --policy-arn {EXECUTION_POLICY}"
    )
    return [
        ctx.result(
            Kind.TASK_ROLE,
            task_role,
            Status.CONFIRMED,
            detail,
            (
                Evidence(
                    task_role, "iam:ListAttachedRolePolicies", f"{EXECUTION_POLICY} is attached."
                ),
                Evidence(
                    exec_role or snap.task_definition_arn,
                    "iam:ListAttachedRolePolicies",
                    f"The execution role does not carry {EXECUTION_POLICY}.",
                ),
            ),
            fix,
        )
    ]
