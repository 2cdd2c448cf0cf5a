"""Table test of changes.recent_changes: CloudTrail changes to what the task depends on.

The check only ever cites evidence (INCONCLUSIVE: a change is a lead, never a verdict by itself),
so its table has no CONFIRMED or RULED_OUT row; events are shaped as LookupEvents returns them
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from ecsdoctor.checks.changes import recent_changes
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import route_table, subnet
from tests.checks.fake_reader import FakeReader
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

VPC = "vpc-0e1f2a3b4c5d6e7f8"
SUBNET = "subnet-0a1b2c3d4e5f60718"
TABLE = "rtb-0a9b8c7d6e5f40312"
TASK_SG = "sg-0123456789abcdef0"
ENI = "eni-0f1a2b3c4d5e6f708"
ACL = "acl-0b1c2d3e4f5a6b7c8"
GONE = "vpce-0d1e2f3a4b5c6d7e8"  # an endpoint deleted from the VPC, still listed as Deleted
WHEN = datetime(2026, 11, 29, 21, 3, tzinfo=UTC)


def _event(
    name: str, user: str, resource: str, source: str, minute: int = 3, kind: str = ""
) -> dict[str, Any]:
    """One LookupEvents `Events[]` entry."""
    return {
        "EventId": f"5b7e1c2d-{minute:04d}-4a5b-9c8d-7e6f5a4b3c2d",
        "EventName": name,
        "ReadOnly": "true" if name.startswith(("Describe", "Get", "List")) else "false",
        "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "EventTime": WHEN.replace(minute=minute),
        "EventSource": source if "." in source else f"{source}.amazonaws.com",
        "Username": user,
        "Resources": [{"ResourceType": kind, "ResourceName": resource}],
    }


def _world(
    where: Where,
    events: dict[str, Sequence[dict[str, Any]]],
    *,
    network: bool = True,
    deny: tuple[str, str] | None = None,
) -> Built:
    """A task in SUBNET (route table TABLE, group TASK_SG) whose resources had `events`."""
    container = {"name": "api", "image": f"{where.registry()}/api:1.4.2", "essential": True}
    definition = task_definition(
        where, "api", 9, [container], executionRoleArn=where.role_arn("ecsTaskExecutionRole")
    )
    reader: FakeReader = task_reader(where, definition)
    region = where.region
    reader.on(
        "ec2",
        "DescribeNetworkInterfaces",
        {
            "NetworkInterfaces": [
                {
                    "NetworkInterfaceId": ENI,
                    "SubnetId": SUBNET,
                    "VpcId": VPC,
                    "Groups": [{"GroupId": TASK_SG, "GroupName": "api-tasks"}],
                    "PrivateIpAddress": "10.0.1.23",
                    "Status": "in-use",
                }
            ]
        },
        region=region,
        NetworkInterfaceIds=[ENI],
    )
    reader.on(
        "ec2",
        "DescribeSubnets",
        {"Subnets": [subnet(SUBNET, VPC, "10.0.1.0/24", f"{region}a", where.account)]},
        region=region,
        SubnetIds=[SUBNET],
    )
    reader.on(
        "ec2",
        "DescribeRouteTables",
        {"RouteTables": [route_table(TABLE, VPC, "10.0.0.0/16", [SUBNET], None)]},
        region=region,
        Filters=[{"Name": "vpc-id", "Values": [VPC]}],
    )
    reader.on(
        "ec2",
        "DescribeNetworkAcls",
        {"NetworkAcls": [{"NetworkAclId": ACL, "VpcId": VPC, "Entries": []}]},
        region=region,
        Filters=[{"Name": "association.subnet-id", "Values": [SUBNET]}],
    )
    reader.on(
        "ec2",
        "DescribeVpcEndpoints",
        {
            "VpcEndpoints": [
                {
                    "VpcEndpointId": GONE,
                    "VpcEndpointType": "Interface",
                    "VpcId": VPC,
                    "ServiceName": f"com.amazonaws.{region}.ecr.dkr",
                    "State": "Deleted",
                },
                {
                    "VpcEndpointId": "vpce-0aaaabbbbccccdddd",
                    "VpcEndpointType": "Interface",
                    "VpcId": VPC,
                    "ServiceName": f"com.amazonaws.{region}.ecr.api",
                    "State": "available",
                },
            ]
        },
        region=region,
        Filters=[{"Name": "vpc-id", "Values": [VPC]}],
    )
    reader.on("cloudtrail", "LookupEvents", {"Events": []}, region=region)
    for name, found in events.items():
        reader.on(
            "cloudtrail",
            "LookupEvents",
            {"Events": list(found)},
            region=region,
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}],
        )
    if deny:
        reader.deny(*deny)
    attachments = [
        {
            "id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            "type": "ElasticNetworkInterface",
            "status": "DELETED",
            "details": [
                {"name": "subnetId", "value": SUBNET},
                {"name": "networkInterfaceId", "value": ENI},
                {"name": "privateIPv4Address", "value": "10.0.1.23"},
            ],
        }
    ]
    task = stopped_task(where, definition, attachments=attachments if network else [])
    return task_context(reader, where, task), reader


ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                {
                    TABLE: [
                        _event("ReplaceRoute", "alice", TABLE, "ec2.amazonaws.com"),
                        _event("DescribeRouteTables", "bob", TABLE, "ec2.amazonaws.com", 1),
                    ]
                },
            ),
            Status.INCONCLUSIVE,
            Kind.ROUTE_TABLE,
            TABLE,
            "ReplaceRoute by alice at 2026-11-29T21:03:00+00:00.",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-route-replaced",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST,
                {
                    TASK_SG: [
                        _event("RevokeSecurityGroupEgress", "terraform", TASK_SG, "ec2", 40),
                        _event("ModifySecurityGroupRules", "terraform", TASK_SG, "ec2", 38),
                    ]
                },
            ),
            Status.INCONCLUSIVE,
            Kind.SECURITY_GROUP,
            TASK_SG,
            "RevokeSecurityGroupEgress by terraform at 2026-11-29T21:40:00+00:00. (1 more changes)",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-security-group-revoked",
    ),
    pytest.param(
        Row(
            lambda: _world(
                EAST,
                {
                    "ecsTaskExecutionRole": [
                        _event("DetachRolePolicy", "carol", "ecsTaskExecutionRole", "iam", 12)
                    ]
                },
            ),
            Status.INCONCLUSIVE,
            Kind.EXECUTION_ROLE,
            EAST.role_arn("ecsTaskExecutionRole"),
            "DetachRolePolicy by carol",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-execution-role-policy-detached",
    ),
    pytest.param(
        Row(
            # Outside awsvpc the network is not watched; the family still is.
            lambda: _world(
                WEST,
                {"api": [_event("RegisterTaskDefinition", "deploy-bot", "api", "ecs", 55)]},
                network=False,
            ),
            Status.INCONCLUSIVE,
            Kind.TASK_DEFINITION,
            WEST.td_arn("api", 9),
            "RegisterTaskDefinition by deploy-bot at 2026-11-29T21:55:00+00:00 on api.",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-new-revision",
    ),
    pytest.param(
        Row(
            # The deleted endpoint's change is the VPC's: "no endpoint for ..." names the VPC.
            lambda: _world(EAST, {GONE: [_event("DeleteVpcEndpoints", "dave", GONE, "ec2", 21)]}),
            Status.INCONCLUSIVE,
            Kind.VPC_ENDPOINT,
            VPC,
            f"DeleteVpcEndpoints by dave at 2026-11-29T21:21:00+00:00 on {GONE}.",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-endpoint-deleted",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, {ACL: [_event("CreateNetworkAclEntry", "erin", ACL, "ec2", 30)]}),
            Status.INCONCLUSIVE,
            Kind.NETWORK_ACL,
            ACL,
            "CreateNetworkAclEntry by erin at 2026-11-29T21:30:00+00:00.",
            "cloudtrail:LookupEvents",
        ),
        id="evidence-acl-rule-added",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST, {}, deny=("cloudtrail", "LookupEvents")),
            Status.INCONCLUSIVE,
            Kind.TASK,
            EAST.task_arn(TASK_ID),
            "access denied for cloudtrail:LookupEvents",
            permission="cloudtrail:LookupEvents",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST, {}, deny=("ec2", "DescribeRouteTables")),
            Status.INCONCLUSIVE,
            Kind.TASK,
            WEST.task_arn(TASK_ID),
            "access denied for ec2:DescribeRouteTables",
            permission="ec2:DescribeRouteTables",
        ),
        id="inconclusive-route-tables-denied",
    ),
    pytest.param(
        # Read-only events change nothing: no evidence to cite.
        Row(
            lambda: _world(
                EAST,
                {
                    TABLE: [_event("DescribeRouteTables", "bob", TABLE, "ec2")],
                    "ecsTaskExecutionRole": [
                        _event("GetRole", "ecs-tasks", "ecsTaskExecutionRole", "iam")
                    ],
                },
            ),
            None,
        ),
        id="not-applicable-read-only-events",
    ),
]


@pytest.mark.parametrize("row", ROWS)
def test_recent_changes(row: Row) -> None:
    verify(recent_changes, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {recent_changes: ROWS}
