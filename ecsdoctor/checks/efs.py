"""Volumes: an EFS volume mounts only when every hop from the task's ENI to the file system
holds; bind mounts, Docker volumes and FSx for Windows are recognized and named."""

from __future__ import annotations

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status
from ecsdoctor.reachability import efs_volumes

EFS_READS = (
    "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeMountTargets",
    "elasticfilesystem:DescribeMountTargetSecurityGroups",
    "elasticfilesystem:DescribeAccessPoints",
    "elasticfilesystem:DescribeFileSystemPolicy",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcAttribute",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
)


@check(Kind.EFS, reads=EFS_READS, rank=14)
def volume_unmountable(ctx: CheckContext) -> list[CheckResult]:
    """An EFS volume cannot mount: the file system, its mount target in the task's AZ, NFS 2049
    through the security groups, the access point or the file system policy is missing."""
    out: list[CheckResult] = []
    for volume in efs_volumes(ctx.snap):
        facts = tuple(Evidence(r.resource, r.source, r.fact) for r in volume.requirements)
        if not volume.failing:
            out.append(
                ctx.result(
                    Kind.EFS,
                    volume.file_system,
                    Status.RULED_OUT,
                    f"Volume {volume.volume} can mount EFS file system {volume.file_system}.",
                    facts,
                )
            )
            continue
        out.extend(
            ctx.result(
                Kind(r.kind),
                r.resource,
                Status.CONFIRMED,
                f"Volume {volume.volume} cannot mount {volume.file_system}: {r.fact}",
                (Evidence(r.resource, r.source, r.fact), *(f for f in facts if f.detail != r.fact)),
                r.fix,
            )
            for r in volume.failing
        )
    return out


_OTHER_VOLUMES = {
    "host": "bind mount",
    "dockerVolumeConfiguration": "Docker volume",
    "fsxWindowsFileServerVolumeConfiguration": "FSx for Windows File Server volume",
    "configuredAtLaunch": "volume configured at launch (EBS)",
}


@check(Kind.TASK_DEFINITION, reads=(), rank=60)
def other_volumes(ctx: CheckContext) -> list[CheckResult]:
    """Volumes other than EFS are recognized and named; ecsdoctor does not probe them live."""
    out: list[CheckResult] = []
    td = ctx.snap.task_definition_arn
    for volume in ctx.snap.task_definition.get("volumes", []) or []:
        if volume.get("efsVolumeConfiguration"):
            continue
        kind = next(
            (label for key, label in _OTHER_VOLUMES.items() if volume.get(key) is not None),
            "bind mount",
        )
        out.append(
            ctx.result(
                Kind.TASK_DEFINITION,
                f"{td}#volume/{volume.get('name')}",
                Status.RULED_OUT,
                f"Volume {volume.get('name')} of {td} is a {kind}; ecsdoctor recognizes it but has "
                "no live check for it.",
            )
        )
    return out
