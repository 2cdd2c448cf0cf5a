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

from ecsdoctor.errors import ReadError
from ecsdoctor.iam_policy import Decision, endpoint_policy_allows
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
class Request:
    """One call ECS makes on the task's behalf through an endpoint: evaluated, never sent."""

    endpoint: str  # endpoint suffix: "ecr.api", "ecr.dkr", "s3", "logs", ...
    action: str
    resource: str


@dataclass(frozen=True, slots=True)
class Destination:
    """What the task has to reach."""

    label: str  # "Amazon ECR in us-east-1", "docker.io"
    region: str | None  # None: the internet
    endpoints: tuple[str, ...]  # interface endpoint suffixes ("ecr.api", "ecr.dkr")
    needs_s3: bool = False
    requests: tuple[Request, ...] = ()  # what the endpoint policies on the path must let through


def layer_bucket(region: str) -> str:
    """The S3 bucket ECR serves image layers from in `region` (what an S3 endpoint policy
    must allow): https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html"""
    return f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*"


def ecr_destination(registry: str, region: str, repository_arn: str) -> Destination:
    """Pulling from a private ECR registry: ecr.api for the token, ecr.dkr for the manifest,
    S3 for the layers, and the exact calls ECS makes through each."""
    return Destination(
        f"Amazon ECR ({registry})",
        region,
        ("ecr.api", "ecr.dkr"),
        True,
        (
            Request("ecr.api", "ecr:GetAuthorizationToken", "*"),
            Request("ecr.dkr", "ecr:BatchGetImage", repository_arn),
            Request("ecr.dkr", "ecr:GetDownloadUrlForLayer", repository_arn),
            Request("s3", "s3:GetObject", layer_bucket(region)),
        ),
    )


def logs_destination(region: str, log_group_arn: str) -> Destination:
    """Writing awslogs streams: CreateLogStream and PutLogEvents through the logs endpoint."""
    stream = f"{log_group_arn}:log-stream:*"
    return Destination(
        f"CloudWatch Logs in {region}",
        region,
        ("logs",),
        False,
        (
            Request("logs", "logs:CreateLogStream", stream),
            Request("logs", "logs:PutLogEvents", stream),
        ),
    )


def secrets_destination(store: str, region: str, arns: Sequence[str]) -> Destination:
    """Fetching secrets: ssm:GetParameters or secretsmanager:GetSecretValue on each."""
    label = "AWS Secrets Manager" if store == "secretsmanager" else "AWS Systems Manager"
    action = "secretsmanager:GetSecretValue" if store == "secretsmanager" else "ssm:GetParameters"
    return Destination(
        f"{label} in {region}",
        region,
        (store,),
        False,
        tuple(Request(store, action, arn) for arn in arns),
    )


# No KMS or STS destination, by AWS's documented behaviour: Secrets Manager, SSM, ECR and
# CloudWatch Logs call KMS themselves for a customer key ("To decrypt the secret, Secrets Manager
# first decrypts the encrypted data key using the KMS key in AWS KMS":
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html), and ECS
# delivers task and execution role credentials itself. The endpoints ECS documents for tasks are
# ecr.api, ecr.dkr, S3, logs and secretsmanager/ssm
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html); a customer
# key matters through its state and key policy (checks.secrets, checks.iam), not the network.


@dataclass(frozen=True, slots=True)
class Reachability:
    """The verdict for one destination."""

    destination: Destination
    reachable: bool
    paths: tuple[Path, ...]
    chosen: Path | None  # the complete path, or the one the owner meant
    route_table: str
    no_route: Requirement | None  # the missing default route, when nothing else was meant
    taken: str | None = None  # which path the failure message's IP shows the task took


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


def _overlaps(cidr: str, target: str) -> bool:
    try:
        a = ipaddress.ip_network(cidr, strict=False)
        b = ipaddress.ip_network(target, strict=False)
    except ValueError:
        return False
    return a.version == b.version and a.overlaps(b)


def _acl_allows(acl: Raw, egress: bool, port: int, cidr: str) -> bool:
    """First matching rule by number decides, as network ACLs evaluate.

    For a specific destination (an IP, a prefix list's CIDR), a deny rule covering any part of it
    counts; for "the internet" (0.0.0.0/0) only rules covering all of it do, so a deny of one
    abusive range does not read as "no internet".
    """
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
        allow = entry.get("RuleAction") == "allow"
        if cidr_contains(block, cidr):
            return bool(allow)
        if not allow and cidr != "0.0.0.0/0" and _overlaps(block, cidr):
            return False
    return False


def _public(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def route_target(route: Raw) -> str:
    """What a route sends traffic to (igw-, nat-, tgw-, eni-, vpce-, pcx-...)."""
    for key in (
        "GatewayId",
        "NatGatewayId",
        "TransitGatewayId",
        "NetworkInterfaceId",
        "VpcPeeringConnectionId",
        "InstanceId",
        "LocalGatewayId",
        "CarrierGatewayId",
        "CoreNetworkArn",
    ):
        if route.get(key):
            return str(route[key])
    return "?"


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
        self.task_cidr = str(self.subnet.get("CidrBlock"))
        self.source_cidr = f"{config.private_ip}/32" if config.private_ip else self.task_cidr
        self.vpc_cidrs = [self.task_cidr]
        self.zone = str(self.subnet.get("AvailabilityZone", ""))

    # -- requirements shared by every path --------------------------------------------------
    def _allowed_443(self) -> list[str]:
        """Where the task's groups do allow TCP 443 to, for the sentence of a failing egress."""
        seen: list[str] = []
        for group in self.groups.values():
            for perm in group.get("IpPermissionsEgress", []):
                if not _covers(
                    perm.get("FromPort"), perm.get("ToPort"), str(perm.get("IpProtocol")), 443
                ):
                    continue
                names = [str(r.get("CidrIp")) for r in perm.get("IpRanges", [])]
                names += [str(p.get("PrefixListId")) for p in perm.get("PrefixListIds", [])]
                names += [str(p.get("GroupId")) for p in perm.get("UserIdGroupPairs", [])]
                seen += [n for n in names if n not in seen]
        return seen

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
        allowed = self._allowed_443()
        only = (
            f"; on 443 they allow only {', '.join(allowed)}"
            + (" (inside the VPC)" if all(self._in_vpc(a) for a in allowed) else "")
            if allowed
            else ""
        )
        return Requirement(
            False,
            "security_group",
            first,
            "ec2:DescribeSecurityGroups",
            f"The task's security groups ({sgs}) allow no outbound TCP 443 to {what}{only}.",
            f"aws ec2 authorize-security-group-egress --group-id {first} --protocol tcp "
            f"--port 443 --cidr 0.0.0.0/0",
        )

    def _in_vpc(self, cidr: str) -> bool:
        if not cidr[:1].isdigit():
            return cidr.startswith("sg-")
        try:
            return ipaddress.ip_network(cidr, strict=False).is_private
        except ValueError:
            return False

    def egress_prefix_list(self, pl_id: str, cidrs: Sequence[str], what: str) -> Requirement:
        """Egress 443 to every CIDR of a prefix list: by the list itself, by a customer-managed
        list whose entries cover them, or by CIDR ranges that cover them."""
        if not self.config.security_group_ids:
            return self.egress(["0.0.0.0/0"], [], what, (pl_id,))
        for group_id, group in self.groups.items():
            if sg_allows(group, "IpPermissionsEgress", 443, [], [], (pl_id,)):
                return Requirement(
                    True,
                    "security_group",
                    group_id,
                    "ec2:DescribeSecurityGroups",
                    f"Security group {group_id} allows outbound TCP 443 to prefix list {pl_id} "
                    f"({what}).",
                )
        covered = [c for c in cidrs if any(self._group_covers(g, c) for g in self.groups.values())]
        if cidrs and len(covered) == len(cidrs):
            return Requirement(
                True,
                "security_group",
                self.config.security_group_ids[0],
                "ec2:DescribeSecurityGroups",
                f"The task's security groups allow outbound TCP 443 to every CIDR of prefix list "
                f"{pl_id} ({what}).",
            )
        missing = [c for c in cidrs if c not in covered]
        failing = self.egress(missing or ["0.0.0.0/0"], [], f"{what} (prefix list {pl_id})")
        first = self.config.security_group_ids[0]
        return Requirement(
            False,
            "security_group",
            first,
            "ec2:DescribeSecurityGroups",
            failing.fact.rstrip(".")
            + f": {len(missing)} of its {len(cidrs)} CIDRs are not allowed"
            + (f" (e.g. {missing[0]})" if missing else "")
            + ".",
            f"aws ec2 authorize-security-group-egress --group-id {first} --ip-permissions "
            f"'IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{{PrefixListId={pl_id}}}]'",
        )

    def _group_covers(self, group: Raw, cidr: str) -> bool:
        """Does one group allow 443 to all of `cidr` through a CIDR or a customer prefix list?"""
        for perm in group.get("IpPermissionsEgress", []):
            if not _covers(
                perm.get("FromPort"), perm.get("ToPort"), str(perm.get("IpProtocol")), 443
            ):
                continue
            if any(cidr_contains(str(r.get("CidrIp", "")), cidr) for r in perm.get("IpRanges", [])):
                return True
            for pl in perm.get("PrefixListIds", []):
                entries = self.snap.prefix_list_cidrs(str(pl.get("PrefixListId")))
                if any(cidr_contains(e, cidr) for e in entries):
                    return True
        return False

    def acl(self, target: str, what: str) -> Requirement:
        return self.acl_for(self.subnet_id, [target], what)

    def acl_for(
        self,
        subnet_id: str,
        targets: Sequence[str],
        what: str,
        *,
        relay_from: str | None = None,
    ) -> Requirement:
        """The subnet's ACL lets 443 out to the targets and ephemeral ports back from them.

        `relay_from` is for a NAT gateway's subnet: traffic also arrives from the task subnet on
        443 and its return leaves towards it on ephemeral ports.
        """
        acl = self.snap.network_acl_for(subnet_id)
        if acl is None:
            return Requirement(
                True,
                "network_acl",
                subnet_id,
                "ec2:DescribeNetworkAcls",
                f"Subnet {subnet_id} has no network ACL on record.",
            )
        acl_id = str(acl.get("NetworkAclId"))
        problems: list[str] = []
        for target in targets:
            if not _acl_allows(acl, True, 443, target):
                problems.append(f"TCP 443 outbound to {target}")
            if not all(_acl_allows(acl, False, p, target) for p in EPHEMERAL_PORTS):
                problems.append(f"inbound ephemeral ports 1024-65535 from {target}")
            if problems:
                break
        if relay_from and not problems:
            if not _acl_allows(acl, False, 443, relay_from):
                problems.append(f"TCP 443 inbound from the task subnet {relay_from}")
            elif not all(_acl_allows(acl, True, p, relay_from) for p in EPHEMERAL_PORTS):
                problems.append(
                    f"outbound ephemeral ports 1024-65535 to the task subnet {relay_from}"
                )
        if not problems:
            return Requirement(
                True,
                "network_acl",
                acl_id,
                "ec2:DescribeNetworkAcls",
                f"Network ACL {acl_id} of subnet {subnet_id} allows TCP 443 out and ephemeral "
                f"ports back for {what}.",
            )
        broken = problems[0]
        return Requirement(
            False,
            "network_acl",
            acl_id,
            "ec2:DescribeNetworkAcls",
            f"Network ACL {acl_id} of subnet {subnet_id} denies {broken} for {what}.",
            f"Add an allow rule for {broken} to network ACL {acl_id} (before any deny rule).",
        )

    # -- internet paths ---------------------------------------------------------------------
    def internet_path(self, label: str, target_ip: str | None = None) -> Path | None:
        route = default_route(self.table)
        if route is None:
            return None
        target = route_target(route)
        state = str(route.get("State", "active"))
        active = state == "active"
        route_req = Requirement(
            active,
            "route_table",
            self.table_id,
            "ec2:DescribeRouteTables",
            f"Route table {self.table_id} of subnet {self.subnet_id} sends 0.0.0.0/0 to {target}"
            + (
                "."
                if active
                else f", but the route is a {state}: its target {target} no longer exists or "
                "no longer forwards traffic."
            ),
            f"aws ec2 replace-route --route-table-id {self.table_id} --destination-cidr-block "
            f"0.0.0.0/0 --nat-gateway-id <working-nat-gateway>  (the dead target is {target})",
        )
        dest = [f"{target_ip}/32"] if target_ip and _public(target_ip) else ["0.0.0.0/0"]
        common = [self.egress(dest, [], label), self.acl_for(self.subnet_id, dest, label)]
        if not active:
            # A dead route explains everything behind it: the target is not evaluated further.
            return Path("default route", (route_req, *common))
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
            return Path(
                "internet gateway",
                (route_req, self._igw(str(target), self.table_id), public_req, *common),
            )
        if str(target).startswith("nat-"):
            return Path("NAT gateway", (route_req, *self._nat(str(target), dest), *common))
        # Transit gateway, firewall or appliance: beyond what describe calls can prove.
        return Path(f"route via {target}", (route_req, *common))

    def _igw(self, igw_id: str, table_id: str) -> Requirement:
        """The internet gateway exists and is attached to this VPC."""
        igw = self.snap.internet_gateway(igw_id)
        attached = bool(
            igw
            and any(
                a.get("VpcId") == self.vpc_id and a.get("State") in ("available", "attached")
                for a in igw.get("Attachments", [])
            )
        )
        where = (
            "does not exist"
            if igw is None
            else "is attached to this VPC"
            if attached
            else f"is not attached to VPC {self.vpc_id}"
        )
        return Requirement(
            attached,
            "internet_gateway",
            igw_id,
            "ec2:DescribeInternetGateways",
            f"Internet gateway {igw_id} named by route table {table_id} {where}.",
            f"aws ec2 attach-internet-gateway --internet-gateway-id {igw_id} --vpc-id {self.vpc_id}"
            if igw is not None
            else f"Point 0.0.0.0/0 in {table_id} at the VPC's attached internet gateway.",
        )

    def _nat(self, nat_id: str, dest: Sequence[str]) -> list[Requirement]:
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
        if state != "available":
            return reqs  # a dead NAT explains the rest of its chain
        nat_subnet = str(nat.get("SubnetId"))
        nat_table = self.snap.route_table_for(nat_subnet)
        nat_table_id = str(nat_table["RouteTableId"])
        nat_route = default_route(nat_table)
        nat_target = route_target(nat_route) if nat_route else None
        nat_state = str((nat_route or {}).get("State", "active"))
        to_igw = bool(nat_target and nat_target.startswith("igw-"))
        if nat_route is not None and nat_state != "active":
            fact = (
                f"NAT gateway {nat_id} sits in subnet {nat_subnet} whose route table {nat_table_id} "
                f"sends 0.0.0.0/0 to {nat_target}, but the route is a {nat_state}: its target "
                f"{nat_target} no longer exists."
            )
            ok = False
        else:
            fact = (
                f"NAT gateway {nat_id} sits in subnet {nat_subnet} whose route table "
                f"{nat_table_id} "
                + (
                    f"routes 0.0.0.0/0 to internet gateway {nat_target}."
                    if to_igw
                    else f"sends 0.0.0.0/0 to {nat_target}, not to an internet gateway."
                    if nat_target
                    else "has no 0.0.0.0/0 route to an internet gateway."
                )
            )
            ok = to_igw
        reqs.append(
            Requirement(
                ok,
                "route_table",
                nat_table_id,
                "ec2:DescribeRouteTables",
                fact,
                f"aws ec2 replace-route --route-table-id {nat_table_id} --destination-cidr-block "
                f"0.0.0.0/0 --gateway-id <the VPC's internet gateway>"
                if nat_route
                else f"aws ec2 create-route --route-table-id {nat_table_id} "
                "--destination-cidr-block 0.0.0.0/0 --gateway-id <the VPC's internet gateway>",
            )
        )
        if ok and nat_target:
            reqs.append(self._igw(nat_target, nat_table_id))
        reqs.append(
            self.acl_for(
                nat_subnet, dest, f"NAT gateway {nat_id}'s traffic", relay_from=self.task_cidr
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
        if not any(name in interface for name in dest.endpoints) and (
            not interface or default_route(self.table) is not None
        ):
            # No endpoint for this service and no sign the owner chose endpoints over a route.
            return None
        reqs: list[Requirement] = []
        # A new endpoint can share the security group of the endpoints the owner already made.
        groups = sorted(
            {str(g.get("GroupId")) for e in interface.values() for g in e.get("Groups") or []}
        )
        endpoint_sg = " ".join(groups) if groups else "<endpoint-sg>"
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
                    f"--security-group-ids {endpoint_sg} --private-dns-enabled",
                )
            )
        if dest.needs_s3:
            s3 = self._s3(usable, dest.region)
            reqs.append(s3)
            if s3.ok:
                reqs.extend(self._s3_beyond(s3.resource, usable, dest))
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
                reqs.extend(self._endpoint_policy(interface[name], f"{prefix}{name}", name, dest))
        reqs.append(
            self.egress(self.vpc_cidrs, self._endpoint_groups(interface, dest), "the VPC endpoints")
        )
        reqs.append(self.acl(self.vpc_cidrs[0], "the VPC endpoints"))
        return Path("VPC endpoints", tuple(reqs))

    def _endpoint_policy(
        self, endpoint: Raw, service: str, name: str, dest: Destination
    ) -> list[Requirement]:
        """The endpoint's policy lets through each call ECS makes via it (never sent, evaluated)."""
        vpce = str(endpoint["VpcEndpointId"])
        asks = [r for r in dest.requests if r.endpoint == name]
        if not asks:
            return []
        principal = self.snap.execution_role_arn
        context = {"aws:SourceVpce": vpce, "aws:SourceVpc": self.vpc_id}
        verdicts = []
        for ask in asks:
            try:
                verdicts.append(
                    endpoint_policy_allows(
                        endpoint.get("PolicyDocument"),
                        vpce,
                        ask.action,
                        ask.resource,
                        principal_arn=principal,
                        context=context,
                    )
                )
            except ValueError as err:
                return [
                    Requirement(
                        True,
                        "vpc_endpoint",
                        vpce,
                        "ec2:DescribeVpcEndpoints",
                        f"The policy of endpoint {vpce} ({service}) could not be read: {err}.",
                    )
                ]
        denied = [
            v for v in verdicts if v.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)
        ]
        if not denied:
            return [
                Requirement(
                    True,
                    "vpc_endpoint",
                    vpce,
                    "ec2:DescribeVpcEndpoints",
                    f"The policy of endpoint {vpce} ({service}) lets "
                    + ", ".join(v.action for v in verdicts)
                    + " through.",
                )
            ]
        first = denied[0]
        return [
            Requirement(
                False,
                "vpc_endpoint",
                vpce,
                "ec2:DescribeVpcEndpoints",
                f"{first.detail} ECS makes this call through endpoint {vpce} ({service}) for the "
                "task, so the endpoint blocks it"
                + (
                    f" ({len(denied)} of {len(verdicts)} calls denied)." if len(denied) > 1 else "."
                ),
                f"Allow {first.action} on {first.resource} in the policy of endpoint {vpce} "
                f"(aws ec2 modify-vpc-endpoint --vpc-endpoint-id {vpce} --policy-document file://policy.json).",
            )
        ]

    def _s3_beyond(
        self, s3_id: str, endpoints: Sequence[Raw], dest: Destination
    ) -> list[Requirement]:
        """Behind an S3 gateway endpoint the traffic goes to S3's public ranges (the S3 prefix
        list), not to the VPC: the security groups and the ACL must allow them, and the
        endpoint policy must let the layer download through."""
        endpoint = next((e for e in endpoints if e.get("VpcEndpointId") == s3_id), None)
        if endpoint is None or endpoint.get("VpcEndpointType") != "Gateway":
            return [] if endpoint is None else self._endpoint_policy(endpoint, "s3", "s3", dest)
        pl_id = self._s3_prefix_list(s3_id)
        reqs: list[Requirement] = []
        if pl_id:
            cidrs = self.snap.prefix_list_cidrs(pl_id)
            what = f"Amazon S3 (the layers of the image, via gateway endpoint {s3_id})"
            reqs.append(self.egress_prefix_list(pl_id, cidrs, what))
            if cidrs:
                reqs.append(self.acl_for(self.subnet_id, cidrs, f"Amazon S3 ({pl_id})"))
        reqs.extend(self._endpoint_policy(endpoint, f"com.amazonaws.{dest.region}.s3", "s3", dest))
        return reqs

    def _s3_prefix_list(self, s3_id: str) -> str | None:
        for route in self.table.get("Routes", []):
            if route.get("GatewayId") == s3_id and route.get("DestinationPrefixListId"):
                return str(route["DestinationPrefixListId"])
        return self.snap.s3_prefix_list_id()

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
            # Not a requirement: the endpoint's DNS name resolves to its interfaces in every zone
            # it has, and the VPC's local route reaches them from any subnet (issue 11: "a subnet
            # in the task's AZ or reachable"); another zone costs cross-zone traffic, not access.
            reqs.append(
                Requirement(
                    True,
                    "vpc_endpoint",
                    vpce,
                    "ec2:DescribeSubnets",
                    f"Endpoint {vpce} ({service}) has "
                    + (
                        f"a network interface in {self.zone}."
                        if in_zone
                        else f"no network interface in the task's zone {self.zone} (only "
                        f"{', '.join(sorted(zones))}); the task reaches it across zones through "
                        "the VPC's local route."
                    ),
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


def taken_path(snap: TaskSnapshot, ip: str | None) -> str | None:
    """Which path the IP in a failure message shows: a private address is an interface
    endpoint in the VPC, an address in the S3 prefix list is S3, any other public one the
    internet (so private DNS of an endpoint was not in effect)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return None
    if address.is_private:
        return "VPC endpoints"
    pl_id = snap.s3_prefix_list_id()
    if pl_id and any(cidr_contains(c, f"{address}/32") for c in snap.prefix_list_cidrs(pl_id)):
        return "s3"
    return "internet"


def evaluate(
    snap: TaskSnapshot, dest: Destination, target_ip: str | None = None
) -> Reachability | None:
    """Evaluate every path to `dest` from the task's ENI; None outside awsvpc networking.

    `target_ip` is the address a failure message shows the task dialled: it decides which
    incomplete path the task actually took.
    """
    config = snap.network
    if config is None or not config.subnet_ids:
        return None
    ev = _Evaluator(snap, config)
    try:
        taken = taken_path(snap, target_ip)
    except ReadError:
        taken = None
    internet_ip = target_ip if taken == "internet" else None
    paths = [
        p
        for p in (ev.internet_path(dest.label, internet_ip), ev.endpoint_path(dest))
        if p is not None
    ]
    complete = [p for p in paths if p.complete]
    if complete:
        return Reachability(dest, True, tuple(paths), complete[0], ev.table_id, None, taken)
    if paths:
        # The path the message's IP shows wins; else the most nearly complete path is what the
        # owner meant, endpoints winning ties.
        def preference(p: Path) -> tuple[bool, float, bool]:
            shown = (taken == "VPC endpoints" and p.name == "VPC endpoints") or (
                taken == "internet" and p.name != "VPC endpoints"
            )
            return (shown, p.score, p.name == "VPC endpoints")

        chosen = max(paths, key=preference)
        return Reachability(dest, False, tuple(paths), chosen, ev.table_id, None, taken)
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
    return Reachability(dest, False, (), None, ev.table_id, no_route, taken)


# -- volumes: the EFS mount path (issue 11 item 7) ----------------------------------------------
NFS_PORT = 2049


@dataclass(frozen=True, slots=True)
class VolumeCheck:
    """What one EFS volume of the task definition needs, as observed."""

    volume: str
    file_system: str
    requirements: tuple[Requirement, ...]

    @property
    def failing(self) -> tuple[Requirement, ...]:
        """The requirements that do not hold."""
        return tuple(r for r in self.requirements if not r.ok)


def efs_volumes(snap: TaskSnapshot) -> list[VolumeCheck]:
    """Evaluate every EFS volume: file system available, a mount target in the task's AZ
    (available), its security groups admitting NFS 2049 from the task, the task's egress to it,
    the access point, the file system policy for the task role when IAM authorization is on,
    and VPC DNS so fs-ID.efs.REGION.amazonaws.com resolves. The first failing hop hides the
    hops behind it (a missing file system has no mount targets to judge).
    """
    out: list[VolumeCheck] = []
    for volume in snap.efs_volumes():
        config = volume.get("efsVolumeConfiguration") or {}
        fs_id = str(config.get("fileSystemId", ""))
        reqs = _efs_requirements(snap, fs_id, config)
        out.append(VolumeCheck(str(volume.get("name", "")), fs_id, tuple(reqs)))
    return out


def _efs_requirements(snap: TaskSnapshot, fs_id: str, config: Raw) -> list[Requirement]:
    source = "elasticfilesystem:DescribeFileSystems"
    fs = snap.efs_file_system(fs_id)
    if fs is None:
        return [
            Requirement(
                False,
                "efs",
                fs_id,
                source,
                f"EFS file system {fs_id} named by {snap.task_definition_arn} does not exist in "
                f"{snap.region}.",
                f"Point the volume at an existing file system in {snap.region}.",
            )
        ]
    state = str(fs.get("LifeCycleState", ""))
    reqs = [
        Requirement(
            state == "available",
            "efs",
            fs_id,
            source,
            f"EFS file system {fs_id} is {state}.",
            f"Wait for {fs_id} to become available or recreate it.",
        )
    ]
    if state != "available":
        return reqs
    zone = snap.availability_zone or ""
    config_net = snap.network
    targets = snap.efs_mount_targets(fs_id)
    in_zone = [
        t
        for t in targets
        if (t.get("AvailabilityZoneName") or _zone_of(snap, str(t.get("SubnetId", "")))) == zone
    ]
    zones = sorted(
        {
            str(t.get("AvailabilityZoneName") or _zone_of(snap, str(t.get("SubnetId"))) or "?")
            for t in targets
        }
    )
    target = in_zone[0] if in_zone else None
    subnet = config_net.subnet_ids[0] if config_net and config_net.subnet_ids else "<task-subnet>"
    reqs.append(
        Requirement(
            target is not None,
            "efs",
            fs_id,
            "elasticfilesystem:DescribeMountTargets",
            f"EFS file system {fs_id} has "
            + (
                f"mount target {target.get('MountTargetId')} in the task's zone {zone}."
                if target is not None
                else f"no mount target in the task's zone {zone}"
                + (f" (only in {', '.join(zones)})." if targets else " (no mount targets at all).")
            ),
            f"aws efs create-mount-target --file-system-id {fs_id} --subnet-id {subnet} "
            "--security-groups <sg-admitting-2049-from-the-task>",
        )
    )
    if target is None:
        return reqs
    mt_id = str(target.get("MountTargetId"))
    mt_state = str(target.get("LifeCycleState", "available"))
    reqs.append(
        Requirement(
            mt_state == "available",
            "efs",
            mt_id,
            "elasticfilesystem:DescribeMountTargets",
            f"Mount target {mt_id} of {fs_id} is {mt_state}.",
            f"Recreate mount target {mt_id}.",
        )
    )
    groups = snap.efs_mount_target_groups(mt_id)
    task_groups = config_net.security_group_ids if config_net else ()
    source_cidr = (
        f"{config_net.private_ip}/32"
        if config_net and config_net.private_ip
        else str(snap.subnet(subnet).get("CidrBlock"))
        if config_net and config_net.subnet_ids
        else "0.0.0.0/0"
    )
    described = snap.security_groups(groups)
    admits = any(
        sg_allows(g, "IpPermissions", NFS_PORT, [source_cidr], task_groups)
        for g in described.values()
    )
    first = groups[0] if groups else mt_id
    reqs.append(
        Requirement(
            admits,
            "security_group",
            first,
            "elasticfilesystem:DescribeMountTargetSecurityGroups",
            f"Security groups {', '.join(groups) or '(none)'} of mount target {mt_id} "
            + (
                "admit NFS (TCP 2049) from the task."
                if admits
                else "do not admit NFS (TCP 2049) from the task's security groups "
                f"({', '.join(task_groups) or source_cidr})."
            ),
            f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp "
            f"--port 2049 --source-group {(task_groups or ('<task-sg>',))[0]}",
        )
    )
    if task_groups:
        mt_ip = str(target.get("IpAddress") or "")
        targets_cidr = [f"{mt_ip}/32"] if mt_ip else [source_cidr]
        task_described = snap.security_groups(task_groups)
        out_ok = any(
            sg_allows(g, "IpPermissionsEgress", NFS_PORT, targets_cidr, groups)
            for g in task_described.values()
        )
        reqs.append(
            Requirement(
                out_ok,
                "security_group",
                task_groups[0],
                "ec2:DescribeSecurityGroups",
                f"The task's security groups ({', '.join(task_groups)}) "
                + (
                    f"allow outbound NFS (TCP 2049) to mount target {mt_id}."
                    if out_ok
                    else f"allow no outbound NFS (TCP 2049) to mount target {mt_id}."
                ),
                f"aws ec2 authorize-security-group-egress --group-id {task_groups[0]} "
                f"--protocol tcp --port 2049 --source-group {first}",
            )
        )
    auth = config.get("authorizationConfig") or {}
    access_point = auth.get("accessPointId")
    if access_point:
        point = snap.efs_access_point(str(access_point))
        belongs = point is not None and point.get("FileSystemId") == fs_id
        reqs.append(
            Requirement(
                belongs,
                "efs",
                str(access_point),
                "elasticfilesystem:DescribeAccessPoints",
                f"Access point {access_point} "
                + (
                    f"exists on {fs_id}."
                    if belongs
                    else "does not exist."
                    if point is None
                    else f"belongs to {point.get('FileSystemId')}, not {fs_id}."
                ),
                f"Create an access point on {fs_id} or fix authorizationConfig.accessPointId.",
            )
        )
    if str(auth.get("iam", "")).upper() == "ENABLED":
        reqs.append(_efs_policy(snap, fs_id, fs, config))
    support = (
        snap.vpc_attribute(str(snap.subnet(subnet)["VpcId"]), "enableDnsSupport")
        if (config_net and config_net.subnet_ids)
        else True
    )
    reqs.append(
        Requirement(
            support,
            "vpc_dns",
            str(snap.subnet(subnet)["VpcId"]) if config_net and config_net.subnet_ids else fs_id,
            "ec2:DescribeVpcAttribute",
            f"{fs_id}.efs.{snap.region}.amazonaws.com "
            + (
                "resolves in the VPC (DNS support on)."
                if support
                else "cannot resolve: the VPC has DNS support off."
            ),
            "aws ec2 modify-vpc-attribute --enable-dns-support '{\"Value\":true}' --vpc-id <vpc>",
        )
    )
    return reqs


def _zone_of(snap: TaskSnapshot, subnet_id: str) -> str:
    try:
        return str(snap.subnet(subnet_id).get("AvailabilityZone", ""))
    except ReadError:
        return ""


def _efs_policy(snap: TaskSnapshot, fs_id: str, fs: Raw, config: Raw) -> Requirement:
    """With IAM authorization the file system policy must let the task role mount (and write
    unless the mount is read-only); no policy at all lets every client that can connect in."""
    from ecsdoctor.iam_policy import PolicyDoc
    from ecsdoctor.iam_policy import evaluate as evaluate_policy

    text = snap.efs_file_system_policy(fs_id)
    role = snap.task_role_arn
    fs_arn = str(
        fs.get("FileSystemArn")
        or f"arn:aws:elasticfilesystem:{snap.region}:{snap.account}:file-system/{fs_id}"
    )
    if text is None:
        return Requirement(
            True,
            "efs",
            fs_id,
            "elasticfilesystem:DescribeFileSystemPolicy",
            f"File system {fs_id} has no file system policy (every client that can connect may mount).",
        )
    if role is None:
        return Requirement(
            False,
            "task_role",
            snap.task_definition_arn,
            "ecs:DescribeTaskDefinition",
            f"Volume of {fs_id} uses IAM authorization, but {snap.task_definition_arn} has no "
            "task role to authorize with.",
            f"Set taskRoleArn to a role that file system policy of {fs_id} allows elasticfilesystem:ClientMount.",
        )
    policies = [PolicyDoc(name, doc) for name, doc in snap.role_policies(role)]
    verdict = evaluate_policy(
        policies,
        "elasticfilesystem:ClientMount",
        fs_arn,
        principal_arn=role,
        resource_policy=PolicyDoc(f"resource:{fs_arn}", text),
    )
    denied = verdict.decision in (Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY)
    return Requirement(
        not denied,
        "efs",
        fs_id,
        "elasticfilesystem:DescribeFileSystemPolicy",
        f"Task role {role} and the file system policy of {fs_id}: {verdict.detail}",
        f"Allow elasticfilesystem:ClientMount for {role} in the file system policy of {fs_id}.",
    )
