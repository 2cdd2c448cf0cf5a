"""Every secret the task references exists, in its region and account, under a usable KMS key.

Metadata calls only (DescribeParameters, DescribeSecret, DescribeKey): never the value, so a
secret's JSON key cannot be verified and is never claimed to be.
"""

from __future__ import annotations

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ApiError, ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.snapshot import Raw, SecretRef, TaskSnapshot


def _secret(snap: TaskSnapshot, ref: SecretRef) -> Raw | None:
    try:
        secret = snap.secret_metadata(ref)
    except ApiError as err:
        if err.code == "ResourceNotFoundException":
            return None
        raise
    return secret


@check(Kind.SSM_PARAMETER, reads=("ssm:DescribeParameters",), rank=20)
def parameter_not_found(ctx: CheckContext) -> list[CheckResult]:
    """An SSM parameter named in valueFrom does not exist in its region and account."""
    snap = ctx.snap
    out: list[CheckResult] = []
    for ref in snap.secret_refs():
        if ref.store != "ssm":
            continue
        if ref.account and snap.account and ref.account != snap.account:
            continue  # a shared parameter in another account: not visible to DescribeParameters
        try:
            found = snap.parameter_metadata(ref)
        except ReadError as err:
            out.append(ctx.gap(Kind.SSM_PARAMETER, ref.arn, err))
            continue
        if found:
            out.append(
                ctx.result(
                    Kind.SSM_PARAMETER,
                    ref.arn,
                    Status.RULED_OUT,
                    f"Parameter {ref.lookup} exists in {ref.region}.",
                )
            )
            continue
        detail = (
            f"Container {ref.container} reads {ref.name} from SSM parameter {ref.lookup} "
            f"({ref.arn}), which does not exist in {ref.region}."
        )
        out.append(
            ctx.result(
                Kind.SSM_PARAMETER,
                ref.arn,
                Status.CONFIRMED,
                detail,
                (Evidence(ref.arn, "ssm:DescribeParameters", f"No parameter named {ref.lookup}."),),
                f"Create the parameter (aws ssm put-parameter --name {ref.lookup} --type SecureString "
                f"--value ... --region {ref.region}) or fix valueFrom in {snap.task_definition_arn}.",
            )
        )
    return out


@check(Kind.SECRET, reads=("secretsmanager:DescribeSecret",), rank=20)
def secret_not_found(ctx: CheckContext) -> list[CheckResult]:
    """A Secrets Manager secret named in valueFrom does not exist (or is scheduled for deletion)."""
    snap = ctx.snap
    out: list[CheckResult] = []
    for ref in snap.secret_refs():
        if ref.store != "secretsmanager":
            continue
        try:
            secret = _secret(snap, ref)
        except ReadError as err:
            out.append(ctx.gap(Kind.SECRET, ref.arn, err))
            continue
        if secret and not secret.get("DeletedDate"):
            out.append(
                ctx.result(
                    Kind.SECRET,
                    ref.arn,
                    Status.RULED_OUT,
                    f"Secret {secret.get('Name')} exists in {ref.region}.",
                )
            )
            continue
        state = "is scheduled for deletion" if secret else "does not exist"
        detail = f"Container {ref.container} reads {ref.name} from secret {ref.arn}, which {state}."
        fix = (
            f"aws secretsmanager restore-secret --secret-id {ref.arn}"
            if secret
            else f"Create the secret, or fix valueFrom of {ref.name} in {snap.task_definition_arn} "
            "(a full ARN needs the 6-character suffix; a partial ARN or the name also work)."
        )
        out.append(
            ctx.result(
                Kind.SECRET,
                ref.arn,
                Status.CONFIRMED,
                detail,
                (Evidence(ref.arn, "secretsmanager:DescribeSecret", detail),),
                fix,
            )
        )
    return out


def secret_keys(snap: TaskSnapshot) -> list[tuple[str, str]]:
    """(key ARN, region) of the customer-managed KMS keys encrypting the task's secrets."""
    keys: dict[str, str] = {}
    for region, key in snap.secret_key_ids():
        try:
            described = snap.kms_key(key, region)
        except ReadError:
            # Keep the key as the secret names it: its own check reports the read it could not do.
            keys[key] = region
            continue
        if described.get("KeyManager") == "AWS":
            continue  # AWS-managed keys: ECS needs no extra permission
        keys[str(described["Arn"])] = region
    return sorted(keys.items())


@check(
    Kind.KMS_KEY,
    reads=("kms:DescribeKey", "secretsmanager:DescribeSecret", "ssm:DescribeParameters"),
    rank=15,
)
def kms_key_unusable(ctx: CheckContext) -> list[CheckResult]:
    """The KMS key that encrypts a secret is disabled, pending deletion or otherwise unusable."""
    snap = ctx.snap
    out: list[CheckResult] = []
    for key_arn, region in secret_keys(snap):
        try:
            meta = snap.kms_key(key_arn, region)
        except ReadError as err:
            out.append(ctx.gap(Kind.KMS_KEY, key_arn, err))
            continue
        state = str(meta.get("KeyState"))
        if state == "Enabled":
            out.append(
                ctx.result(
                    Kind.KMS_KEY,
                    key_arn,
                    Status.RULED_OUT,
                    f"KMS key {key_arn} is enabled.",
                )
            )
            continue
        detail = f"KMS key {key_arn}, which encrypts the task's secrets, is {state}: nothing can decrypt with it."
        fix = (
            f"aws kms enable-key --key-id {key_arn}"
            if state == "Disabled"
            else f"aws kms cancel-key-deletion --key-id {key_arn} && aws kms enable-key --key-id {key_arn}"
            if state == "PendingDeletion"
            else f"Make KMS key {key_arn} usable (state {state})."
        )
        out.append(
            ctx.result(
                Kind.KMS_KEY,
                key_arn,
                Status.CONFIRMED,
                detail,
                (Evidence(key_arn, "kms:DescribeKey", f"KeyState is {state}."),),
                fix,
            )
        )
    return out
