"""Table tests of the volume checks: an EFS volume's mount path, and the volumes ecsdoctor names.

Each EFS row builds the path the mount takes as the describe calls return it (the file system,
its mount target in the task's zone, the mount target's security groups, the task's ENI and
groups, the access point, VPC DNS), then breaks one hop. EFS's error codes are the documented
ones (FileSystemNotFound, AccessPointNotFound:
https://docs.aws.amazon.com/efs/latest/ug/API_DescribeFileSystems.html#API_DescribeFileSystems_Errors,
https://docs.aws.amazon.com/efs/latest/ug/API_DescribeAccessPoints.html#API_DescribeAccessPoints_Errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from ecsdoctor.checks.efs import other_volumes, volume_unmountable
from ecsdoctor.errors import ApiError
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from tests.checks.documents import CREATED, rule, security_group, subnet
from tests.checks.fake_reader import Answer, FakeReader
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


def net_cidr(ip: str) -> str:
    """The /24 the address sits in (the task subnet's CIDR)."""
    return ip.rsplit(".", 1)[0] + ".0/24"


@dataclass(frozen=True)
class Net:
    """One region's VPC, the task's subnet and groups, and its file system."""

    where: Where
    vpc: str
    subnet: str
    other_subnet: str
    task_sg: str
    efs_sg: str
    eni: str
    ip: str
    fs: str
    mount_target: str
    access_point: str

    @property
    def zone(self) -> str:
        return f"{self.where.region}a"

    @property
    def cidr(self) -> str:
        return net_cidr(self.ip)

    @property
    def fs_arn(self) -> str:
        w = self.where
        return f"arn:aws:elasticfilesystem:{w.region}:{w.account}:file-system/{self.fs}"


EAST_NET = Net(
    EAST,
    "vpc-0e1f2a3b4c5d6e7f8",
    "subnet-0a1b2c3d4e5f60718",
    "subnet-0b2c3d4e5f6071829",
    "sg-0123456789abcdef0",
    "sg-0e5f6a7b8c9d0e1f2",
    "eni-0f1a2b3c4d5e6f708",
    "10.0.1.23",
    "fs-0a1b2c3d4e5f67890",
    "fsmt-0a1b2c3d4e5f67890",
    "fsap-0a1b2c3d4e5f67890",
)
WEST_NET = Net(
    WEST,
    "vpc-07a8b9c0d1e2f3a4b",
    "subnet-01f2e3d4c5b6a7980",
    "subnet-02e3d4c5b6a798011",
    "sg-0a9b8c7d6e5f40312",
    "sg-0c7d6e5f4031221ab",
    "eni-06f70819203142536",
    "10.1.1.57",
    "fs-07f6e5d4c3b2a1098",
    "fsmt-07f6e5d4c3b2a1098",
    "fsap-07f6e5d4c3b2a1098",
)


def _file_system(net: Net, state: str = "available") -> dict[str, Any]:
    """One DescribeFileSystems `FileSystems[]` entry."""
    return {
        "OwnerId": net.where.account,
        "CreationToken": "payments-data",
        "FileSystemId": net.fs,
        "FileSystemArn": net.fs_arn,
        "CreationTime": CREATED,
        "LifeCycleState": state,
        "Name": "payments-data",
        "NumberOfMountTargets": 1,
        "SizeInBytes": {"Value": 6144},
        "PerformanceMode": "generalPurpose",
        "Encrypted": True,
        "ThroughputMode": "bursting",
        "Tags": [{"Key": "Name", "Value": "payments-data"}],
    }


def _mount_target(net: Net, zone: str, subnet_id: str, state: str) -> dict[str, Any]:
    """One DescribeMountTargets `MountTargets[]` entry."""
    return {
        "OwnerId": net.where.account,
        "MountTargetId": net.mount_target,
        "FileSystemId": net.fs,
        "SubnetId": subnet_id,
        "LifeCycleState": state,
        "IpAddress": net.ip.rsplit(".", 1)[0] + ".200",
        "NetworkInterfaceId": "eni-0aa1bb2cc3dd4ee5f",
        "AvailabilityZoneName": zone,
        "VpcId": net.vpc,
    }


def _efs_error(operation: str, code: str, message: str) -> ApiError:
    return ApiError(f"elasticfilesystem:{operation}", code, message)


def _world(
    net: Net,
    *,
    volumes: list[dict[str, Any]] | None = None,
    file_system: Answer | None = None,
    target_zone: str | None = None,
    target_state: str = "available",
    efs_inbound: list[dict[str, Any]] | None = None,
    access_point: Answer | None = None,
    dns_support: bool = True,
    deny: tuple[str, str] | None = None,
) -> Built:
    """A Fargate task in `net`'s subnet mounting `net.fs` through its access point."""
    where, region = net.where, net.where.region
    if volumes is None:
        volumes = [
            {
                "name": "data",
                "efsVolumeConfiguration": {
                    "fileSystemId": net.fs,
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                    "authorizationConfig": {"accessPointId": net.access_point, "iam": "DISABLED"},
                },
            }
        ]
    container = {
        "name": "api",
        "image": f"{where.registry()}/api:1.4.2",
        "essential": True,
        "mountPoints": [
            {"sourceVolume": str(v["name"]), "containerPath": "/data", "readOnly": False}
            for v in volumes
        ],
    }
    definition = task_definition(where, "api", 21, [container], volumes=volumes)
    reader: FakeReader = task_reader(where, definition)
    reader.on(
        "ec2",
        "DescribeNetworkInterfaces",
        {
            "NetworkInterfaces": [
                {
                    "AvailabilityZone": net.zone,
                    "Groups": [{"GroupId": net.task_sg, "GroupName": "api-tasks"}],
                    "InterfaceType": "interface",
                    "NetworkInterfaceId": net.eni,
                    "PrivateIpAddress": net.ip,
                    "Status": "in-use",
                    "SubnetId": net.subnet,
                    "VpcId": net.vpc,
                }
            ]
        },
        region=region,
        NetworkInterfaceIds=[net.eni],
    )
    reader.on(
        "ec2",
        "DescribeSubnets",
        {"Subnets": [subnet(net.subnet, net.vpc, net.cidr, net.zone, where.account)]},
        region=region,
        SubnetIds=[net.subnet],
    )
    reader.on(
        "efs",
        "DescribeFileSystems",
        {"FileSystems": [_file_system(net)]} if file_system is None else file_system,
        region=region,
        FileSystemId=net.fs,
    )
    zone = target_zone or net.zone
    target_subnet = net.subnet if zone == net.zone else net.other_subnet
    reader.on(
        "efs",
        "DescribeMountTargets",
        {"MountTargets": [_mount_target(net, zone, target_subnet, target_state)]},
        region=region,
        FileSystemId=net.fs,
    )
    reader.on(
        "efs",
        "DescribeMountTargetSecurityGroups",
        {"SecurityGroups": [net.efs_sg]},
        region=region,
        MountTargetId=net.mount_target,
    )
    inbound = [rule(2049, group=net.task_sg)] if efs_inbound is None else efs_inbound
    for group in (
        security_group(net.efs_sg, net.vpc, "efs-mount-targets", inbound),
        security_group(net.task_sg, net.vpc, "api-tasks", []),
    ):
        reader.on(
            "ec2",
            "DescribeSecurityGroups",
            {"SecurityGroups": [group]},
            region=region,
            GroupIds=[group["GroupId"]],
        )
    point = {
        "AccessPoints": [
            {
                "ClientToken": "payments-data-ap",
                "Name": "payments-data",
                "AccessPointId": net.access_point,
                "AccessPointArn": f"arn:aws:elasticfilesystem:{region}:{where.account}:"
                f"access-point/{net.access_point}",
                "FileSystemId": net.fs,
                "PosixUser": {"Uid": 1000, "Gid": 1000},
                "RootDirectory": {"Path": "/payments"},
                "OwnerId": where.account,
                "LifeCycleState": "available",
            }
        ]
    }
    reader.on(
        "efs",
        "DescribeAccessPoints",
        point if access_point is None else access_point,
        region=region,
        AccessPointId=net.access_point,
    )
    reader.on(
        "ec2",
        "DescribeVpcAttribute",
        {"VpcId": net.vpc, "EnableDnsSupport": {"Value": dns_support}},
        region=region,
        VpcId=net.vpc,
        Attribute="enableDnsSupport",
    )
    if deny:
        reader.deny(*deny)
    task = stopped_task(
        where,
        definition,
        availabilityZone=net.zone,
        attachments=[
            {
                "id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "type": "ElasticNetworkInterface",
                "status": "DELETED",
                "details": [
                    {"name": "subnetId", "value": net.subnet},
                    {"name": "networkInterfaceId", "value": net.eni},
                    {"name": "privateIPv4Address", "value": net.ip},
                ],
            }
        ],
    )
    return task_context(reader, where, task), reader


# -- efs volumes ------------------------------------------------------------------------------
EFS_ROWS = [
    pytest.param(
        Row(
            lambda: _world(
                EAST_NET,
                file_system=_efs_error(
                    "DescribeFileSystems",
                    "FileSystemNotFound",
                    f"File system '{EAST_NET.fs}' does not exist.",
                ),
            ),
            Status.CONFIRMED,
            Kind.EFS,
            EAST_NET.fs,
            f"EFS file system {EAST_NET.fs} named by {EAST.td_arn('api', 21)} does not exist "
            "in us-east-1.",
            "elasticfilesystem:DescribeFileSystems",
        ),
        id="confirmed-file-system-missing",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, target_zone="eu-west-1b"),
            Status.CONFIRMED,
            Kind.EFS,
            WEST_NET.fs,
            "no mount target in the task's zone eu-west-1a (only in eu-west-1b).",
            "elasticfilesystem:DescribeMountTargets",
        ),
        id="confirmed-no-mount-target-in-zone",
    ),
    pytest.param(
        Row(
            # The mount target's group admits HTTPS from the task, not NFS.
            lambda: _world(EAST_NET, efs_inbound=[rule(443, group=EAST_NET.task_sg)]),
            Status.CONFIRMED,
            Kind.SECURITY_GROUP,
            EAST_NET.efs_sg,
            "do not admit NFS (TCP 2049) from the task's security groups (sg-0123456789abcdef0)",
            "elasticfilesystem:DescribeMountTargetSecurityGroups",
        ),
        id="confirmed-no-nfs-ingress",
    ),
    pytest.param(
        Row(
            lambda: _world(
                WEST_NET,
                access_point=_efs_error(
                    "DescribeAccessPoints",
                    "AccessPointNotFound",
                    f"Access point '{WEST_NET.access_point}' does not exist.",
                ),
            ),
            Status.CONFIRMED,
            Kind.EFS,
            WEST_NET.access_point,
            f"Access point {WEST_NET.access_point} does not exist.",
            "elasticfilesystem:DescribeAccessPoints",
        ),
        id="confirmed-access-point-missing",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, dns_support=False),
            Status.CONFIRMED,
            Kind.VPC_DNS,
            EAST_NET.vpc,
            f"{EAST_NET.fs}.efs.us-east-1.amazonaws.com cannot resolve",
            "ec2:DescribeVpcAttribute",
        ),
        id="confirmed-vpc-dns-off",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET),
            Status.RULED_OUT,
            Kind.EFS,
            WEST_NET.fs,
            f"Mount target {WEST_NET.mount_target} of {WEST_NET.fs} is available.",
            "elasticfilesystem:DescribeMountTargets",
        ),
        id="ruled-out-every-hop-holds",
    ),
    pytest.param(
        Row(
            lambda: _world(EAST_NET, deny=("efs", "DescribeFileSystems")),
            Status.INCONCLUSIVE,
            Kind.EFS,
            EAST.task_arn(TASK_ID),
            "access denied for elasticfilesystem:DescribeFileSystems",
            permission="elasticfilesystem:DescribeFileSystems",
        ),
        id="inconclusive-denied",
    ),
    pytest.param(
        Row(
            lambda: _world(WEST_NET, deny=("efs", "DescribeMountTargetSecurityGroups")),
            Status.INCONCLUSIVE,
            Kind.EFS,
            WEST.task_arn(TASK_ID),
            "access denied for elasticfilesystem:DescribeMountTargetSecurityGroups",
            permission="elasticfilesystem:DescribeMountTargetSecurityGroups",
        ),
        id="inconclusive-mount-target-groups-denied",
    ),
    pytest.param(
        Row(lambda: _world(EAST_NET, volumes=[{"name": "scratch", "host": {}}]), None),
        id="not-applicable-no-efs-volume",
    ),
]


@pytest.mark.parametrize("row", EFS_ROWS)
def test_volume_unmountable(row: Row) -> None:
    verify(volume_unmountable, row)


# -- other volumes ----------------------------------------------------------------------------
def _volumes(where: Where, *volumes: Mapping[str, Any], deny: bool = False) -> Built:
    """A task definition with `volumes` (no read beyond the task definition)."""
    container = {"name": "api", "image": f"{where.registry()}/api:1.4.2", "essential": True}
    definition = task_definition(
        where,
        "api",
        21,
        [container],
        volumes=[dict(v) for v in volumes],
        requiresCompatibilities=["EC2"],
        networkMode="bridge",
    )
    reader = task_reader(where, definition)
    if deny:
        reader.deny("ecs", "DescribeTaskDefinition")
    return task_context(reader, where, stopped_task(where, definition)), reader


def _volume(where: Where, name: str) -> str:
    return f"{where.td_arn('api', 21)}#volume/{name}"


DOCKER_VOLUME = {
    "name": "cache",
    "dockerVolumeConfiguration": {"scope": "task", "driver": "local"},
}
FSX_VOLUME = {
    "name": "share",
    "fsxWindowsFileServerVolumeConfiguration": {
        "fileSystemId": "fs-0123456789abcdef0",
        "rootDirectory": "share",
        "authorizationConfig": {
            "credentialsParameter": "arn:aws:secretsmanager:eu-west-1:444455556666:secret:fsx-Ab12Cd",
            "domain": "corp.example.com",
        },
    },
}

OTHER_ROWS = [
    pytest.param(
        Row(
            lambda: _volumes(EAST, {"name": "logs", "host": {"sourcePath": "/var/log/api"}}),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            _volume(EAST, "logs"),
            "is a bind mount; ecsdoctor recognizes it but has no live check for it.",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-bind-mount",
    ),
    pytest.param(
        Row(
            lambda: _volumes(WEST, DOCKER_VOLUME, FSX_VOLUME),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            _volume(WEST, "share"),
            "is a FSx for Windows File Server volume",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-fsx-next-to-docker-volume",
    ),
    pytest.param(
        Row(
            lambda: _volumes(EAST, DOCKER_VOLUME),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            _volume(EAST, "cache"),
            "is a Docker volume",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-docker-volume",
    ),
    pytest.param(
        Row(
            lambda: _volumes(WEST, {"name": "ebs", "configuredAtLaunch": True}),
            Status.RULED_OUT,
            Kind.TASK_DEFINITION,
            _volume(WEST, "ebs"),
            "is a volume configured at launch (EBS)",
            "ecs:DescribeTaskDefinition",
        ),
        id="ruled-out-ebs-at-launch",
    ),
    pytest.param(
        Row(
            lambda: _volumes(EAST, DOCKER_VOLUME, deny=True),
            Status.INCONCLUSIVE,
            Kind.TASK_DEFINITION,
            EAST.task_arn(TASK_ID),
            "access denied for ecs:DescribeTaskDefinition",
            permission="ecs:DescribeTaskDefinition",
        ),
        id="inconclusive-task-definition-denied",
    ),
    pytest.param(
        Row(
            lambda: _volumes(
                WEST,
                {"name": "data", "efsVolumeConfiguration": {"fileSystemId": WEST_NET.fs}},
            ),
            None,
        ),
        id="not-applicable-efs-only",
    ),
    pytest.param(Row(lambda: _volumes(EAST), None), id="not-applicable-no-volumes"),
]


@pytest.mark.parametrize("row", OTHER_ROWS)
def test_other_volumes(row: Row) -> None:
    verify(other_volumes, row)


#: Every check of the module and its table (test_registry reads them).
TABLES = {volume_unmountable: EFS_ROWS, other_volumes: OTHER_ROWS}
