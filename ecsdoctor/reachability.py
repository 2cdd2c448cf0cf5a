"""Can a task ENI reach an AWS service or the internet? DESIGN.md's any-of network model.

A destination is reachable when one path is complete: (1) a 0.0.0.0/0 route to an internet
gateway plus a public IP, (2) a 0.0.0.0/0 route to an available NAT gateway that itself routes to
an internet gateway, or (3) interface VPC endpoints for the service (available, in the task's AZ,
private DNS on, VPC DNS on, endpoint security group admitting 443 from the task) plus, for ECR,
S3 for the layers. Every path also needs security-group egress on 443 and a network ACL that lets
443 out and the ephemeral ports back. When no path is complete, the path the owner evidently meant
(a default route they added, endpoints they created) names the root cause: two of three ECR
endpoints present means the third is missing, not "add a NAT gateway".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecsdoctor.snapshot import NetworkConfig, TaskSnapshot

Raw = Mapping[str, Any]
EPHEMERAL_PORTS = (1024, 32768, 65535)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition a path needs, as observed."""

    ok: bool
    kind: str
    resource: str
    source: str
    fact: str  # evidence sentence, true whether ok or not
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Path:
    """One way to reach the destination and what it needs."""

    name: str
    requirements: tuple[Requirement, ...]

    @property
    def complete(self) -> bool:
        """Every requirement holds."""
        return all(r.ok for r in self.requirements)

    @property
    def score(self) -> float:
        """Share of requirements that hold: how nearly complete the path is."""
        if not self.requirements:
            return 0.0
        return sum(r.ok for r in self.requirements) / len(self.requirements)

    @property
    def failing(self) -> tuple[Requirement, ...]:
        """The requirements that do not hold."""
        return tuple(r for r in self.requirements if not r.ok)


@dataclass(frozen=True, slots=True)
class Destination:
    """What the task has to reach."""

    label: str  # "Amazon ECR in us-east-1", "docker.io"
    region: str | None  # None: the internet
    endpoints: tuple[str, ...]  # interface endpoint suffixes ("ecr.api", "ecr.dkr")
    needs_s3: bool = False


@dataclass(frozen=True, slots=True)
class Reachability:
    """The verdict for one destination."""

    destination: Destination
    reachable: bool
    paths: tuple[Path, ...]
    chosen: Path | None  # the complete path, or the one the owner meant
    route_table: str
    no_route: Requirement | None  # the missing default route, when nothing else was meant


def _covers(rule_from: int | None, rule_to: int | None, protocol: str, port: int) -> bool:
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False
    low = -1 if rule_from is None else rule_from
    high = 65535 if rule_to is None else rule_to
    return low == -1 or low <= port <= high


def cidr_contains(cidr: str, target: str) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
        other = ipaddress.ip_network(target, strict=False)
    except ValueError:
        return False
    return network.version == other.version and other.subnet_of(network)  # type: ignore[arg-type]


def sg_allows(
    group: Raw,
    direction: str,
    port: int,
    cidrs: Sequence[str],
    group_ids: Sequence[str],
    prefix_lists: Sequence[str] = (),
) -> bool:
    """Does the group allow TCP `port` to/from any of these CIDRs, groups or prefix lists?"""
    for perm in group.get(direction, []):
        if not _covers(perm.get("FromPort"), perm.get("ToPort"), str(perm.get("IpProtocol")), port):
            continue
        for r in perm.get("IpRanges", []):
            if any(cidr_contains(r.get("CidrIp", ""), c) for c in cidrs):
                return True
        for r in perm.get("Ipv6Ranges", []):
            if any(cidr_contains(r.get("CidrIpv6", ""), c) for c in cidrs):
                return True
        for pair in perm.get("UserIdGroupPairs", []):
            if pair.get("GroupId") in group_ids:
                return True
        for pl in perm.get("PrefixListIds", []):
            if pl.get("PrefixListId") in prefix_lists:
                return True
    return False


def _acl_allows(acl: Raw, egress: bool, port: int, cidr: str) -> bool:
    """First matching rule by number decides, as network ACLs evaluate."""
    entries = sorted(
        (e for e in acl.get("Entries", []) if bool(e.get("Egress")) == egress),
        key=lambda e: int(e.get("RuleNumber", 32767)),
    )
    for entry in entries:
        protocol = str(entry.get("Protocol", "-1"))
        port_range = entry.get("PortRange") or {}
        if protocol not in ("-1", "6"):
            continue
        if protocol == "6" and not (
            int(port_range.get("From", 0)) <= port <= int(port_range.get("To", 65535))
        ):
            continue
        block = entry.get("CidrBlock") or entry.get("Ipv6CidrBlock") or ""
        if not cidr_contains(block, cidr):
            continue
        return bool(entry.get("RuleAction") == "allow")
    return False


def default_route(table: Raw) -> Raw | None:
    """The table's 0.0.0.0/0 route, if any."""
    for route in table.get("Routes", []):
        if route.get("DestinationCidrBlock") == "0.0.0.0/0":
            found: Raw = route
            return found
    return None


class _Evaluator:
    """Builds the paths for one task; shared facts are computed once."""

    def __init__(self, snap: TaskSnapshot, config: NetworkConfig) -> None:
        self.snap = snap
        self.config = config
        self.subnet_id = config.subnet_ids[0]
        self.subnet = snap.subnet(self.subnet_id)
        self.vpc_id = str(self.subnet["VpcId"])
        self.table = snap.route_table_for(self.subnet_id)
        self.table_id = str(self.table["RouteTableId"])
        self.groups = snap.security_groups(config.security_group_ids)
        self.source_cidr = (
            f"{config.private_ip}/32" if config.private_ip else str(self.subnet.get("CidrBlock"))
        )
        self.vpc_cidrs = [str(self.subnet.get("CidrBlock"))]
        self.zone = str(self.subnet.get("AvailabilityZone", ""))

    # -- requirements shared by every path --------------------------------------------------
    def egress(
        self,
        targets: Sequence[str],
        group_ids: Sequence[str],
        what: str,
        prefix_lists: Sequence[str] = (),
    ) -> Requirement:
        sgs = ", ".join(self.config.security_group_ids) or "(none known)"
        if not self.config.security_group_ids:
            return Requirement(
                True,
                "security_group",
                self.snap.task_arn,
                self.config.source,
                "The task's security groups are not on record (its ENI is gone); egress not checked.",
            )
        for group_id, group in self.groups.items():
            if sg_allows(group, "IpPermissionsEgress", 443, targets, group_ids, prefix_lists):
                return Requirement(
                    True,
                    "security_group",
                    group_id,
                    "ec2:DescribeSecurityGroups",
                    f"Security group {group_id} allows outbound TCP 443 to {what}.",
                )
        first = self.config.security_group_ids[0]
        return Requirement(
            False,
            "security_group",
            first,
            "ec2:DescribeSecurityGroups",
            f"The task's security groups ({sgs}) allow no outbound TCP 443 to {what}.",
            f"aws ec2 authorize-security-group-egress --group-id {first} --protocol tcp "
            f"--port 443 --cidr 0.0.0.0/0",
        )

    def acl(self, target: str, what: str) -> Requirement:
        acl = self.snap.network_acl_for(self.subnet_id)
        if acl is None:
            return Requirement(
                True,
                "network_acl",
                self.subnet_id,
                "ec2:DescribeNetworkAcls",
                f"Subnet {self.subnet_id} has no network ACL on record.",
            )
        acl_id = str(acl.get("NetworkAclId"))
        out_ok = _acl_allows(acl, True, 443, target)
        in_ok = all(_acl_allows(acl, False, p, target) for p in EPHEMERAL_PORTS)
        if out_ok and in_ok:
            return Requirement(
                True,
                "network_acl",
                acl_id,
                "ec2:DescribeNetworkAcls",
                f"Network ACL {acl_id} allows TCP 443 out and ephemeral ports back from {what}.",
            )
        broken = "TCP 443 outbound" if not out_ok else "inbound ephemeral ports 1024-65535"
        return Requirement(
            False,
            "network_acl",
            acl_id,
            "ec2:DescribeNetworkAcls",
            f"Network ACL {acl_id} of subnet {self.subnet_id} denies {broken} for {what}.",
            f"Add an allow rule for {broken} to network ACL {acl_id} (before any deny rule).",
        )

    # -- internet paths ---------------------------------------------------------------------
    def internet_path(self, label: str) -> Path | None:
        route = default_route(self.table)
        if route is None:
            return None
        target = (
            route.get("GatewayId")
            or route.get("NatGatewayId")
            or route.get("TransitGatewayId")
            or route.get("NetworkInterfaceId")
            or "?"
        )
        active = route.get("State", "active") == "active"
        route_req = Requirement(
            active,
            "route_table",
            self.table_id,
            "ec2:DescribeRouteTables",
            f"Route table {self.table_id} of subnet {self.subnet_id} sends 0.0.0.0/0 to {target}"
            + ("." if active else f" but the route is {route.get('State')} (blackhole)."),
            f"Replace the blackhole 0.0.0.0/0 route in {self.table_id} with a working target.",
        )
        common = [self.egress(["0.0.0.0/0"], [], label), self.acl("0.0.0.0/0", label)]
        if str(target).startswith("igw-"):
            public = bool(self.config.assign_public_ip)
            known = self.config.assign_public_ip is not None
            public_req = Requirement(
                public or not known,
                "public_ip",
                self.snap.task_arn,
                self.config.source,
                f"The task's ENI {'has' if public else 'has no'} public IP"
                + ("" if known else " (unknown)")
                + f", in subnet {self.subnet_id} whose only way out is internet gateway {target}.",
                "Run the task (or update the service) with assignPublicIp=ENABLED, or move it to "
                "a private subnet routed through a NAT gateway.",
            )
            return Path("internet gateway", (route_req, public_req, *common))
        if str(target).startswith("nat-"):
            return Path("NAT gateway", (route_req, *self._nat(str(target)), *common))
        # Transit gateway, firewall or appliance: beyond what describe calls can prove.
        return Path(f"route via {target}", (route_req, *common))

    def _nat(self, nat_id: str) -> list[Requirement]:
        nat = self.snap.nat_gateway(nat_id)
        if nat is None:
            return [
                Requirement(
                    False,
                    "nat_gateway",
                    nat_id,
                    "ec2:DescribeNatGateways",
                    f"NAT gateway {nat_id} named by route table {self.table_id} does not exist.",
                    f"Point 0.0.0.0/0 in {self.table_id} at an existing NAT gateway.",
                )
            ]
        state = str(nat.get("State"))
        reqs = [
            Requirement(
                state == "available",
                "nat_gateway",
                nat_id,
                "ec2:DescribeNatGateways",
                f"NAT gateway {nat_id} is {state}.",
                f"Replace NAT gateway {nat_id} (state {state}) and point {self.table_id} at the new one.",
            )
        ]
        nat_subnet = str(nat.get("SubnetId"))
        nat_table = self.snap.route_table_for(nat_subnet)
        nat_route = default_route(nat_table)
        to_igw = bool(nat_route and str(nat_route.get("GatewayId", "")).startswith("igw-"))
        nat_table_id = str(nat_table["RouteTableId"])
        reqs.append(
            Requirement(
                to_igw,
                "route_table",
                nat_table_id,
                "ec2:DescribeRouteTables",
                f"NAT gateway {nat_id} sits in subnet {nat_subnet} whose route table {nat_table_id} "
                + (
                    "routes 0.0.0.0/0 to an internet gateway."
                    if to_igw
                    else "has no 0.0.0.0/0 route to an internet gateway."
                ),
                f"Add 0.0.0.0/0 -> the VPC's internet gateway to route table {nat_table_id}.",
            )
        )
        return reqs

    # -- VPC endpoint path ------------------------------------------------------------------
    def endpoint_path(self, dest: Destination) -> Path | None:
        if dest.region is None or dest.region != self.snap.region or not dest.endpoints:
            return None  # endpoints only serve their own region, never the internet
        all_endpoints = self.snap.vpc_endpoints(self.vpc_id)
        prefix = f"com.amazonaws.{dest.region}."
        usable = [e for e in all_endpoints if str(e.get("State", "")).lower() != "deleted"]
        interface = {
            str(e["ServiceName"])[len(prefix) :]: e
            for e in usable
            if str(e.get("ServiceName", "")).startswith(prefix)
            and e.get("VpcEndpointType") == "Interface"
        }
        if not any(name in interface for name in dest.endpoints):
            return None
        reqs: list[Requirement] = []
        for name in dest.endpoints:
            present = name in interface
            reqs.append(
                Requirement(
                    present,
                    "vpc_endpoint",
                    interface[name]["VpcEndpointId"] if present else self.vpc_id,
                    "ec2:DescribeVpcEndpoints",
                    f"VPC {self.vpc_id} has "
                    + (
                        f"interface endpoint {interface[name]['VpcEndpointId']} for {prefix}{name}."
                        if present
                        else f"no interface endpoint for {prefix}{name}."
                    ),
                    f"aws ec2 create-vpc-endpoint --vpc-id {self.vpc_id} --vpc-endpoint-type Interface "
                    f"--service-name {prefix}{name} --subnet-ids {self.subnet_id} "
                    f"--security-group-ids <endpoint-sg> --private-dns-enabled",
                )
            )
        if dest.needs_s3:
            reqs.append(self._s3(usable, dest.region))
        dns_support = self.snap.vpc_attribute(self.vpc_id, "enableDnsSupport")
        dns_hostnames = self.snap.vpc_attribute(self.vpc_id, "enableDnsHostnames")
        off = [
            n
            for n, v in (("enableDnsSupport", dns_support), ("enableDnsHostnames", dns_hostnames))
            if not v
        ]
        reqs.append(
            Requirement(
                not off,
                "vpc_dns",
                self.vpc_id,
                "ec2:DescribeVpcAttribute",
                f"VPC {self.vpc_id} has "
                + (
                    f"{' and '.join(off)} turned off, so endpoint private DNS names do not resolve."
                    if off
                    else "DNS support and DNS hostnames on."
                ),
                " ".join(
                    f"aws ec2 modify-vpc-attribute --vpc-id {self.vpc_id} --{n[0].lower()}"
                    f"{''.join('-' + c.lower() if c.isupper() else c for c in n[1:])}"
                    " '{\"Value\":true}';"
                    for n in off
                ).strip(),
            )
        )
        for name in dest.endpoints:
            if name in interface:
                reqs.extend(self._endpoint_health(interface[name], f"{prefix}{name}"))
        reqs.append(
            self.egress(self.vpc_cidrs, self._endpoint_groups(interface, dest), "the VPC endpoints")
        )
        reqs.append(self.acl(self.vpc_cidrs[0], "the VPC endpoints"))
        return Path("VPC endpoints", tuple(reqs))

    def _endpoint_groups(self, interface: Mapping[str, Raw], dest: Destination) -> list[str]:
        return [
            str(g.get("GroupId"))
            for name in dest.endpoints
            if name in interface
            for g in interface[name].get("Groups", [])
        ]

    def _s3(self, endpoints: Sequence[Raw], region: str) -> Requirement:
        name = f"com.amazonaws.{region}.s3"
        gateways = [
            e
            for e in endpoints
            if e.get("ServiceName") == name and e.get("VpcEndpointType") == "Gateway"
        ]
        interfaces = [
            e
            for e in endpoints
            if e.get("ServiceName") == name and e.get("VpcEndpointType") == "Interface"
        ]
        for gateway in gateways:
            if self.table_id in gateway.get("RouteTableIds", []):
                return Requirement(
                    True,
                    "vpc_endpoint",
                    str(gateway["VpcEndpointId"]),
                    "ec2:DescribeVpcEndpoints",
                    f"S3 gateway endpoint {gateway['VpcEndpointId']} is on route table {self.table_id} "
                    "(ECR image layers come from S3).",
                )
        if interfaces:
            return Requirement(
                True,
                "vpc_endpoint",
                str(interfaces[0]["VpcEndpointId"]),
                "ec2:DescribeVpcEndpoints",
                f"S3 interface endpoint {interfaces[0]['VpcEndpointId']} serves ECR image layers.",
            )
        if gateways:
            gid = str(gateways[0]["VpcEndpointId"])
            return Requirement(
                False,
                "vpc_endpoint",
                self.table_id,
                "ec2:DescribeVpcEndpoints",
                f"S3 gateway endpoint {gid} is not associated with the task's route table "
                f"{self.table_id}, so ECR image layers (stored in S3) cannot be downloaded.",
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {gid} --add-route-table-ids {self.table_id}",
            )
        return Requirement(
            False,
            "vpc_endpoint",
            self.vpc_id,
            "ec2:DescribeVpcEndpoints",
            f"VPC {self.vpc_id} has no S3 gateway endpoint ({name}), so ECR image layers "
            "(stored in S3) cannot be downloaded without internet access.",
            f"aws ec2 create-vpc-endpoint --vpc-id {self.vpc_id} --vpc-endpoint-type Gateway "
            f"--service-name {name} --route-table-ids {self.table_id}",
        )

    def _endpoint_health(self, endpoint: Raw, service: str) -> list[Requirement]:
        vpce = str(endpoint["VpcEndpointId"])
        state = str(endpoint.get("State", "")).lower()
        reqs = [
            Requirement(
                state == "available",
                "vpc_endpoint",
                vpce,
                "ec2:DescribeVpcEndpoints",
                f"Endpoint {vpce} ({service}) is {state}.",
                f"Accept or recreate endpoint {vpce}; it must be available.",
            )
        ]
        dns = bool(endpoint.get("PrivateDnsEnabled"))
        reqs.append(
            Requirement(
                dns,
                "vpc_endpoint",
                vpce,
                "ec2:DescribeVpcEndpoints",
                f"Endpoint {vpce} ({service}) has private DNS "
                + (
                    "enabled."
                    if dns
                    else "disabled, so the task still resolves the public service name."
                ),
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --private-dns-enabled",
            )
        )
        subnet_ids = list(endpoint.get("SubnetIds", []))
        if subnet_ids and self.zone:
            zones = {str(self.snap.subnet(s).get("AvailabilityZone")) for s in subnet_ids}
            in_zone = self.zone in zones
            reqs.append(
                Requirement(
                    in_zone,
                    "vpc_endpoint",
                    vpce,
                    "ec2:DescribeSubnets",
                    f"Endpoint {vpce} ({service}) has "
                    + (
                        f"a network interface in {self.zone}."
                        if in_zone
                        else f"no network interface in the task's zone {self.zone} (only {', '.join(sorted(zones))})."
                    ),
                    f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --add-subnet-ids {self.subnet_id}",
                )
            )
        group_ids = [str(g.get("GroupId")) for g in endpoint.get("Groups", [])]
        groups = self.snap.security_groups(group_ids)
        admits = any(
            sg_allows(g, "IpPermissions", 443, [self.source_cidr], self.config.security_group_ids)
            for g in groups.values()
        ) or (not self.config.security_group_ids and not group_ids)
        first = group_ids[0] if group_ids else vpce
        task_group = (self.config.security_group_ids or ("<task-sg>",))[0]
        task_groups = ", ".join(self.config.security_group_ids) or self.source_cidr
        reqs.append(
            Requirement(
                admits,
                "security_group",
                first,
                "ec2:DescribeSecurityGroups",
                f"Security group {first} of endpoint {vpce} ({service}) "
                + (
                    "admits TCP 443 from the task."
                    if admits
                    else f"does not admit TCP 443 from the task's security groups ({task_groups})."
                ),
                f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp --port 443 "
                f"--source-group {task_group}",
            )
        )
        return reqs


def _endpoint_names(dest: Destination) -> str:
    return ", ".join(f"com.amazonaws.{dest.region}.{e}" for e in dest.endpoints)


def evaluate(snap: TaskSnapshot, dest: Destination) -> Reachability | None:
    """Evaluate every path to `dest` from the task's ENI; None outside awsvpc networking."""
    config = snap.network
    if config is None or not config.subnet_ids:
        return None
    ev = _Evaluator(snap, config)
    paths = [p for p in (ev.internet_path(dest.label), ev.endpoint_path(dest)) if p is not None]
    complete = [p for p in paths if p.complete]
    if complete:
        return Reachability(dest, True, tuple(paths), complete[0], ev.table_id, None)
    if paths:
        # The most nearly complete path is what the owner meant; endpoints win ties.
        chosen = max(paths, key=lambda p: (p.score, p.name == "VPC endpoints"))
        return Reachability(dest, False, tuple(paths), chosen, ev.table_id, None)
    helpers = (
        "" if dest.region is None else (f" and VPC {ev.vpc_id} has no interface endpoints for it")
    )
    no_route = Requirement(
        False,
        "route_table",
        ev.table_id,
        "ec2:DescribeRouteTables",
        f"Route table {ev.table_id} of subnet {ev.subnet_id} has no 0.0.0.0/0 route (no NAT or "
        f"internet gateway){helpers}, so the task cannot reach {dest.label}.",
        (
            f"Add a 0.0.0.0/0 route to a NAT gateway in {ev.table_id}"
            + (
                ""
                if dest.region is None
                else f", or create the interface endpoints {_endpoint_names(dest)}"
                + (f" and the S3 gateway endpoint on {ev.table_id}" if dest.needs_s3 else "")
            )
            + (". VPC endpoints cannot serve a public registry." if dest.region is None else ".")
        ),
    )
    return Reachability(dest, False, (), None, ev.table_id, no_route)
