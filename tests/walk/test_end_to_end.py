"""Each class of issue 11 diagnosed end to end with diagnose_task(..., reader=...) on a real
broken moto account, in two regions, to the right kind and resource with the exact evidence;
each with a healthy decoy that looks wrong but works and must get no root cause."""

from __future__ import annotations

from typing import Any

import pytest

from tests.walk import messages
from tests.walk.world import World, build

REGIONS = ("eu-west-1", "ap-southeast-2")


def _top(world: World) -> Any:
    diagnosis = world.diagnose()
    assert diagnosis.root_causes, [
        (c.check, c.status, c.resource, c.detail[:200]) for c in diagnosis.checks
    ]
    return diagnosis.root_causes[0]


def _healthy(world: World) -> None:
    diagnosis = world.diagnose()
    assert diagnosis.root_causes == (), [
        (r.check, r.kind, r.resource, r.summary) for r in diagnosis.root_causes
    ]
    assert diagnosis.ruled_out


def _evidence(finding: Any) -> str:
    return " ".join([finding.summary, *(e.detail for e in finding.evidence)])


def _pull_timeout(world: World, ip: str = "3.112.64.17") -> None:
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip=ip
        )
    )


# -- 1. the NAT chain ------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_failed_nat_gateway_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.backend("ec2").nat_gateways[world.ids["nat_gateway"]].state = "failed"
    _pull_timeout(world)
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "network.ecr_unreachable",
        "nat_gateway",
        world.ids["nat_gateway"],
    )
    assert f"NAT gateway {world.ids['nat_gateway']} is failed." in _evidence(top)


@pytest.mark.parametrize("region", REGIONS)
def test_detached_igw_behind_the_nat_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").detach_internet_gateway(
        InternetGatewayId=world.ids["internet_gateway"], VpcId=world.ids["vpc"]
    )
    _pull_timeout(world)
    top = _top(world)
    assert (top.kind, top.resource) == ("internet_gateway", world.ids["internet_gateway"])
    assert f"is not attached to VPC {world.ids['vpc']}" in _evidence(top)


@pytest.mark.parametrize("region", REGIONS)
def test_nat_chain_decoy(aws: None, region: str) -> None:
    """A strict-looking custom ACL on the NAT subnet that still lets everything through."""
    world = build(region, "nat")
    ec2 = world.client("ec2")
    acl = ec2.create_network_acl(VpcId=world.ids["vpc"])["NetworkAcl"]["NetworkAclId"]
    for number, egress, cidr, low, high in (
        (100, False, "10.0.1.0/24", 443, 443),
        (110, False, "0.0.0.0/0", 1024, 65535),
        (100, True, "0.0.0.0/0", 443, 443),
        (110, True, "10.0.1.0/24", 1024, 65535),
    ):
        ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=number,
            Protocol="6",
            RuleAction="allow",
            Egress=egress,
            CidrBlock=cidr,
            PortRange={"From": low, "To": high},
        )
    association = next(
        a["NetworkAclAssociationId"]
        for a in ec2.describe_network_acls(NetworkAclIds=[world.ids["network_acl"]])["NetworkAcls"][
            0
        ]["Associations"]
        if a["SubnetId"] == world.ids["public_subnet"]
    )
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    _healthy(world)


# -- 2. blackhole routes -----------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_blackhole_route_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").delete_nat_gateway(NatGatewayId=world.ids["nat_gateway"])
    world.route(world.ids["route_table"]).State = "blackhole"
    _pull_timeout(world)
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.kind, top.resource) == ("route_table", world.ids["route_table"])
    assert "blackhole" in top.summary and world.ids["nat_gateway"] in top.summary
    assert not any(r.kind == "nat_gateway" for r in diagnosis.root_causes)


@pytest.mark.parametrize("region", REGIONS)
def test_blackhole_elsewhere_is_a_decoy(aws: None, region: str) -> None:
    """A blackhole route to an old peer network does not touch the default route."""
    world = build(region, "nat")
    ec2 = world.client("ec2")
    ec2.create_route(
        RouteTableId=world.ids["route_table"],
        DestinationCidrBlock="192.168.0.0/16",
        NatGatewayId=world.ids["nat_gateway"],
    )
    world.route(world.ids["route_table"], "192.168.0.0/16").State = "blackhole"
    _healthy(world)


# -- 3. prefix lists -----------------------------------------------------------------------------------


def _egress(world: World, permission: dict[str, Any]) -> None:
    ec2 = world.client("ec2")
    ec2.revoke_security_group_egress(
        GroupId=world.ids["task_sg"],
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(GroupId=world.ids["task_sg"], IpPermissions=[permission])


def _s3_list(world: World) -> str:
    return next(
        p["PrefixListId"]
        for p in world.client("ec2").describe_prefix_lists()["PrefixLists"]
        if p["PrefixListName"] == f"com.amazonaws.{world.region}.s3"
    )


@pytest.mark.parametrize("region", REGIONS)
def test_vpc_only_egress_blocks_s3_end_to_end(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _egress(
        world,
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
        },
    )
    _pull_timeout(world, "52.216.8.1")  # an address of moto's S3 prefix list
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "network.ecr_unreachable",
        "security_group",
        world.ids["task_sg"],
    )
    assert _s3_list(world) in top.summary and "10.0.0.0/16 (inside the VPC)" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_prefix_list_egress_decoy(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _egress(
        world,
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            "PrefixListIds": [{"PrefixListId": _s3_list(world)}],
        },
    )
    _healthy(world)


# -- 5. the image reference ----------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_ecr_host_typo_end_to_end(aws: None, region: str) -> None:
    typo = f"123456789012.dkr.erc.{region}.amazonaws.com"
    world = build(region, "nat", image=f"{typo}/web:v1")
    world.fail(
        messages.PULL_TIMEOUT.format(image=f"{typo}/web:v1", registry=typo, ip="3.112.64.17")
    )
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "image.uri_malformed",
        "image_uri",
        world.ids["task_definition"],
    )
    assert f"did you mean 123456789012.dkr.ecr.{region}.amazonaws.com?" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_public_registry_decoy(aws: None, region: str) -> None:
    """Not ECR at all, but a real public host reached through the NAT: nothing to fix."""
    _healthy(build(region, "nat", image="public.ecr.aws/docker/library/nginx:1.27"))


# -- 6. every endpoint by the same rule ----------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_missing_logs_endpoint_end_to_end(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    world.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[world.ids["endpoint.logs"]])
    world.fail(messages.LOGS_UNREACHABLE)
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.check, top.kind, top.resource) == (
        "network.logs_unreachable",
        "vpc_endpoint",
        world.ids["vpc"],
    )
    assert f"no interface endpoint for com.amazonaws.{region}.logs" in top.summary
    assert [r for r in diagnosis.root_causes if r.kind == "route_table"] == []


@pytest.mark.parametrize("region", REGIONS)
def test_logs_endpoint_admitting_by_cidr_is_a_decoy(aws: None, region: str) -> None:
    """The endpoint SG admits the VPC CIDR instead of the task SG: unusual, but it works."""
    world = build(region, "endpoints")
    ec2 = world.client("ec2")
    ec2.revoke_security_group_ingress(
        GroupId=world.ids["endpoint_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": world.ids["task_sg"]}],
            }
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=world.ids["endpoint_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            }
        ],
    )
    _healthy(world)
