"""The awslogs log group exists (or the driver may create it) in the region it names."""

from __future__ import annotations

from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.errors import ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, Status


@check(Kind.LOG_GROUP, reads=("logs:DescribeLogGroups",), rank=20)
def log_group_missing(ctx: CheckContext) -> list[CheckResult]:
    """The awslogs log group does not exist and the driver is not told to create it."""
    snap = ctx.snap
    out: list[CheckResult] = []
    seen: set[str] = set()
    for container, options in snap.log_configs():
        group = str(options.get("awslogs-group", ""))
        region = str(options.get("awslogs-region") or snap.region)
        arn = f"arn:aws:logs:{region}:{snap.account}:log-group:{group}"
        if not group or arn in seen:
            continue
        seen.add(arn)
        try:
            groups = snap.log_groups(group, region)
        except ReadError as err:
            out.append(ctx.gap(Kind.LOG_GROUP, arn, err))
            continue
        if any(g.get("logGroupName") == group for g in groups):
            out.append(
                ctx.result(
                    Kind.LOG_GROUP,
                    arn,
                    Status.RULED_OUT,
                    f"Log group {group} exists in {region}.",
                )
            )
            continue
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            out.append(
                ctx.result(
                    Kind.LOG_GROUP,
                    arn,
                    Status.RULED_OUT,
                    f"Log group {group} does not exist yet, but awslogs-create-group lets the "
                    "driver create it (the execution role needs logs:CreateLogGroup).",
                )
            )
            continue
        detail = (
            f"Container {container} logs to awslogs group {group} in {region}, which does not "
            "exist, and awslogs-create-group is not set."
        )
        out.append(
            ctx.result(
                Kind.LOG_GROUP,
                arn,
                Status.CONFIRMED,
                detail,
                (
                    Evidence(
                        arn, "logs:DescribeLogGroups", f"No log group named {group} in {region}."
                    ),
                ),
                f"aws logs create-log-group --log-group-name {group} --region {region}",
            )
        )
    return out
