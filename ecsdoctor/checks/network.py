"""Can the task reach what its task definition needs: ECR, CloudWatch Logs, secrets, the internet."""

from __future__ import annotations

from ecsdoctor.arn import ImageRef
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.checks.image import registry_region_mismatch
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, ResultRef, Status
from ecsdoctor.reachability import Destination, Reachability, evaluate

#: What evaluating a path from the task's ENI reads: subnets, route tables, NAT gateways,
#: endpoints and their DNS settings, security groups, network ACLs, prefix lists.
NETWORK_READS = (
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeNatGateways",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribePrefixLists",
)


def _verdicts(
    ctx: CheckContext, reach: Reachability | None, depends_on: tuple[ResultRef, ...] = ()
) -> list[CheckResult]:
    if reach is None:
        return []
    label = reach.destination.label
    if reach.reachable and reach.chosen:
        facts = tuple(Evidence(r.resource, r.source, r.fact) for r in reach.chosen.requirements)
        return [
            ctx.result(
                Kind.ROUTE_TABLE,
                reach.route_table,
                Status.RULED_OUT,
                f"The task can reach {label} through its {reach.chosen.name} path.",
                facts,
            )
        ]
    if reach.no_route is not None:
        r = reach.no_route
        return [
            ctx.result(
                Kind(r.kind),
                r.resource,
                Status.CONFIRMED,
                r.fact,
                (Evidence(r.resource, r.source, r.fact),),
                r.fix,
                depends_on,
            )
        ]
    assert reach.chosen is not None
    path = reach.chosen
    context = tuple(Evidence(r.resource, r.source, r.fact) for r in path.requirements if r.ok)
    others = tuple(
        Evidence(
            p.failing[0].resource,
            p.failing[0].source,
            f"The {p.name} path is incomplete too: {p.failing[0].fact}",
        )
        for p in reach.paths
        if p is not path and p.failing
    )
    out: list[CheckResult] = []
    for r in path.failing:
        detail = f"The task cannot reach {label} through its {path.name} path: {r.fact}"
        out.append(
            ctx.result(
                Kind(r.kind),
                r.resource,
                Status.CONFIRMED,
                detail,
                (Evidence(r.resource, r.source, r.fact), *context, *others),
                r.fix,
                depends_on,
            )
        )
    return out


def _ecr_images(ctx: CheckContext) -> list[ImageRef]:
    return [ref for _, _, ref in ctx.snap.images() if isinstance(ref, ImageRef) and ref.is_ecr]


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=10)
def ecr_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task's network has no complete path to the Amazon ECR registry of its images."""
    out: list[CheckResult] = []
    seen: set[str] = set()
    for ref in _ecr_images(ctx):
        if ref.registry in seen:
            continue
        seen.add(ref.registry)
        assert ref.ecr_region is not None
        dest = Destination(
            f"Amazon ECR ({ref.registry})", ref.ecr_region, ("ecr.api", "ecr.dkr"), True
        )
        depends = (ctx.ref(registry_region_mismatch, ctx.snap.task_definition_arn),)
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest), depends))
    return out


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=10)
def internet_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task pulls from a public registry (Docker Hub, ghcr.io...) but has no internet path."""
    hosts = sorted(
        {
            ref.registry
            for _, _, ref in ctx.snap.images()
            if isinstance(ref, ImageRef) and ref.is_public_internet
        }
    )
    if not hosts:
        return []
    dest = Destination(", ".join(hosts), None, ())
    return _verdicts(ctx, evaluate(ctx.snap, dest))


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=12)
def logs_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task's network has no complete path to CloudWatch Logs for its awslogs driver."""
    regions = sorted(
        {str(opts.get("awslogs-region") or ctx.snap.region) for _, opts in ctx.snap.log_configs()}
    )
    out: list[CheckResult] = []
    for region in regions:
        dest = Destination(f"CloudWatch Logs in {region}", region, ("logs",))
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest)))
    return out


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=12)
def secrets_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task's network has no complete path to Secrets Manager or SSM for its secrets."""
    needs = sorted({(ref.store, ref.region) for ref in ctx.snap.secret_refs()})
    out: list[CheckResult] = []
    for store, region in needs:
        label = "AWS Secrets Manager" if store == "secretsmanager" else "AWS Systems Manager"
        dest = Destination(f"{label} in {region}", region, (store,))
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest)))
    return out
