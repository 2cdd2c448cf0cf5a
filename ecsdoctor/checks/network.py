"""Can the task reach what its task definition needs: ECR, CloudWatch Logs, secrets, the internet."""

from __future__ import annotations

from ecsdoctor.arn import ImageRef, dns_failure, registry_typo
from ecsdoctor.checks.base import CheckContext, check
from ecsdoctor.checks.image import registry_region_mismatch
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Evidence, ResultRef, Status
from ecsdoctor.reachability import (
    Destination,
    Reachability,
    ecr_destination,
    evaluate,
    logs_destination,
    secrets_destination,
)

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
    "ec2:DescribeInternetGateways",
    "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries",
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
        dest = ecr_destination(ref.registry, ref.ecr_region, str(ref.repository_arn))
        depends = (ctx.ref(registry_region_mismatch, ctx.snap.task_definition_arn),)
        ip = ctx.captures.get("ip")
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest, ip), depends))
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
    return _verdicts(ctx, evaluate(ctx.snap, dest, ctx.captures.get("ip")))


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=12)
def logs_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task's network has no complete path to CloudWatch Logs for its awslogs driver."""
    groups = sorted(
        {
            (
                str(opts.get("awslogs-region") or ctx.snap.region),
                str(opts.get("awslogs-group", "")),
            )
            for _, opts in ctx.snap.log_configs()
        }
    )
    out: list[CheckResult] = []
    for region in sorted({r for r, _ in groups}):
        arns = [
            f"arn:aws:logs:{region}:{ctx.snap.account}:log-group:{g}"
            for r, g in groups
            if r == region
        ]
        dest = logs_destination(region, arns[0])
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest)))
    return out


@check(Kind.ROUTE_TABLE, reads=NETWORK_READS, rank=12)
def secrets_unreachable(ctx: CheckContext) -> list[CheckResult]:
    """The task's network has no complete path to Secrets Manager or SSM for its secrets."""
    refs = ctx.snap.secret_refs()
    needs = sorted({(ref.store, ref.region) for ref in refs})
    out: list[CheckResult] = []
    for store, region in needs:
        arns = sorted({r.arn for r in refs if (r.store, r.region) == (store, region)})
        dest = secrets_destination(store, region, arns)
        out.extend(_verdicts(ctx, evaluate(ctx.snap, dest)))
    return out


def _reasons(ctx: CheckContext) -> list[str]:
    task = ctx.snap.task
    texts = [str(task.get("stoppedReason") or "")]
    texts += [str(c.get("reason") or "") for c in task.get("containers", []) or []]
    return [t for t in texts if t]


@check(
    Kind.VPC_DNS,
    reads=(
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
    ),
    rank=9,
)
def dns_unresolved(ctx: CheckContext) -> list[CheckResult]:
    """The task could not resolve a host name (`lookup HOST: no such host`): a mistyped
    registry host, VPC DNS resolution turned off, custom DHCP DNS servers that do not answer for
    AWS names, or a host that simply does not exist."""
    failure = next((f for f in (dns_failure(t) for t in _reasons(ctx)) if f), None)
    if failure is None:
        return []
    snap = ctx.snap
    td = snap.task_definition_arn
    images = {
        ref.registry: container for container, _, ref in snap.images() if isinstance(ref, ImageRef)
    }
    raw_hosts = {image.split("/", 1)[0] for _, image, _ in snap.images()}
    said = Evidence(
        snap.task_arn,
        "stoppedReason",
        f"lookup {failure.host}: {failure.error}"
        + (f" (resolver {failure.server})" if failure.server else ""),
    )
    typo = registry_typo(failure.host)
    if typo is not None and failure.host in raw_hosts:
        return []  # image.uri_malformed names the typo and the host meant
    config = snap.network
    if config is None or not config.subnet_ids:
        return []
    vpc_id = str(snap.subnet(config.subnet_ids[0])["VpcId"])
    if not snap.vpc_attribute(vpc_id, "enableDnsSupport"):
        detail = (
            f"VPC {vpc_id} has enableDnsSupport turned off, so the Amazon DNS server does not "
            f"answer and the task could not resolve {failure.host}."
        )
        return [
            ctx.result(
                Kind.VPC_DNS,
                vpc_id,
                Status.CONFIRMED,
                detail,
                (Evidence(vpc_id, "ec2:DescribeVpcAttribute", "enableDnsSupport is false."), said),
                f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} --enable-dns-support "
                "'{\"Value\":true}'",
            )
        ]
    vpcs = snap.reader.call("ec2", "DescribeVpcs", region=snap.region, VpcIds=[vpc_id]).get(
        "Vpcs", []
    )
    dhcp_id = str((vpcs[0] if vpcs else {}).get("DhcpOptionsId") or "")
    servers: list[str] = []
    if dhcp_id and dhcp_id != "default":
        options = snap.reader.call(
            "ec2", "DescribeDhcpOptions", region=snap.region, DhcpOptionsIds=[dhcp_id]
        ).get("DhcpOptions", [])
        for option in (options[0] if options else {}).get("DhcpConfigurations", []):
            if option.get("Key") == "domain-name-servers":
                servers = [str(v.get("Value")) for v in option.get("Values", [])]
    if servers and "AmazonProvidedDNS" not in servers:
        detail = (
            f"VPC {vpc_id} uses DHCP options {dhcp_id} with custom DNS servers "
            f"({', '.join(servers)}) instead of AmazonProvidedDNS, and they did not resolve "
            f"{failure.host}."
        )
        return [
            ctx.result(
                Kind.VPC_DNS,
                dhcp_id,
                Status.CONFIRMED,
                detail,
                (Evidence(dhcp_id, "ec2:DescribeDhcpOptions", detail), said),
                f"Make the DNS servers {', '.join(servers)} forward AWS names to the VPC resolver, "
                f"or add AmazonProvidedDNS to the DHCP options of {vpc_id}.",
            )
        ]
    dns_fact = Evidence(
        vpc_id,
        "ec2:DescribeVpcAttribute",
        f"VPC {vpc_id} resolves names with the Amazon DNS server (DNS support on"
        + (f", DHCP options {dhcp_id}" if dhcp_id else "")
        + ").",
    )
    if failure.host in images:
        detail = (
            f"Container {images[failure.host]} of {td} pulls from {failure.host}, a host that "
            f"does not exist (NXDOMAIN) while the VPC's DNS works."
        )
        return [
            ctx.result(
                Kind.IMAGE_URI,
                td,
                Status.CONFIRMED,
                detail,
                (said, dns_fact),
                f"Fix the registry host of container {images[failure.host]} in a new revision of {td}.",
            )
        ]
    return [
        ctx.result(
            Kind.VPC_DNS,
            vpc_id,
            Status.RULED_OUT,
            f"VPC {vpc_id}'s DNS resolution is on with the Amazon DNS server; {failure.host} did "
            "not resolve for another reason.",
            (said, dns_fact),
        )
    ]
