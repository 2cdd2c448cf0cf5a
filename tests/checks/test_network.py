"""Table tests of the network checks: can the task's ENI reach ECR, the internet, Logs, secrets?

Each row builds one VPC as describe calls return it: the task's subnet and route table, a public
subnet with a NAT gateway, security groups, a network ACL and interface endpoints, then breaks
one part of the path the owner meant.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pytest

from ecsdoctor.checks import CheckContext
from ecsdoctor.checks.network import (
    dns_unresolved,
    ecr_unreachable,
    internet_unreachable,
    logs_unreachable,
    secrets_unreachable,
)
from ecsdoctor.errors import ApiError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import (
    acl_entry,
    gateway_endpoint,
    interface_endpoint,
    nat_gateway,
    network_acl,
    route_table,
    rule,
    security_group,
    subnet,
)
from tests.checks.table import (
    EAST,
    TASK_ID,
    WEST,
    Built,
    Row,
    Where,
    stopped_task,
    task_context,
    task_definition,
    task_reader,
    verify,
)

ROUTES = "ec2:DescribeRouteTables"
ENDPOINTS = "ec2:DescribeVpcEndpoints"


@dataclass(frozen=True)
class Vpc:
    """One region's VPC and the ids of everything in it."""

    where: Where
    id: str
    cidr: str
    task_subnet: str
    task_cidr: str
    other_subnet: str  # another zone, for endpoints placed elsewhere
    public_subnet: str
    private_table: str
    public_table: str
    igw: str
    nat: str
    task_sg: str
    endpoint_sg: str
    acl: str
    eni: str
    ip: str

    @property
    def zone(self) -> str:
        return f"{self.where.region}a"

    def endpoint_id(self, service: str) -> str:
        return "vpce-0" + hashlib.sha256(f"{self.id}/{service}".encode()).hexdigest()[:16]


EAST_VPC = Vpc(
    EAST,
    "vpc-0e1f2a3b4c5d6e7f8",
    "10.0.0.0/16",
    "subnet-0a1b2c3d4e5f60718",
    "10.0.1.0/24",
    "subnet-0b2c3d4e5f6071829",
    "subnet-0d4e5f6071829304a",
    "rtb-0a9b8c7d6e5f40312",
    "rtb-0f1e2d3c4b5a69788",
    "igw-0c4a5b6d7e8f90123",
    "nat-0a1b2c3d4e5f67890",
    "sg-0123456789abcdef0",
    "sg-0aaabbbcccddd1234",
    "acl-0d1e2f3a4b5c6d7e8",
    "eni-0f1a2b3c4d5e6f708",
    "10.0.1.23",
)
WEST_VPC = Vpc(
    WEST,
    "vpc-07a8b9c0d1e2f3a4b",
    "10.1.0.0/16",
    "subnet-01f2e3d4c5b6a7980",
    "10.1.1.0/24",
    "subnet-02e3d4c5b6a798011",
    "subnet-03d4c5b6a79801122",
    "rtb-01a2b3c4d5e6f7081",
    "rtb-02b3c4d5e6f708192",
    "igw-03c4d5e6f70819203",
    "nat-04d5e6f7081920314",
    "sg-0a9b8c7d6e5f40312",
    "sg-0b8c7d6e5f4031221",
    "acl-05e6f708192031425",
    "eni-06f70819203142536",
    "10.1.1.57",
)


def _routing(vpc: Vpc, route: str) -> dict[str, str] | None:
    return {
        "none": None,
        "nat": {"NatGatewayId": vpc.nat},
        "igw": {"GatewayId": vpc.igw},
        "tgw": {"TransitGatewayId": "tgw-0123abcd4567ef890"},
    }[route]


def _world(
    vpc: Vpc,
    *,
    images: tuple[str, ...] = (),
    awslogs_region: str | None = None,
    secrets: tuple[str, ...] = (),
    route: str = "none",
    route_state: str = "active",
    nat_state: str = "available",
    nat_to_igw: bool = True,
    public_ip: bool = False,
    endpoints: tuple[str, ...] = (),
    endpoint_region: str | None = None,
    private_dns: bool = True,
    endpoint_subnet: str | None = None,
    s3: str | None = None,  # None, "task-table" or "other-table"
    egress: list[dict[str, Any]] | None = None,
    acl_entries: list[dict[str, Any]] | None = None,
    eni_gone: bool = False,
    network_mode: str = "awsvpc",
    deny: str | None = None,
) -> Built:
    """A task in `vpc`'s task subnet whose containers need `images`, logs and `secrets`."""
    where = vpc.where
    containers: list[dict[str, Any]] = []
    for index, image in enumerate(images or (f"{where.registry()}/api:1.4.2",)):
        container: dict[str, Any] = {"name": f"c{index}", "image": image, "essential": True}
        if index == 0 and awslogs_region:
            container["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/api",
                    "awslogs-region": awslogs_region,
                    "awslogs-stream-prefix": "api",
                },
            }
        if index == 0 and secrets:
            container["secrets"] = [
                {"name": f"S{i}", "valueFrom": v} for i, v in enumerate(secrets)
            ]
        containers.append(container)
    definition = task_definition(
        where,
        "api",
        17,
        containers,
        networkMode=network_mode,
        executionRoleArn=where.role_arn("ecsTaskExecutionRole"),
    )
    reader = task_reader(where, definition)
    region = where.region

    # The task's ENI (or its absence once a stopped Fargate task released it).
    if eni_gone:
        reader.on(
            "ec2",
            "DescribeNetworkInterfaces",
            ApiError(
                "ec2:DescribeNetworkInterfaces",
                "InvalidNetworkInterfaceID.NotFound",
                f"The networkInterface ID '{vpc.eni}' does not exist",
            ),
            region=region,
        )
    else:
        eni: dict[str, Any] = {
            "AvailabilityZone": vpc.zone,
            "Description": f"arn:aws:ecs:{region}:{where.account}:attachment/3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            "Groups": [{"GroupId": vpc.task_sg, "GroupName": "api-tasks"}],
            "InterfaceType": "interface",
            "NetworkInterfaceId": vpc.eni,
            "PrivateIpAddress": vpc.ip,
            "Status": "in-use",
            "SubnetId": vpc.task_subnet,
            "VpcId": vpc.id,
        }
        if public_ip:
            eni["Association"] = {"PublicIp": "3.91.17.204", "IpOwnerId": "amazon"}
        reader.on(
            "ec2",
            "DescribeNetworkInterfaces",
            {"NetworkInterfaces": [eni]},
            region=region,
            NetworkInterfaceIds=[vpc.eni],
        )

    subnets = {
        vpc.task_subnet: (vpc.task_cidr, vpc.zone),
        vpc.other_subnet: (vpc.task_cidr.replace(".1.0/", ".2.0/"), f"{region}b"),
        vpc.public_subnet: (vpc.task_cidr.replace(".1.0/", ".101.0/"), vpc.zone),
    }
    for subnet_id, (cidr, zone) in subnets.items():
        reader.on(
            "ec2",
            "DescribeSubnets",
            {"Subnets": [subnet(subnet_id, vpc.id, cidr, zone, where.account)]},
            region=region,
            SubnetIds=[subnet_id],
        )
    tables = [
        route_table(
            vpc.private_table,
            vpc.id,
            vpc.cidr,
            [vpc.task_subnet, vpc.other_subnet],
            _routing(vpc, route),
            state=route_state,
        ),
        route_table(
            vpc.public_table,
            vpc.id,
            vpc.cidr,
            [vpc.public_subnet],
            {"GatewayId": vpc.igw} if nat_to_igw else None,
            main=True,
        ),
    ]
    reader.on(
        "ec2",
        "DescribeRouteTables",
        {"RouteTables": tables},
        region=region,
        Filters=[{"Name": "vpc-id", "Values": [vpc.id]}],
    )
    reader.on(
        "ec2",
        "DescribeNatGateways",
        {"NatGateways": [nat_gateway(vpc.nat, vpc.id, vpc.public_subnet, nat_state)]},
        region=region,
        NatGatewayIds=[vpc.nat],
    )
    reader.on(
        "ec2",
        "DescribeSecurityGroups",
        {"SecurityGroups": [security_group(vpc.task_sg, vpc.id, "api-tasks", [], egress)]},
        region=region,
        GroupIds=[vpc.task_sg],
    )
    reader.on(
        "ec2",
        "DescribeSecurityGroups",
        {
            "SecurityGroups": [
                security_group(
                    vpc.endpoint_sg, vpc.id, "vpc-endpoints", [rule(443, group=vpc.task_sg)]
                )
            ]
        },
        region=region,
        GroupIds=[vpc.endpoint_sg],
    )
    # Beyond the task's subnet: the NAT subnet's ACL, the VPC's internet gateway and the S3
    # prefix list, which the walk reads one hop further (a row that breaks them plants its own).
    reader.on(
        "ec2",
        "DescribeNetworkAcls",
        {"NetworkAcls": [network_acl(vpc.acl, vpc.id, vpc.public_subnet, acl_entries)]},
        region=region,
    )
    reader.on(
        "ec2",
        "DescribeInternetGateways",
        {
            "InternetGateways": [
                {
                    "InternetGatewayId": vpc.igw,
                    "Attachments": [{"VpcId": vpc.id, "State": "available"}],
                }
            ]
        },
        region=region,
    )
    reader.on(
        "ec2",
        "DescribePrefixLists",
        {
            "PrefixLists": [
                {
                    "PrefixListId": "pl-63a5400a",
                    "PrefixListName": f"com.amazonaws.{region}.s3",
                    "Cidrs": ["52.216.0.0/15"],
                }
            ]
        },
        region=region,
    )
    reader.on(
        "ec2",
        "GetManagedPrefixListEntries",
        {"Entries": [{"Cidr": "52.216.0.0/15"}]},
        region=region,
        PrefixListId="pl-63a5400a",
    )
    reader.on(
        "ec2",
        "DescribeNetworkAcls",
        {"NetworkAcls": [network_acl(vpc.acl, vpc.id, vpc.task_subnet, acl_entries)]},
        region=region,
        Filters=[{"Name": "association.subnet-id", "Values": [vpc.task_subnet]}],
    )
    prefix = f"com.amazonaws.{endpoint_region or region}."
    found = [
        interface_endpoint(
            vpc.endpoint_id(name),
            vpc.id,
            prefix + name,
            [endpoint_subnet or vpc.task_subnet],
            vpc.endpoint_sg,
            private_dns=private_dns,
        )
        for name in endpoints
    ]
    if s3:
        table = vpc.private_table if s3 == "task-table" else vpc.public_table
        found.append(gateway_endpoint(vpc.endpoint_id("s3"), vpc.id, prefix + "s3", [table]))
    reader.on(
        "ec2",
        "DescribeVpcEndpoints",
        {"VpcEndpoints": found},
        region=region,
        Filters=[{"Name": "vpc-id", "Values": [vpc.id]}],
    )
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        key = attribute[0].upper() + attribute[1:]
        reader.on(
            "ec2",
            "DescribeVpcAttribute",
            {"VpcId": vpc.id, key: {"Value": True}},
            region=region,
            VpcId=vpc.id,
            Attribute=attribute,
        )
    if deny:
        service, operation = deny.split(".")
        reader.deny(service, operation)

    task = stopped_task(
        where,
        definition,
        attachments=[
            {
                "id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "type": "ElasticNetworkInterface",
                "status": "DELETED",
                "details": [
                    {"name": "subnetId", "value": vpc.task_subnet},
                    {"name": "networkInterfaceId", "value": vpc.eni},
                    {"name": "macAddress", "value": "0e:3b:5f:7a:91:c2"},
                    {"name": "privateIPv4Address", "value": vpc.ip},
                ],
            }
        ]
        if network_mode == "awsvpc"
        else [],
    )
    return task_context(reader, where, task), reader


ECR = ("ecr.api", "ecr.dkr")
DOCKER_HUB = ("docker.io/library/nginx:1.27",)
GHCR = ("ghcr.io/acme/payments-worker:2025.11.1",)


# -- ecr_unreachable ------------------------------------------------------------------------------
ECR_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_VPC),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            f"has no 0.0.0.0/0 route (no NAT or internet gateway) and VPC {EAST_VPC.id} has no "
            "interface endpoints for it",
            ROUTES,
        ),
        id="confirmed-no-route",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_VPC, endpoints=("ecr.api",), s3="task-table"),
            Status.CONFIRMED,
            Kind.VPC_ENDPOINT,
            WEST_VPC.id,
            "no interface endpoint for com.amazonaws.eu-west-1.ecr.dkr",
            ENDPOINTS,
        ),
        id="confirmed-missing-ecr-dkr-endpoint",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, endpoints=ECR, s3="other-table"),
            Status.CONFIRMED,
            Kind.VPC_ENDPOINT,
            EAST_VPC.private_table,
            f"is not associated with the task's route table {EAST_VPC.private_table}",
            ENDPOINTS,
        ),
        id="confirmed-s3-gateway-on-another-table",
    ),
    pytest.param(
        Row(
            # Endpoints serve only their own region: an image in us-west-2 needs a route out.
            lambda: _world(
                EAST_VPC,
                images=(f"{EAST.account}.dkr.ecr.us-west-2.amazonaws.com/api:1.4.2",),
                endpoints=ECR,
                s3="task-table",
            ),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            f"so the task cannot reach Amazon ECR ({EAST.account}.dkr.ecr.us-west-2.amazonaws.com)",
            ROUTES,
        ),
        id="confirmed-endpoints-of-another-region",
    ),
    pytest.param(
        Row(
            # The stopped task's ENI is gone: the subnet comes from the task's attachment.
            lambda: _world(WEST_VPC, eni_gone=True),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            f"Route table {WEST_VPC.private_table} of subnet {WEST_VPC.task_subnet} has no 0.0.0.0/0",
            ROUTES,
        ),
        id="confirmed-eni-released",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, route="nat"),
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            f"NAT gateway {EAST_VPC.nat} is available.",
            "ec2:DescribeNatGateways",
        ),
        id="ruled-out-nat",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_VPC, endpoints=ECR, s3="task-table"),
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            "for com.amazonaws.eu-west-1.ecr.dkr.",
            ENDPOINTS,
        ),
        id="ruled-out-endpoints",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, route="nat", deny="ec2.DescribeRouteTables"),
            Status.INCONCLUSIVE,
            Kind.ROUTE_TABLE,
            EAST.task_arn(TASK_ID),
            f"access denied for {ROUTES}",
            permission=ROUTES,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(lambda: _world(WEST_VPC, network_mode="bridge"), None),
        id="not-applicable-bridge-network",
    ),
    pytest.param(
        Row(lambda: _world(EAST_VPC, images=DOCKER_HUB), None),
        id="not-applicable-no-ecr-image",
    ),
]


@pytest.mark.parametrize("row", ECR_ROWS)
def test_ecr_unreachable(row: Row) -> None:
    verify(ecr_unreachable, row)


# -- internet_unreachable -------------------------------------------------------------------------
INTERNET_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, images=DOCKER_HUB, route="igw"),
            Status.CONFIRMED,
            Kind.PUBLIC_IP,
            EAST.task_arn(TASK_ID),
            f"The task's ENI has no public IP, in subnet {EAST_VPC.task_subnet} whose only way out",
            "ec2:DescribeNetworkInterfaces",
        ),
        id="confirmed-no-public-ip",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_VPC, images=GHCR, route="nat", nat_state="deleted"),
            Status.CONFIRMED,
            Kind.NAT_GATEWAY,
            WEST_VPC.nat,
            f"NAT gateway {WEST_VPC.nat} is deleted.",
            "ec2:DescribeNatGateways",
        ),
        id="confirmed-nat-deleted",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST_VPC,
                images=DOCKER_HUB,
                route="nat",
                route_state="blackhole",
                nat_state="deleted",
            ),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            "but the route is a blackhole",
            ROUTES,
        ),
        id="confirmed-blackhole-route",
    ),
    pytest.param(
        Row(
            # ECR endpoints exist, but no endpoint can serve a public registry.
            lambda: _world(WEST_VPC, images=DOCKER_HUB, endpoints=ECR, s3="task-table"),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            "no NAT or internet gateway), so the task cannot reach docker.io.",
            ROUTES,
        ),
        id="confirmed-endpoints-cannot-serve-public-registry",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_VPC, images=GHCR, route="igw", public_ip=True),
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            "The task's ENI has public IP",
            "ec2:DescribeNetworkInterfaces",
        ),
        id="ruled-out-public-ip",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, images=DOCKER_HUB, route="igw", deny="ec2.DescribeSubnets"),
            Status.INCONCLUSIVE,
            Kind.ROUTE_TABLE,
            EAST.task_arn(TASK_ID),
            "access denied for ec2:DescribeSubnets",
            permission="ec2:DescribeSubnets",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(WEST_VPC), None), id="not-applicable-ecr-only"),
]


@pytest.mark.parametrize("row", INTERNET_ROWS)
def test_internet_unreachable(row: Row) -> None:
    verify(internet_unreachable, row)


# -- logs_unreachable -----------------------------------------------------------------------------
RETURN_BLOCKED = [
    acl_entry(100, True, "allow"),
    acl_entry(32767, True, "deny"),
    acl_entry(100, False, "allow", 443),
    acl_entry(110, False, "allow", 80),
    acl_entry(32767, False, "deny"),
]

LOGS_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST_VPC, awslogs_region="us-east-1", endpoints=("logs",), private_dns=False
            ),
            Status.CONFIRMED,
            Kind.VPC_ENDPOINT,
            EAST_VPC.endpoint_id("logs"),
            "has private DNS disabled, so the task still resolves the public service name",
            ENDPOINTS,
        ),
        id="confirmed-private-dns-off",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST_VPC, awslogs_region="eu-west-1", route="nat", acl_entries=RETURN_BLOCKED
            ),
            Status.CONFIRMED,
            Kind.NETWORK_ACL,
            WEST_VPC.acl,
            f"Network ACL {WEST_VPC.acl} of subnet {WEST_VPC.task_subnet} denies inbound ephemeral ports",
            "ec2:DescribeNetworkAcls",
        ),
        id="confirmed-acl-blocks-replies",
    ),
    pytest.param(
        Row(
            # The log group lives in us-west-2; the VPC's Logs endpoint serves us-east-1 only.
            lambda: _world(EAST_VPC, awslogs_region="us-west-2", endpoints=("logs",)),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            "so the task cannot reach CloudWatch Logs in us-west-2",
            ROUTES,
        ),
        id="confirmed-log-group-in-another-region",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_VPC, awslogs_region="eu-west-1", endpoints=("logs",)),
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            f"Endpoint {WEST_VPC.endpoint_id('logs')} (com.amazonaws.eu-west-1.logs) is available.",
            ENDPOINTS,
        ),
        id="ruled-out-logs-endpoint",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST_VPC,
                awslogs_region="us-east-1",
                endpoints=("logs",),
                deny="ec2.DescribeVpcEndpoints",
            ),
            Status.INCONCLUSIVE,
            Kind.ROUTE_TABLE,
            EAST.task_arn(TASK_ID),
            f"access denied for {ENDPOINTS}",
            permission=ENDPOINTS,
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(WEST_VPC), None), id="not-applicable-no-awslogs"),
]


@pytest.mark.parametrize("row", LOGS_ROWS)
def test_logs_unreachable(row: Row) -> None:
    verify(logs_unreachable, row)


# -- secrets_unreachable --------------------------------------------------------------------------
EAST_SECRET = f"arn:aws:secretsmanager:us-east-1:{EAST.account}:secret:prod/api/db-Ab12Cd"
WEST_SECRET = f"arn:aws:secretsmanager:eu-west-1:{WEST.account}:secret:payments/stripe-Xy98Zw"
WEST_PARAM = f"arn:aws:ssm:eu-west-1:{WEST.account}:parameter/payments/STRIPE_KEY"
POSTGRES_ONLY = [rule(5432, cidr="10.99.0.0/16")]

SECRETS_ROWS = [
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, secrets=(EAST_SECRET,), route="nat", nat_to_igw=False),
            Status.CONFIRMED,
            Kind.ROUTE_TABLE,
            EAST_VPC.public_table,
            f"whose route table {EAST_VPC.public_table} has no 0.0.0.0/0 route to an internet gateway",
            ROUTES,
        ),
        id="confirmed-nat-without-internet-gateway",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST_VPC,
                secrets=(WEST_SECRET,),
                endpoints=("secretsmanager",),
                egress=POSTGRES_ONLY,
            ),
            Status.CONFIRMED,
            Kind.SECURITY_GROUP,
            WEST_VPC.task_sg,
            f"The task's security groups ({WEST_VPC.task_sg}) allow no outbound TCP 443 to the VPC endpoints",
            "ec2:DescribeSecurityGroups",
        ),
        id="confirmed-egress-blocked",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST_VPC,
                secrets=(WEST_PARAM,),
                endpoints=("ssm",),
                endpoint_subnet=WEST_VPC.other_subnet,
            ),
            # Reachable across zones over the VPC's local route: not a finding.
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            WEST_VPC.private_table,
            "no network interface in the task's zone eu-west-1a (only eu-west-1b); the task "
            "reaches it across zones",
            "ec2:DescribeSubnets",
        ),
        id="ruled-out-endpoint-in-another-zone",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_VPC, secrets=(EAST_SECRET,), route="igw", public_ip=True),
            Status.RULED_OUT,
            Kind.ROUTE_TABLE,
            EAST_VPC.private_table,
            f"sends 0.0.0.0/0 to {EAST_VPC.igw}.",
            ROUTES,
        ),
        id="ruled-out-internet-gateway",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST_VPC, secrets=(EAST_SECRET,), route="nat", deny="ec2.DescribeNetworkAcls"
            ),
            Status.INCONCLUSIVE,
            Kind.ROUTE_TABLE,
            EAST.task_arn(TASK_ID),
            "access denied for ec2:DescribeNetworkAcls",
            permission="ec2:DescribeNetworkAcls",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(Row(lambda: _world(WEST_VPC, route="nat"), None), id="not-applicable-no-secrets"),
]


@pytest.mark.parametrize("row", SECRETS_ROWS)
def test_secrets_unreachable(row: Row) -> None:
    verify(secrets_unreachable, row)


# -- dns ----------------------------------------------------------------------------------------
# github.com/docker-archive/compose-cli/issues/911 (Fargate pull, message shape) and
# github.com/aws-samples/aws-modern-application-workshop/issues/197 (the resolver's ending),
# as tests/walk/messages.py quotes them.
DNS_FAILED = (
    'CannotPullContainerError: failed to resolve ref "{image}": failed to do request: Head '
    "https://{host}/v2/api/manifests/1.4.2: dial tcp: lookup {host} on {resolver}:53: no "
    "such host"
)
HARBOR = "harbor.corp.example.com/payments/api:3.2.0"
TYPO = f"{EAST.account}.dkr.ecr.us-east-1.amazonaws.co/api:1.4.2"


def _dhcp(vpc: Vpc) -> str:
    return "dopt-0" + hashlib.sha256(vpc.id.encode()).hexdigest()[:16]


def _dns(
    vpc: Vpc,
    *,
    image: str | None = None,
    host: str | None = None,
    dns_support: bool = True,
    dhcp_servers: tuple[str, ...] = ("AmazonProvidedDNS",),
    deny: str | None = None,
) -> Built:
    """A task whose pull failed to resolve `host` (its image's registry unless named)."""
    where, region = vpc.where, vpc.where.region
    image = image or f"{where.registry()}/api:1.4.2"
    ctx, reader = _world(vpc, images=(image,))
    reader.on(
        "ec2",
        "DescribeVpcAttribute",
        {"VpcId": vpc.id, "EnableDnsSupport": {"Value": dns_support}},
        region=region,
        VpcId=vpc.id,
        Attribute="enableDnsSupport",
    )
    reader.on(
        "ec2",
        "DescribeVpcs",
        {
            "Vpcs": [
                {
                    "CidrBlock": vpc.cidr,
                    "DhcpOptionsId": _dhcp(vpc),
                    "State": "available",
                    "VpcId": vpc.id,
                    "OwnerId": where.account,
                    "InstanceTenancy": "default",
                    "IsDefault": False,
                }
            ]
        },
        region=region,
        VpcIds=[vpc.id],
    )
    reader.on(
        "ec2",
        "DescribeDhcpOptions",
        {
            "DhcpOptions": [
                {
                    "DhcpConfigurations": [
                        {"Key": "domain-name", "Values": [{"Value": f"{region}.compute.internal"}]},
                        {
                            "Key": "domain-name-servers",
                            "Values": [{"Value": v} for v in dhcp_servers],
                        },
                    ],
                    "DhcpOptionsId": _dhcp(vpc),
                    "OwnerId": where.account,
                }
            ]
        },
        region=region,
        DhcpOptionsIds=[_dhcp(vpc)],
    )
    if deny:
        service, operation = deny.split(".")
        reader.deny(service, operation)
    resolver = vpc.cidr.split("/")[0].rsplit(".", 1)[0] + ".2"
    reason = DNS_FAILED.format(image=image, host=host or image.split("/", 1)[0], resolver=resolver)
    assert isinstance(ctx, CheckContext)
    task = {**ctx.snap.task, "stoppedReason": reason}
    return task_context(reader, where, task), reader


DNS_ROWS = [
    pytest.param(
        Row(
            lambda: _dns(EAST_VPC, dns_support=False),
            Status.CONFIRMED,
            Kind.VPC_DNS,
            EAST_VPC.id,
            "enableDnsSupport is false.",
            "ec2:DescribeVpcAttribute",
        ),
        id="confirmed-dns-support-off",
    ),
    pytest.param(
        Row(
            lambda: _dns(WEST_VPC, dhcp_servers=("10.1.0.53", "10.1.0.54")),
            Status.CONFIRMED,
            Kind.VPC_DNS,
            _dhcp(WEST_VPC),
            "with custom DNS servers (10.1.0.53, 10.1.0.54) instead of AmazonProvidedDNS",
            "ec2:DescribeDhcpOptions",
        ),
        id="confirmed-custom-dhcp-dns",
    ),
    pytest.param(
        Row(
            # The registry host is no typo of a known one: it just does not exist.
            lambda: _dns(EAST_VPC, image=HARBOR),
            Status.CONFIRMED,
            Kind.IMAGE_URI,
            EAST.td_arn("api", 17),
            "pulls from harbor.corp.example.com, a host that does not exist (NXDOMAIN)",
            "ec2:DescribeVpcAttribute",
        ),
        id="confirmed-registry-host-does-not-exist",
    ),
    pytest.param(
        Row(
            # The failed name is not the image's registry, and the VPC's DNS works.
            lambda: _dns(
                WEST_VPC,
                host="api.ecr.eu-west-1.amazonaws.com",
                dhcp_servers=("AmazonProvidedDNS", "10.1.0.53"),
            ),
            Status.RULED_OUT,
            Kind.VPC_DNS,
            WEST_VPC.id,
            "resolves names with the Amazon DNS server (DNS support on, DHCP options",
            "ec2:DescribeVpcAttribute",
        ),
        id="ruled-out-vpc-dns-works",
    ),
    pytest.param(
        Row(
            lambda: _dns(EAST_VPC, deny="ec2.DescribeVpcAttribute"),
            Status.INCONCLUSIVE,
            Kind.VPC_DNS,
            EAST.task_arn(TASK_ID),
            "access denied for ec2:DescribeVpcAttribute",
            permission="ec2:DescribeVpcAttribute",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(
            lambda: _dns(WEST_VPC, dhcp_servers=("10.1.0.53",), deny="ec2.DescribeDhcpOptions"),
            Status.INCONCLUSIVE,
            Kind.VPC_DNS,
            WEST.task_arn(TASK_ID),
            "access denied for ec2:DescribeDhcpOptions",
            permission="ec2:DescribeDhcpOptions",
        ),
        id="inconclusive-dhcp-options-denied",
    ),
    pytest.param(
        # A mistyped ECR host is image.uri_malformed's finding: this check stays silent.
        Row(lambda: _dns(EAST_VPC, image=TYPO), None),
        id="not-applicable-registry-typo",
    ),
    pytest.param(
        Row(lambda: _world(WEST_VPC), None),
        id="not-applicable-no-dns-failure",
    ),
]


@pytest.mark.parametrize("row", DNS_ROWS)
def test_dns_unresolved(row: Row) -> None:
    verify(dns_unresolved, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {
    ecr_unreachable: ECR_ROWS,
    internet_unreachable: INTERNET_ROWS,
    logs_unreachable: LOGS_ROWS,
    secrets_unreachable: SECRETS_ROWS,
    dns_unresolved: DNS_ROWS,
}
