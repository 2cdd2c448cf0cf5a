"""Each class of issue 11 diagnosed end to end with diagnose_task(..., reader=...) on a real
broken moto account, in two regions, to the right kind and resource with the exact evidence;
each with a healthy decoy that looks wrong but works and must get no root cause."""

from __future__ import annotations

import json
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


# -- 3. endpoint policies ---------------------------------------------------------------------------


def _endpoint_policy(world: World, service: str, statement: dict[str, Any]) -> None:
    endpoint = world.backend("ec2").vpc_end_points[world.ids[f"endpoint.{service}"]]
    endpoint.policy_document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize("region", REGIONS)
def test_s3_endpoint_policy_denies_layers_end_to_end(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _endpoint_policy(
        world,
        "s3",
        {
            "Sid": "OwnBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::acme-data/*",
        },
    )
    _pull_timeout(world, "52.216.8.1")
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "network.ecr_unreachable",
        "vpc_endpoint",
        world.ids["endpoint.s3"],
    )
    assert f"s3:GetObject on arn:aws:s3:::prod-{region}-starport-layer-bucket/*" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_ecr_api_endpoint_policy_deny_end_to_end(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _endpoint_policy(
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
    world.fail(messages.AUTH_TIMEOUT.format(region=region, ip="10.0.1.11"))
    top = _top(world)
    assert (top.kind, top.resource) == ("vpc_endpoint", world.ids["endpoint.ecr.api"])
    assert "statement NoTokens" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_endpoint_policy_decoy(aws: None, region: str) -> None:
    world = build(region, "endpoints")
    _endpoint_policy(
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
    _healthy(world)


# -- 4. the whole IAM decision -----------------------------------------------------------------------


def _boundary(world: World, actions: list[str]) -> str:
    iam = world.client("iam")
    arn = iam.create_policy(
        PolicyName=f"boundary-{world.region}",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.put_role_permissions_boundary(
        RoleName=world.ids["execution_role_name"], PermissionsBoundary=arn
    )
    return arn


@pytest.mark.parametrize("region", REGIONS)
def test_permissions_boundary_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    boundary = _boundary(world, ["logs:*"])
    world.fail(
        messages.PULL_DENIED.format(
            registry=world.ids["registry"],
            role=world.ids["execution_role_name"],
            repository=world.ids["repository"],
        )
    )
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "iam.execution_role_denied_ecr",
        "iam_policy",
        boundary,
    )
    assert f"Permissions boundary {boundary}" in top.summary and "boundary denies it" in _evidence(
        top
    )


@pytest.mark.parametrize("region", REGIONS)
def test_permissions_boundary_decoy(aws: None, region: str) -> None:
    world = build(region, "nat")
    _boundary(world, ["ecr:*", "logs:*", "secretsmanager:GetSecretValue", "kms:Decrypt"])
    _healthy(world)


def _repository_policy(world: World, statement: dict[str, Any]) -> None:
    world.client("ecr").set_repository_policy(
        repositoryName="web",
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


@pytest.mark.parametrize("region", REGIONS)
def test_repository_policy_deny_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    _repository_policy(
        world,
        {
            "Sid": "NoPulls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        },
    )
    world.fail(
        messages.PULL_DENIED.format(
            registry=world.ids["registry"],
            role=world.ids["execution_role_name"],
            repository=world.ids["repository"],
        )
    )
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "iam.execution_role_denied_ecr",
        "ecr_repository",
        world.ids["repository"],
    )
    assert "NoPulls" in _evidence(top)
    assert not any(r.kind == "execution_role" for r in world.diagnose().root_causes)


@pytest.mark.parametrize("region", REGIONS)
def test_repository_policy_decoy(aws: None, region: str) -> None:
    """A repository policy with a Deny that looks alarming but guards deletion only."""
    world = build(region, "nat")
    _repository_policy(
        world,
        {
            "Sid": "NoDelete",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["ecr:DeleteRepository", "ecr:BatchDeleteImage"],
        },
    )
    _healthy(world)


def _key_policy(world: World, principal: str) -> None:
    world.client("kms").put_key_policy(
        KeyId=world.ids["kms_key"],
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Admins",
                        "Effect": "Allow",
                        "Principal": {"AWS": principal},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )


@pytest.mark.parametrize("region", REGIONS)
def test_key_policy_without_delegation_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat", secrets=True)
    _key_policy(world, "arn:aws:iam::123456789012:role/key-admin")
    world.fail(messages.KMS_DENIED.format(secret=world.ids["secret"]))
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "iam.execution_role_denied_kms",
        "kms_key",
        world.ids["kms_key"],
    )
    assert "neither allows the principal nor delegates to the account" in _evidence(top)


@pytest.mark.parametrize("region", REGIONS)
def test_key_policy_delegating_to_the_account_is_a_decoy(aws: None, region: str) -> None:
    world = build(region, "nat", secrets=True)
    _key_policy(world, "arn:aws:iam::123456789012:root")
    _healthy(world)


# -- 5. DNS failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_vpc_dns_off_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").modify_vpc_attribute(
        VpcId=world.ids["vpc"], EnableDnsSupport={"Value": False}
    )
    world.fail(messages.DNS_FAILED.format(image=world.ids["image"], registry=world.ids["registry"]))
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "network.dns_unresolved",
        "vpc_dns",
        world.ids["vpc"],
    )
    assert "enableDnsSupport is false." in _evidence(top)


@pytest.mark.parametrize("region", REGIONS)
def test_custom_dhcp_dns_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat")
    ec2 = world.client("ec2")
    dopt = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name-servers", "Values": ["192.168.0.2"]}]
    )["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=world.ids["vpc"])
    world.fail(messages.DNS_FAILED.format(image=world.ids["image"], registry=world.ids["registry"]))
    top = _top(world)
    assert (top.kind, top.resource) == ("vpc_dns", dopt)
    assert "192.168.0.2" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_custom_dhcp_with_amazon_dns_is_a_decoy(aws: None, region: str) -> None:
    world = build(region, "nat")
    ec2 = world.client("ec2")
    dopt = ec2.create_dhcp_options(
        DhcpConfigurations=[
            {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]},
            {"Key": "domain-name", "Values": ["corp.example"]},
        ]
    )["DhcpOptions"]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=world.ids["vpc"])
    _healthy(world)


# -- 7. volumes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_efs_mount_target_sg_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    world.client("ec2").revoke_security_group_ingress(
        GroupId=world.ids["efs_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": world.ids["task_sg"]}],
            }
        ],
    )
    world.fail(messages.EFS_UNREACHABLE)
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "efs.volume_unmountable",
        "security_group",
        world.ids["efs_sg"],
    )
    assert world.ids["mount_target"] in top.summary and "2049" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_efs_sg_admitting_the_vpc_cidr_is_a_decoy(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    ec2 = world.client("ec2")
    ec2.revoke_security_group_ingress(
        GroupId=world.ids["efs_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": world.ids["task_sg"]}],
            }
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=world.ids["efs_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
            }
        ],
    )
    _healthy(world)


# -- 8. the container itself ---------------------------------------------------------------------------

INFRASTRUCTURE = {
    "route_table",
    "nat_gateway",
    "internet_gateway",
    "vpc_endpoint",
    "vpc_dns",
    "security_group",
    "network_acl",
    "execution_role",
    "iam_policy",
    "ecr_repository",
    "kms_key",
    "efs",
    "public_ip",
}


@pytest.mark.parametrize("region", REGIONS)
def test_out_of_memory_end_to_end(aws: None, region: str) -> None:
    world = build(region, "nat", memory=256)
    world.fail(
        messages.ESSENTIAL_EXITED,
        container_reason=messages.OOM,
        exit_code=137,
        stop_code="EssentialContainerExited",
    )
    top = _top(world)
    assert (top.check, top.kind, top.resource) == (
        "container.out_of_memory",
        "container",
        f"{world.ids['task_definition']}#app",
    )
    assert "hard limit 256 MiB" in top.summary and "task memory 1024 MiB" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_application_crash_gets_no_infrastructure_cause(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.fail(
        messages.ESSENTIAL_EXITED,
        container_reason="",
        exit_code=1,
        stop_code="EssentialContainerExited",
    )
    diagnosis = world.diagnose()
    assert diagnosis.root_causes and {r.kind for r in diagnosis.root_causes} <= {"container"}
    assert "exit code 1" in diagnosis.root_causes[0].summary


@pytest.mark.parametrize("region", REGIONS)
def test_user_stop_with_137_is_a_decoy(aws: None, region: str) -> None:
    """SIGKILL after a user's stop looks like an OOM kill but is not one."""
    world = build(region, "nat", memory=256)
    world.fail(
        "Task stopped by user", container_reason="", exit_code=137, stop_code="UserInitiated"
    )
    assert world.diagnose().root_causes == ()


# -- 6. every endpoint by the same rule ---------------------------------------------------------

# knowledge/resource_init/secrets_unreachable.toml (fourth example; its source is cited there),
# with this account's secret.
SECRETS_UNREACHABLE = (
    "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve "
    "secret from asm: There is a connection issue between the task and AWS Secrets Manager. Check "
    "your task network configuration. failed to fetch secret {secret} from secrets manager: "
    "operation error Secrets Manager: GetSecretValue, https response error StatusCode: 0, "
    "RequestID: , canceled, context deadline exceeded."
)


def _message_for(world: World, endpoint: str) -> str:
    ip = "10.0.1.200"  # a private address: the task dialled an interface endpoint
    if endpoint == "ecr.api":
        return messages.AUTH_TIMEOUT.format(region=world.region, ip=ip)
    if endpoint == "ecr.dkr":
        return messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip=ip
        )
    if endpoint == "logs":
        return messages.LOGS_UNREACHABLE
    return SECRETS_UNREACHABLE.format(secret=world.ids["secret"])


@pytest.mark.parametrize("endpoint", ["ecr.api", "ecr.dkr", "logs", "secretsmanager"])
@pytest.mark.parametrize("region", REGIONS)
def test_each_missing_endpoint_is_named_on_the_vpc(aws: None, region: str, endpoint: str) -> None:
    """The owner chose endpoints (interface endpoints, no NAT): whichever one the task needs is
    missing is the root cause on the VPC, never "no route"."""
    world = build(region, "endpoints", secrets=True)
    world.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[world.ids[f"endpoint.{endpoint}"]])
    world.fail(_message_for(world, endpoint))
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.kind, top.resource) == ("vpc_endpoint", world.ids["vpc"]), top.summary
    assert f"no interface endpoint for com.amazonaws.{region}.{endpoint}" in top.summary
    assert [r for r in diagnosis.root_causes if r.kind == "route_table"] == []


@pytest.mark.parametrize("region", REGIONS)
def test_no_kms_or_sts_endpoint_with_a_customer_key_is_a_decoy(aws: None, region: str) -> None:
    """Secrets Manager decrypts with the customer key itself ("To decrypt the secret, Secrets
    Manager first decrypts the encrypted data key using the KMS key in AWS KMS":
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html), and
    ECS documents only ecr.api, ecr.dkr, S3, logs and secretsmanager/ssm endpoints for tasks
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/vpc-endpoints.html); ECS
    delivers role credentials itself, so the task's network never calls KMS or STS to start."""
    world = build(region, "endpoints", secrets=True)
    world.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[world.ids["endpoint.kms"]])
    world.fail(SECRETS_UNREACHABLE.format(secret=world.ids["secret"]))
    _healthy(world)
