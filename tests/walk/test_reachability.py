"""The whole path, hop by hop, evaluated against real broken moto accounts (two regions)."""

from __future__ import annotations

import json

import pytest

from ecsdoctor.arn import parse_task_ref
from ecsdoctor.reachability import (
    Reachability,
    ecr_destination,
    evaluate,
    logs_destination,
    taken_path,
)
from ecsdoctor.snapshot import TaskSnapshot
from tests.walk.world import World, build

REGIONS = ("eu-west-1", "ap-southeast-2")


def _snap(world: World) -> TaskSnapshot:
    return TaskSnapshot(world.reader(), parse_task_ref(world.task_arn, "walk"))


def _ecr(world: World, ip: str | None = None) -> Reachability:
    dest = ecr_destination(world.ids["registry"], world.region, world.ids["repository"])
    reach = evaluate(_snap(world), dest, ip)
    assert reach is not None
    return reach


def _failing(reach: Reachability) -> list[tuple[str, str]]:
    assert reach.chosen is not None
    return [(r.kind, r.resource) for r in reach.chosen.failing]


def _nat_acl(world: World, entries: list[dict[str, object]]) -> str:
    """Give the NAT gateway's subnet its own ACL with exactly these entries."""
    ec2 = world.client("ec2")
    acl = ec2.create_network_acl(VpcId=world.ids["vpc"])["NetworkAcl"]["NetworkAclId"]
    for entry in entries:
        ec2.create_network_acl_entry(NetworkAclId=acl, **entry)
    association = next(
        a["NetworkAclAssociationId"]
        for a in ec2.describe_network_acls(NetworkAclIds=[world.ids["network_acl"]])["NetworkAcls"][
            0
        ]["Associations"]
        if a["SubnetId"] == world.ids["public_subnet"]
    )
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    return acl


def _rule(
    number: int, egress: bool, cidr: str, low: int, high: int, action: str = "allow"
) -> dict[str, object]:
    return {
        "RuleNumber": number,
        "Protocol": "6",
        "RuleAction": action,
        "Egress": egress,
        "CidrBlock": cidr,
        "PortRange": {"From": low, "To": high},
    }


# -- the NAT chain -----------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_healthy_nat_chain_is_reachable(aws: None, region: str) -> None:
    reach = _ecr(build(region, "nat"))
    assert reach.reachable and reach.chosen and reach.chosen.name == "NAT gateway"
    facts = " ".join(r.fact for r in reach.chosen.requirements)
    assert "is attached to this VPC" in facts and "routes 0.0.0.0/0 to internet gateway" in facts


@pytest.mark.parametrize("region", REGIONS)
def test_failed_nat_gateway(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.backend("ec2").nat_gateways[world.ids["nat_gateway"]].state = "failed"
    reach = _ecr(world)
    assert not reach.reachable
    assert _failing(reach) == [("nat_gateway", world.ids["nat_gateway"])]
    assert "is failed" in reach.chosen.failing[0].fact  # type: ignore[union-attr]


@pytest.mark.parametrize("region", REGIONS)
def test_nat_subnet_without_route_to_igw(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").delete_route(
        RouteTableId=world.ids["public_route_table"], DestinationCidrBlock="0.0.0.0/0"
    )
    reach = _ecr(world)
    assert _failing(reach) == [("route_table", world.ids["public_route_table"])]
    assert "has no 0.0.0.0/0 route" in reach.chosen.failing[0].fact  # type: ignore[union-attr]


@pytest.mark.parametrize("region", REGIONS)
def test_detached_internet_gateway(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").detach_internet_gateway(
        InternetGatewayId=world.ids["internet_gateway"], VpcId=world.ids["vpc"]
    )
    reach = _ecr(world)
    assert _failing(reach) == [("internet_gateway", world.ids["internet_gateway"])]
    assert "is not attached to VPC" in reach.chosen.failing[0].fact  # type: ignore[union-attr]


@pytest.mark.parametrize("region", REGIONS)
def test_nat_subnet_acl_without_return_ports(aws: None, region: str) -> None:
    world = build(region, "nat")
    acl = _nat_acl(
        world,
        [
            _rule(100, False, "10.0.1.0/24", 443, 443),
            _rule(100, True, "0.0.0.0/0", 0, 65535),
        ],
    )
    reach = _ecr(world)
    assert _failing(reach) == [("network_acl", acl)]
    fact = reach.chosen.failing[0].fact  # type: ignore[union-attr]
    assert "inbound ephemeral ports" in fact and world.ids["public_subnet"] in fact


@pytest.mark.parametrize("region", REGIONS)
def test_nat_subnet_acl_decoy_that_works(aws: None, region: str) -> None:
    """A custom NAT-subnet ACL that looks strict (explicit denies) but lets the path through."""
    world = build(region, "nat")
    _nat_acl(
        world,
        [
            _rule(90, False, "198.51.100.0/24", 0, 65535, "deny"),
            _rule(100, False, "10.0.1.0/24", 443, 443),
            _rule(110, False, "0.0.0.0/0", 1024, 65535),
            _rule(100, True, "0.0.0.0/0", 443, 443),
            _rule(110, True, "10.0.1.0/24", 1024, 65535),
        ],
    )
    assert _ecr(world).reachable


@pytest.mark.parametrize("region", REGIONS)
def test_blackhole_route_names_the_dead_target(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").delete_nat_gateway(NatGatewayId=world.ids["nat_gateway"])
    world.route(world.ids["route_table"]).State = "blackhole"
    reach = _ecr(world)
    # The dead route explains the deleted NAT: one finding, on the route table.
    assert _failing(reach) == [("route_table", world.ids["route_table"])]
    fact = reach.chosen.failing[0].fact  # type: ignore[union-attr]
    assert "blackhole" in fact and world.ids["nat_gateway"] in fact


# -- prefix lists and egress ---------------------------------------------------------------------


def _egress_only(world: World, permissions: list[dict[str, object]]) -> None:
    ec2 = world.client("ec2")
    ec2.revoke_security_group_egress(
        GroupId=world.ids["task_sg"],
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(GroupId=world.ids["task_sg"], IpPermissions=permissions)


def _s3_list(world: World) -> str:
    return next(
        p["PrefixListId"]
        for p in world.client("ec2").describe_prefix_lists()["PrefixLists"]
        if p["PrefixListName"] == f"com.amazonaws.{world.region}.s3"
    )


@pytest.mark.parametrize("region", REGIONS)
def test_egress_only_to_the_vpc_cidr_blocks_s3_layers(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _egress_only(
        world,
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            }
        ],
    )
    reach = _ecr(world)
    assert _failing(reach) == [("security_group", world.ids["task_sg"])]
    fact = reach.chosen.failing[0].fact  # type: ignore[union-attr]
    assert _s3_list(world) in fact and "10.0.0.0/16" in fact and "inside the VPC" in fact


@pytest.mark.parametrize("region", REGIONS)
def test_egress_to_the_s3_prefix_list_is_enough(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _egress_only(
        world,
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                "PrefixListIds": [{"PrefixListId": _s3_list(world)}],
            },
        ],
    )
    assert _ecr(world).reachable


@pytest.mark.parametrize("region", REGIONS)
def test_customer_prefix_list_covering_s3_is_enough(aws: None, region: str) -> None:
    """Decoy: no AWS-managed list in the rule, but a customer list holding S3's ranges."""
    world = build(region, "endpoints")
    ec2 = world.client("ec2")
    s3_cidrs = [
        e["Cidr"]
        for e in ec2.get_managed_prefix_list_entries(PrefixListId=_s3_list(world))["Entries"]
    ]
    custom = ec2.create_managed_prefix_list(
        PrefixListName="s3-copy",
        MaxEntries=20,
        AddressFamily="IPv4",
        Entries=[{"Cidr": c} for c in s3_cidrs],
    )["PrefixList"]["PrefixListId"]
    _egress_only(
        world,
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                "PrefixListIds": [{"PrefixListId": custom}],
            },
        ],
    )
    assert _ecr(world).reachable


# -- endpoint policies ------------------------------------------------------------------------------


def _policy(world: World, service: str, statement: dict[str, object]) -> None:
    endpoint = world.backend("ec2").vpc_end_points[world.ids[f"endpoint.{service}"]]
    endpoint.policy_document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize("region", REGIONS)
def test_s3_endpoint_policy_without_the_layer_bucket(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _policy(
        world,
        "s3",
        {
            "Sid": "OwnBucketsOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::acme-data/*",
        },
    )
    reach = _ecr(world)
    assert _failing(reach) == [("vpc_endpoint", world.ids["endpoint.s3"])]
    fact = reach.chosen.failing[0].fact  # type: ignore[union-attr]
    assert f"prod-{region}-starport-layer-bucket" in fact and "s3:GetObject" in fact


@pytest.mark.parametrize("region", REGIONS)
def test_ecr_api_endpoint_policy_explicit_deny(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _policy(
        world,
        "ecr.api",
        {
            "Sid": "NoTokens",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
    )
    reach = _ecr(world)
    assert _failing(reach) == [("vpc_endpoint", world.ids["endpoint.ecr.api"])]
    assert "NoTokens" in reach.chosen.failing[0].fact  # type: ignore[union-attr]


@pytest.mark.parametrize("region", REGIONS)
def test_restrictive_endpoint_policy_that_still_allows(aws: None, region: str) -> None:
    """Decoy: a narrow S3 endpoint policy that names the layer bucket among its own."""
    world = build(region, "endpoints")
    _policy(
        world,
        "s3",
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": [
                "arn:aws:s3:::acme-data/*",
                f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",
            ],
        },
    )
    assert _ecr(world).reachable


# -- every endpoint by the same rule ------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_missing_logs_endpoint_beside_ecr_endpoints(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    world.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[world.ids["endpoint.logs"]])
    snap = _snap(world)
    reach = evaluate(snap, logs_destination(region, world.ids["log_group"]))
    assert reach is not None and not reach.reachable and reach.no_route is None
    assert _failing(reach) == [("vpc_endpoint", world.ids["vpc"])]
    assert f"com.amazonaws.{region}.logs" in reach.chosen.failing[0].fact  # type: ignore[union-attr]
    assert _ecr(world).reachable  # the ECR endpoints are complete


# -- the IP in the message -------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_message_ip_tells_the_path(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    snap = _snap(world)
    s3_ip = (
        world.client("ec2")
        .get_managed_prefix_list_entries(PrefixListId=_s3_list(world))["Entries"][0]["Cidr"]
        .split("/")[0]
    )
    assert taken_path(snap, "10.0.1.77") == "VPC endpoints"
    assert taken_path(snap, s3_ip) == "s3"
    assert taken_path(snap, "34.205.13.154") == "internet"
    assert taken_path(snap, "not-an-ip") is None
