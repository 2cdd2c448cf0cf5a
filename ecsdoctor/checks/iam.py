"""The execution role (pull, logs, secrets, decrypt) and the task role, checked separately.

Permissions are evaluated locally from the role's policy documents plus the resource's own
policy (ECR repository, secret, KMS key), because iam:SimulatePrincipalPolicy is often not
permitted and cannot include resource policies for roles. A Condition never yields a false deny.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ecsdoctor.arn import ImageRef
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.checks.secrets import (
    kms_key_unusable,
    parameter_not_found,
    secret_keys,
    secret_not_found,
)
from ecsdoctor.errors import ApiError, ReadError
from ecsdoctor.iam_policy import (
    Decision,
    Evaluation,
    PolicyDoc,
    decide,
    disagreement,
    ecs_trust_context,
    ecs_trust_policy,
    scp_denial,
    simulate,
    trust_allows,
)
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, DataGap, Evidence, ResultRef, Status
from ecsdoctor.snapshot import TaskSnapshot

ECS_TASKS = "ecs-tasks.amazonaws.com"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#: What evaluating a role's identity policies reads.
ROLE_POLICY_READS = (
    "iam:GetRole",
    "iam:SimulatePrincipalPolicy",
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
    trust = trust_allows(
        role.get("AssumeRolePolicyDocument") or {},
        ECS_TASKS,
        context=ecs_trust_context(snap.account, snap.task_arn),
    )
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
    partition = snap.task_arn.split(":")[1] if snap.task_arn.startswith("arn:") else "aws"
    fix = (
        f"aws iam update-assume-role-policy --role-name {name} --policy-document "
        f"'{ecs_trust_policy(snap.account, snap.region, partition)}'"
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


_RESOURCE_KINDS = {
    "ecr": Kind.ECR_REPOSITORY,
    "kms": Kind.KMS_KEY,
    "secretsmanager": Kind.SECRET,
    "ssm": Kind.SSM_PARAMETER,
}


def _boundary(snap: TaskSnapshot, role: str) -> PolicyDoc | None:
    found = snap.permissions_boundary(role)
    return PolicyDoc(found[0], found[1]) if found else None


def _denials(
    ctx: CheckContext,
    asks: Sequence[Ask],
    what: str,
    fix: str,
) -> list[CheckResult]:
    """Evaluate each (action, resource, resource policy, key-policy-required, depends) for the
    execution role: identity policies, its permissions boundary and the resource's own policy.
    A denial lands on the policy that decides it: the role, its boundary (iam_policy), or the
    repository / key / secret whose policy denies or neither allows nor delegates."""
    snap = ctx.snap
    role = snap.execution_role_arn
    if role is None or not asks:
        return []
    try:
        snap.role(role)
        policies = _policies(snap, role)
        boundary = _boundary(snap, role)
    except ApiError as err:
        if err.code == "NoSuchEntity":
            return []  # reported by execution_role_not_assumable
        raise
    assumable = ctx.ref(execution_role_not_assumable, role)
    depends: set[ResultRef] = {assumable}
    if snap.task_role_arn:
        depends.add(ctx.ref(execution_policy_on_task_role, snap.task_role_arn))
    denied: dict[tuple[str, str], list[tuple[Evidence, str, str]]] = {}
    allowed: list[Evidence] = []
    conditional: list[Evidence] = []
    local: list[Evaluation] = []
    for action, resource, resource_policy, key_policy_required, deps in asks:
        try:
            verdict = decide(
                policies,
                action,
                resource,
                principal_arn=role,
                resource_policy=resource_policy,
                boundary=boundary,
                resource_policy_required=key_policy_required,
                same_account=_account(resource) in ("", _account(role)),
            )
        except ValueError as err:
            conditional.append(
                Evidence(role, "iam:GetPolicyVersion", f"Unreadable policy document: {err}")
            )
            continue
        decision = verdict.evaluation
        local.append(decision)
        if decision.decision in (Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY):
            if verdict.decided_by == "resource":
                service = resource.split(":")[2] if resource.count(":") >= 5 else ""
                target = (str(_RESOURCE_KINDS.get(service, Kind.IAM_POLICY)), resource)
                source = _RESOURCE_SOURCES.get(service, "iam:GetRolePolicy/GetPolicyVersion")
            elif verdict.decided_by == "boundary" and boundary is not None:
                target = (str(Kind.IAM_POLICY), boundary.name)
                source = "iam:GetRole/GetPolicyVersion"
            else:
                target = (str(Kind.EXECUTION_ROLE), role)
                source = "iam:GetRolePolicy/GetPolicyVersion"
                depends.update(deps)
            evidence = Evidence(target[1], source, decision.detail)
            denied.setdefault(target, []).append((evidence, action, resource))
        elif decision.decision is Decision.CONDITIONAL:
            conditional.append(
                Evidence(role, "iam:GetRolePolicy/GetPolicyVersion", decision.detail)
            )
        else:
            allowed.append(Evidence(role, "iam:GetRolePolicy/GetPolicyVersion", decision.detail))
    if denied:
        second = _second_opinion(snap, role, local)
        out: list[CheckResult] = []
        for (kind, resource), items in denied.items():
            cited = tuple(e for e, _, _ in items)
            first = items[0][0].detail
            count = f"{len(items)} of {len(asks)} required calls are denied"
            if kind == Kind.EXECUTION_ROLE:
                detail = f"Execution role {role} is not allowed {what}: {count} ({first})"
                remedy = fix
                deps_out = tuple(sorted(depends, key=lambda r: r.key))
            elif kind == Kind.IAM_POLICY:
                detail = (
                    f"Permissions boundary {resource} of execution role {role} blocks {what}: "
                    f"{count} ({first})"
                )
                remedy = (
                    f"Add the denied actions ({', '.join(sorted({a for _, a, _ in items}))}) to "
                    f"permissions boundary {resource}, or remove the boundary from {role}."
                )
                deps_out = (assumable,)
            else:
                detail = (
                    f"The policy of {resource} blocks execution role {role} {what}: {count} "
                    f"({first})"
                )
                remedy = (
                    f"Edit the resource policy of {resource} to allow {role} "
                    f"({', '.join(sorted({a for _, a, _ in items}))})"
                    + (
                        ", or let it delegate to the account (arn:aws:iam::"
                        f"{_account(role)}:root) so IAM policies count."
                        if kind == Kind.KMS_KEY
                        else "."
                    )
                )
                deps_out = (assumable,)
            out.append(
                ctx.result(
                    Kind(kind),
                    resource,
                    Status.CONFIRMED,
                    detail,
                    cited + tuple(allowed[:3]) + second,
                    remedy,
                    deps_out,
                )
            )
        return out
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
            f"Execution role {role} is allowed {what} (evaluated from its policy documents"
            + (f" and permissions boundary {boundary.name}" if boundary else "")
            + ").",
            tuple(allowed[:4]),
        )
    ]


_RESOURCE_SOURCES = {
    "ecr": "ecr:GetRepositoryPolicy",
    "kms": "kms:GetKeyPolicy",
    "secretsmanager": "secretsmanager:GetResourcePolicy",
}


def _second_opinion(
    snap: TaskSnapshot, role: str, local: Sequence[Evaluation]
) -> tuple[Evidence, ...]:
    """iam:SimulatePrincipalPolicy on the same calls, where permitted; a disagreement becomes
    evidence, the local evaluation stays the source (simulation cannot see resource policies)."""
    actions = sorted({e.action for e in local})
    resources = sorted({e.resource for e in local})
    simulated = simulate(snap.reader, role, actions, resources)
    if simulated is None:
        return ()
    notes = [note for e in local if (note := disagreement(e, simulated))]
    if not notes:
        return (Evidence(role, "iam:SimulatePrincipalPolicy", "The IAM policy simulator agrees."),)
    return tuple(Evidence(role, "iam:SimulatePrincipalPolicy", n) for n in notes[:3])


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
        "kms:DescribeKey",
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


def _reasons(snap: TaskSnapshot) -> list[str]:
    """The task's own stop and container reasons (the messages ECS wrote for it)."""
    texts = [str(snap.task.get("stoppedReason") or "")]
    texts += [str(c.get("reason") or "") for c in snap.task.get("containers", []) or []]
    return [t for t in texts if t]


@check(Kind.IAM_POLICY, reads=(), rank=4)
def scp_denied(ctx: CheckContext) -> list[CheckResult]:
    """AWS says a service control policy (or resource control policy) denied a call: those live
    in the organization's management account, unreadable from here, so this is a data gap and
    the role is not to blame."""
    for text in _reasons(ctx.snap):
        kind = scp_denial(text)
        if kind is None:
            continue
        reason = (
            f"the message says an explicit deny in a {kind} blocked the call; {kind}s are "
            "readable only from the organization's management account"
        )
        result = ctx.result(
            Kind.IAM_POLICY,
            ctx.snap.account or ctx.snap.task_arn,
            Status.INCONCLUSIVE,
            f"An AWS Organizations {kind} denies the call, not the task's roles: {reason}. Ask "
            "the organization's administrators which policy applies to this account.",
            (Evidence(ctx.snap.task_arn, "stoppedReason", text[:300]),),
        )
        return [
            replace(
                result,
                gap=DataGap(
                    check=result.check,
                    reason=reason,
                    permission="organizations:ListPoliciesForTarget (management account)",
                ),
            )
        ]
    return []
