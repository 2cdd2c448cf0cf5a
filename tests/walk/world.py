"""A healthy Fargate account in any region, built in moto, that each walk test breaks once.

Two baselines: "nat" (private subnet -> NAT gateway in a public subnet -> internet gateway)
and "endpoints" (no default route; interface endpoints for ecr.api, ecr.dkr, logs,
secretsmanager, kms plus the S3 gateway endpoint). Facts moto cannot express through its API
(stopped reasons, an in-subnet task ENI, blackhole routes, failed NATs) are planted on moto's
backend objects, as notes/moto.md describes; the product is never weakened for them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.session import AwsAccess, open_reader

ACCOUNT = "123456789012"
CLUSTER = "walk"
REPOSITORY = "web"
LOG_GROUP = "/ecs/walk"
TASK_IP_HOST = 25
INTERFACE = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms")
EXEC_ACTIONS = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
]


@dataclass
class World:
    """One built account: its session, region and the ids of what was built."""

    session: boto3.session.Session
    region: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def task_arn(self) -> str:
        return self.ids["task"]

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)

    def backend(self, service: str) -> Any:
        from moto.backends import get_backend

        region = "global" if service == "iam" else self.region
        return get_backend(service)[ACCOUNT][region]  # type: ignore[call-overload]

    def reader(self) -> Reader:
        return open_reader(AwsAccess(session=self.session), self.region)

    def diagnose(self) -> Any:
        from ecsdoctor.diagnose import diagnose_task

        return diagnose_task(
            self.task_arn, cluster=CLUSTER, reader=self.reader(), knowledge=knowledge()
        )

    def fail(
        self,
        reason: str,
        *,
        container_reason: str | None = None,
        exit_code: int | None = None,
        stop_code: str = "TaskFailedToStart",
    ) -> None:
        """Stop the task as ECS does: stopCode, reasons and timestamps on moto's task."""
        task = self.backend("ecs").tasks[CLUSTER][self.task_arn]
        now = datetime.now(UTC)
        task.stopped_reason = reason
        task.last_status = task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopping_at = now - timedelta(seconds=5)
        task.stopped_at = now
        container = task.containers[0]
        container.last_status = "STOPPED"
        container.exitCode = exit_code
        container.reason = container_reason if container_reason is not None else reason

    def route(self, table: str, destination: str = "0.0.0.0/0") -> Any:
        return self.backend("ec2").route_tables[table]._routes[f"{table}~{destination}"]


@cache
def knowledge() -> Any:
    """The shipped knowledge base (loaded once for every walk test)."""
    from ecsdoctor.pipeline import load_knowledge

    return load_knowledge()


def _tag(name: str) -> list[dict[str, Any]]:
    return [{"Key": "Name", "Value": name}]


def build(
    region: str,
    baseline: str = "nat",
    *,
    secrets: bool = False,
    image: str | None = None,
    efs: bool = False,
    memory: int = 512,
) -> World:
    """Build the healthy account in `region`; the caller breaks one thing afterwards."""
    from moto.moto_api import state_manager

    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    world = World(boto3.session.Session(region_name=region), region)
    ids = world.ids
    ids["az"] = f"{region}a"
    ec2 = world.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids["vpc"] = vpc
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=ids["az"])[
        "Subnet"
    ]["SubnetId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    ids.update(subnet=subnet, route_table=rtb)
    ids["network_acl"] = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"][0]["NetworkAclId"]
    task_sg = ec2.create_security_group(GroupName="task", Description="task", VpcId=vpc)["GroupId"]
    ids["task_sg"] = task_sg
    if baseline == "nat":
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=ids["az"])[
            "Subnet"
        ]["SubnetId"]
        public_rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=public_rtb, SubnetId=public)
        ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"][
            "NatGatewayId"
        ]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ids.update(
            internet_gateway=igw,
            public_subnet=public,
            public_route_table=public_rtb,
            nat_gateway=nat,
        )
    else:
        endpoint_sg = ec2.create_security_group(
            GroupName="endpoints", Description="endpoints", VpcId=vpc
        )["GroupId"]
        ids["endpoint_sg"] = endpoint_sg
        ec2.authorize_security_group_ingress(
            GroupId=endpoint_sg,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "UserIdGroupPairs": [{"GroupId": task_sg}],
                }
            ],
        )
        for service in INTERFACE:
            ids[f"endpoint.{service}"] = ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{region}.{service}",
                SubnetIds=[subnet],
                SecurityGroupIds=[endpoint_sg],
                PrivateDnsEnabled=True,
            )["VpcEndpoint"]["VpcEndpointId"]
        ids["endpoint.s3"] = ec2.create_vpc_endpoint(
            VpcEndpointType="Gateway",
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{region}.s3",
            RouteTableIds=[rtb],
        )["VpcEndpoint"]["VpcEndpointId"]

    iam = world.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = f"walk-exec-{region}"
    ids["execution_role"] = iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    ids["execution_role_name"] = role
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"],
            "Resource": "*",
        },
    ]
    iam.put_role_policy(
        RoleName=role,
        PolicyName="execution",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )

    ecr = world.client("ecr")
    repo = ecr.create_repository(repositoryName=REPOSITORY)["repository"]
    ids["repository"] = repo["repositoryArn"]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + hashlib.sha256(b"c").hexdigest(),
            },
            "layers": [],
        }
    )
    ecr.put_image(
        repositoryName=REPOSITORY,
        imageManifest=manifest,
        imageTag="v1",
        imageDigest="sha256:" + hashlib.sha256(manifest.encode()).hexdigest(),
    )
    registry = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com"
    ids["registry"] = registry
    ids["image"] = image or f"{registry}/{REPOSITORY}:v1"
    world.client("logs").create_log_group(logGroupName=LOG_GROUP)
    ids["log_group"] = f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}"

    container: dict[str, Any] = {
        "name": "app",
        "image": ids["image"],
        "essential": True,
        "memory": memory,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": LOG_GROUP,
                "awslogs-region": region,
                "awslogs-stream-prefix": "app",
            },
        },
    }
    if secrets:
        kms = world.client("kms")
        key = kms.create_key(Description="walk")["KeyMetadata"]
        ids["kms_key"] = key["Arn"]
        secret = world.client("secretsmanager").create_secret(
            Name="walk/api", SecretString="never-printed", KmsKeyId=key["Arn"]
        )
        ids["secret"] = secret["ARN"]
        container["secrets"] = [{"name": "API", "valueFrom": secret["ARN"]}]
    volumes: list[dict[str, Any]] = []
    if efs:
        _build_efs(world, container, volumes)

    ecs = world.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    td = ecs.register_task_definition(
        family="walk",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="1024",
        executionRoleArn=ids["execution_role"],
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[container],
        volumes=volumes,
    )["taskDefinition"]
    ids["task_definition"] = td["taskDefinitionArn"]
    task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=ids["task_definition"],
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [task_sg],
                "assignPublicIp": "DISABLED",
            }
        },
    )["tasks"][0]
    ids["task"] = task["taskArn"]
    _settle(world)
    return world


def _build_efs(world: World, container: dict[str, Any], volumes: list[dict[str, Any]]) -> None:
    ids = world.ids
    ec2 = world.client("ec2")
    efs_sg = ec2.create_security_group(GroupName="efs", Description="efs", VpcId=ids["vpc"])[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=efs_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": ids["task_sg"]}],
            }
        ],
    )
    efs = world.client("efs")
    fs = efs.create_file_system(CreationToken="walk", Encrypted=True)["FileSystemId"]
    mt = efs.create_mount_target(FileSystemId=fs, SubnetId=ids["subnet"], SecurityGroups=[efs_sg])
    ap = efs.create_access_point(FileSystemId=fs)["AccessPointId"]
    ids.update(efs=fs, efs_sg=efs_sg, mount_target=mt["MountTargetId"], access_point=ap)
    volumes.append(
        {
            "name": "data",
            "efsVolumeConfiguration": {
                "fileSystemId": fs,
                "transitEncryption": "ENABLED",
                "authorizationConfig": {"accessPointId": ap, "iam": "DISABLED"},
            },
        }
    )
    container["mountPoints"] = [{"sourceVolume": "data", "containerPath": "/data"}]


def _settle(world: World) -> None:
    """Fill in what moto leaves out of a Fargate task: AZ, times, an ENI inside its subnet."""
    task = world.backend("ecs").tasks[CLUSTER][world.task_arn]
    now = datetime.now(UTC)
    task.availability_zone = world.ids["az"]
    task.platform_version = "1.4.0"
    task.created_at = now - timedelta(minutes=2)
    task.containers[0].task_arn = world.task_arn
    ip = f"10.0.1.{TASK_IP_HOST}"
    eni_id = next(
        d["value"] for d in task.attachments[0]["details"] if d["name"] == "networkInterfaceId"
    )
    eni = world.backend("ec2").get_network_interface(eni_id)
    eni.private_ip_address = ip
    eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": ip}]
    for detail in task.attachments[0]["details"]:
        if detail["name"] == "privateIPv4Address":
            detail["value"] = ip
    world.ids.update(eni=eni_id, task_ip=ip)
