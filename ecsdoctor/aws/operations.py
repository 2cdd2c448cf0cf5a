"""The read-only allow-list: the only AWS operations ecsdoctor may ever send.

Everything here is data plus one predicate, so the guard, the `permissions` command and the
tests all agree on one list. Names are IAM-style ("ec2:DescribeRouteTables") because that is what
an operator grants and what a denied call is reported as.
"""

from __future__ import annotations

# boto3 service name -> IAM action prefix. A service missing here cannot be called at all.
IAM_PREFIX: dict[str, str] = {
    "ecs": "ecs",
    "ec2": "ec2",
    "iam": "iam",
    "ecr": "ecr",
    "ssm": "ssm",
    "secretsmanager": "secretsmanager",
    "kms": "kms",
    "logs": "logs",
    "elbv2": "elasticloadbalancing",
    "sts": "sts",
    "cloudtrail": "cloudtrail",
    "application-autoscaling": "application-autoscaling",
    "efs": "elasticfilesystem",
}


def _ops(prefix: str, names: str) -> set[str]:
    return {f"{prefix}:{name}" for name in names.split()}


READ_OPERATIONS: frozenset[str] = frozenset(
    _ops(
        "ecs",
        "DescribeTasks ListTasks DescribeTaskDefinition DescribeServices ListServices"
        " DescribeClusters ListClusters DescribeContainerInstances ListContainerInstances"
        " DescribeCapacityProviders DescribeTaskSets ListServiceDeployments"
        " DescribeServiceDeployments",
    )
    | _ops(
        "ec2",
        "DescribeSubnets DescribeRouteTables DescribeVpcs DescribeVpcAttribute"
        " DescribeVpcEndpoints DescribeSecurityGroups DescribeSecurityGroupRules"
        " DescribeNetworkAcls DescribeNatGateways DescribeInternetGateways"
        " DescribeNetworkInterfaces DescribePrefixLists DescribeManagedPrefixLists"
        " GetManagedPrefixListEntries DescribeDhcpOptions DescribeAvailabilityZones"
        " DescribeInstances",
    )
    | _ops(
        "iam",
        "GetRole ListAttachedRolePolicies ListRolePolicies GetRolePolicy GetPolicy"
        " GetPolicyVersion SimulatePrincipalPolicy",
    )
    | _ops(
        "ecr",
        "DescribeRepositories DescribeImages BatchGetImage GetRepositoryPolicy DescribeRegistry",
    )
    | _ops("ssm", "DescribeParameters")
    | _ops("secretsmanager", "DescribeSecret GetResourcePolicy ListSecrets")
    | _ops("kms", "DescribeKey GetKeyPolicy ListAliases")
    | _ops("logs", "DescribeLogGroups FilterLogEvents")
    | _ops(
        "elasticloadbalancing",
        "DescribeTargetGroups DescribeTargetHealth DescribeLoadBalancers DescribeListeners"
        " DescribeRules DescribeTargetGroupAttributes",
    )
    | _ops("sts", "GetCallerIdentity AssumeRole")
    | _ops("cloudtrail", "LookupEvents")
    | _ops("application-autoscaling", "DescribeScalableTargets")
    | _ops(
        "elasticfilesystem",
        "DescribeFileSystems DescribeMountTargets DescribeMountTargetSecurityGroups"
        " DescribeAccessPoints DescribeFileSystemPolicy",
    )
)

# Reads that hand back secret material or credentials. Listed explicitly so that a future edit of
# READ_OPERATIONS cannot let one in: is_allowed() checks this list as well.
FORBIDDEN: frozenset[str] = frozenset(
    {
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
    }
)

# Operation-name prefixes that change state; a third, independent refusal (defense in depth).
MUTATING_PREFIXES: tuple[str, ...] = (
    "Create", "Put", "Update", "Delete", "Modify", "Run", "Start", "Stop", "Register",
    "Deregister", "Tag", "Untag", "Attach", "Detach", "Associate", "Disassociate", "Replace",
    "Revoke", "Authorize", "Set", "Submit", "Execute", "Send", "Reset", "Enable", "Disable",
    "Import", "Restore", "Cancel", "Accept", "Reject",
)  # fmt: skip


def permission_name(service: str, operation: str) -> str:
    """The IAM action for a boto3 service and API operation, e.g. ("elbv2", "DescribeRules")."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def is_allowed(permission: str) -> bool:
    """True only for an allow-listed, non-secret, non-mutating read ("ec2:DescribeVpcs")."""
    _, _, operation = permission.partition(":")
    return (
        permission in READ_OPERATIONS
        and permission not in FORBIDDEN
        and not operation.startswith(MUTATING_PREFIXES)
    )
