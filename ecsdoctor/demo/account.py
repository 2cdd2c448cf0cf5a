"""One healthy Fargate account in moto, parameterised so each demo scenario can break one thing.

This is the only place in ecsdoctor that mutates AWS state: it builds the emulated account the
demo and the end-to-end tests diagnose. Every call must run inside an active moto mock (``mock_aws``
or an in-process ``ThreadedMotoServer``), because moto cannot express some facts through the API
(stop codes, container reasons, timestamps, in-CIDR ENI addresses, the AWS-managed execution
policy) and we plant those on moto's backend objects. notes/moto.md describes the traps avoided.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import boto3

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import IpPermissionTypeDef

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
AZ = "us-east-1a"
CLUSTER = "prod"
FAMILY = "web"
CONTAINER = "app"
REPOSITORY = "web"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DEFAULT_IMAGE = f"{REGISTRY}/{REPOSITORY}:v1"
LOG_GROUP = "/ecs/web"
SSM_PARAMETER = "/web/db-password"
SECRET_NAME = "web/api-key"
EXECUTION_ROLE = "web-execution-role"
TASK_ROLE = "web-task-role"
# A plain environment value that looks like a credential: ecsdoctor must never print it.
FAKE_ENV_VALUE = "SECRET_VALUE_SHOULD_NEVER_PRINT"
VPC_CIDR = "10.0.0.0/16"
TASK_SUBNET_CIDR = "10.0.1.0/24"
PUBLIC_SUBNET_CIDR = "10.0.0.0/24"
TASK_IP = "10.0.1.25"
NAT_IP = "10.0.0.10"
INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "ssm",
    "kms",
)

EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# The real AWS document (v1, unchanged since 2017), so the diagnosis evaluates what AWS would.
_EXECUTION_POLICY_DATA: dict[str, Any] = {
    "CreateDate": "2017-11-16T18:48:22+00:00",
    "UpdateDate": "2017-11-16T18:48:22+00:00",
    "DefaultVersionId": "v1",
    "Path": "/service-role/",
    "Document": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ],
    },
}


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What differs from the healthy baseline; the defaults are the healthy private-subnet account.

    Defaults: private task subnet without a default route, every interface endpoint (private DNS on)
    plus the S3 gateway endpoint, task SG egress 443 only, execution role with the managed execution
    policy plus an inline secrets policy, all referenced resources present.
    """

    nat: bool = False  # 0.0.0.0/0 -> NAT gateway in a public subnet
    public: bool = False  # task subnet routes 0.0.0.0/0 -> internet gateway
    assign_public_ip: bool = False
    interface_endpoints: frozenset[str] = frozenset(INTERFACE_ENDPOINTS)
    s3_endpoint: bool = True
    private_dns_off: frozenset[str] = (
        frozenset()
    )  # interface endpoints created with private DNS off
    dns_hostnames: bool = True  # VPC enableDnsHostnames after run_task (moto needs it on during)
    task_sg_egress_ports: tuple[int, ...] = (443,)
    endpoint_sg_source_cidr: str | None = None  # None: admit 443 from the task SG
    image: str = DEFAULT_IMAGE
    pushed_tags: tuple[str, ...] = ("v1",)
    execution_policy_on: Literal["execution", "task", "none"] = "execution"
    execution_inline_logs: bool = False  # inline policy also grants the awslogs actions
    execution_trust_service: str = "ecs-tasks.amazonaws.com"
    ssm_parameter_ref: str | None = None  # valueFrom override; None: the real parameter's ARN
    secret_ref: str | None = None  # valueFrom override; None: the real secret's ARN
    kms_enabled: bool = True
    log_group: bool = True


@dataclass(frozen=True, slots=True)
class BuiltAccount:
    """The ids of everything built: scenarios name their root cause from them, tests check them."""

    task_arn: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]


def build_account(session: boto3.session.Session, spec: AccountSpec) -> BuiltAccount:
    """Build the account described by ``spec`` and start one task of family ``web`` in it."""
    pin_task_state()
    # moto loads ~2,600 AMIs into every new EC2 backend (~0.35 s); nothing here uses them
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    ids: dict[str, str] = {"region": REGION, "account": ACCOUNT, "cluster": CLUSTER}
    _build_network(session, spec, ids)
    _build_iam(session, spec, ids)
    _build_image(session, spec, ids)
    _build_secrets_and_logs(session, spec, ids)
    task_arn = _run_task(session, spec, ids)
    if not spec.dns_hostnames:
        session.client("ec2", region_name=REGION).modify_vpc_attribute(
            VpcId=ids["vpc"], EnableDnsHostnames={"Value": False}
        )
    return BuiltAccount(task_arn=task_arn, ids=ids)


def pin_task_state() -> None:
    """Stop moto advancing a task one lifecycle state per describe_tasks (process-global)."""
    from moto.moto_api import state_manager

    state_manager.set_transition(
        model_name="ecs::task", transition={"progression": "manual", "times": 10**9}
    )


def fail_task(account: BuiltAccount, reason: str) -> None:
    """Stop the task as ECS does when it fails to start: stopCode, reasons and timestamps.

    moto's stop_task sets only stoppedReason, so the rest is planted on the backend task.
    """
    task = _backend_task(account.task_arn)
    now = datetime.now(UTC)
    task.stopped_reason = reason
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stop_code = "TaskFailedToStart"
    task.stopping_at = now - timedelta(seconds=5)
    task.stopped_at = now
    task.execution_stopped_at = now - timedelta(seconds=5)
    container = task.containers[0]
    container.last_status = "STOPPED"
    container.exitCode = None  # never ran: AWS omits exitCode
    container.health_status = "UNKNOWN"
    container.reason = reason


def mark_running(account: BuiltAccount) -> None:
    """Give the healthy task the start times a running Fargate task has."""
    task = _backend_task(account.task_arn)
    now = datetime.now(UTC)
    task.pull_started_at = now - timedelta(seconds=110)
    task.pull_stopped_at = now - timedelta(seconds=100)
    task.started_at = now - timedelta(seconds=90)
    task.health_status = "UNKNOWN"


def _backend(service: str, region: str) -> Any:
    """moto's in-process backend for ``service``: where facts the API cannot set are planted."""
    from moto.backends import get_backend

    return get_backend(service)[ACCOUNT][region]  # type: ignore[call-overload]


def _backend_task(task_arn: str) -> Any:
    return _backend("ecs", REGION).tasks[CLUSTER][task_arn]


def _tag(name: str) -> list[Any]:
    return [{"Key": "Name", "Value": name}]


def _build_network(session: boto3.session.Session, spec: AccountSpec, ids: dict[str, str]) -> None:
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag("prod")}]
    )["Vpc"]["VpcId"]
    ids["vpc"] = vpc
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    # on during run_task (moto bug: Fargate ENIs need it); build_account turns it off if asked
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})

    subnet = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock=TASK_SUBNET_CIDR,
        AvailabilityZone=AZ,
        TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag("prod-private-a")}],
    )["Subnet"]["SubnetId"]
    ids["subnet"] = subnet
    rtb = ec2.create_route_table(
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "route-table", "Tags": _tag("prod-private-a")}],
    )["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    ids["route_table"] = rtb
    ids["network_acl"] = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"][0]["NetworkAclId"]

    if spec.nat or spec.public:
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        ids["internet_gateway"] = igw
        if spec.public:
            ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        if spec.nat:
            public_subnet = ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=PUBLIC_SUBNET_CIDR,
                AvailabilityZone=AZ,
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag("prod-public-a")}],
            )["Subnet"]["SubnetId"]
            public_rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=public_rtb, SubnetId=public_subnet)
            ec2.create_route(
                RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw
            )
            eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
            nat = ec2.create_nat_gateway(SubnetId=public_subnet, AllocationId=eip)["NatGateway"][
                "NatGatewayId"
            ]
            ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
            _place_nat_eni(nat)
            ids.update(public_subnet=public_subnet, public_route_table=public_rtb, nat_gateway=nat)

    task_sg = ec2.create_security_group(GroupName="web-task", Description="web tasks", VpcId=vpc)[
        "GroupId"
    ]
    ids["task_sg"] = task_sg
    ec2.revoke_security_group_egress(
        GroupId=task_sg,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(
        GroupId=task_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
            for port in spec.task_sg_egress_ports
        ],
    )

    if spec.interface_endpoints:
        endpoint_sg = ec2.create_security_group(
            GroupName="vpc-endpoints", Description="interface endpoints", VpcId=vpc
        )["GroupId"]
        ids["endpoint_sg"] = endpoint_sg
        admit: IpPermissionTypeDef = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
        if spec.endpoint_sg_source_cidr:
            admit["IpRanges"] = [{"CidrIp": spec.endpoint_sg_source_cidr}]
        else:
            admit["UserIdGroupPairs"] = [{"GroupId": task_sg}]
        ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=[admit])
        for index, service in enumerate(
            s for s in INTERFACE_ENDPOINTS if s in spec.interface_endpoints
        ):
            endpoint = ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                SubnetIds=[subnet],
                SecurityGroupIds=[endpoint_sg],
                PrivateDnsEnabled=service not in spec.private_dns_off,
            )["VpcEndpoint"]
            ids[f"endpoint.{service}"] = endpoint["VpcEndpointId"]
            _place_endpoint_enis(endpoint["VpcEndpointId"], endpoint_sg, 10 + index)
    if spec.s3_endpoint:
        ids["endpoint.s3"] = ec2.create_vpc_endpoint(
            VpcEndpointType="Gateway",
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{REGION}.s3",
            RouteTableIds=[rtb],
        )["VpcEndpoint"]["VpcEndpointId"]


def _place_endpoint_enis(endpoint_id: str, group_id: str, host: int) -> None:
    """Give an endpoint's ENIs an address in the task subnet and the endpoint's SG, as AWS does.

    moto gives them a random 10.x address and the VPC's default SG.
    """
    ec2 = _backend("ec2", REGION)
    group = ec2.get_security_group_from_id(group_id)
    for eni_id in ec2.vpc_end_points[endpoint_id].network_interface_ids:
        eni = ec2.get_network_interface(eni_id)
        _set_eni_ip(eni, f"10.0.1.{host}")
        if group is not None:
            eni._group_set = [group]
        eni.description = f"VPC Endpoint Interface {endpoint_id}"


def _place_nat_eni(nat_id: str) -> None:
    """Put the NAT gateway's ENI inside its public subnet; moto picks a random 10.x address."""
    nat = _backend("ec2", REGION).nat_gateways[nat_id]
    _set_eni_ip(nat._eni, NAT_IP)
    nat.private_ip = NAT_IP
    for address in nat.address_set:
        address["privateIp"] = NAT_IP
    nat._eni.description = f"Interface for NAT Gateway {nat_id}"


def _set_eni_ip(eni: Any, ip: str) -> None:
    eni.private_ip_address = ip
    eni.private_dns_name = "ip-{}.ec2.internal".format(ip.replace(".", "-"))
    eni.private_ip_addresses = [
        {"Primary": True, "PrivateIpAddress": ip, "PrivateDnsName": eni.private_dns_name}
    ]


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def inject_execution_policy() -> None:
    """Add AmazonECSTaskExecutionRolePolicy to moto's IAM, which holds no AWS-managed policy.

    Loading all 1,500+ managed policies costs ~1.5 s per mock context; this one costs nothing.
    """
    from moto.iam.models import AWSManagedPolicy

    iam = _backend("iam", "global")
    if EXECUTION_POLICY_ARN in iam.managed_policies:
        return
    policy = AWSManagedPolicy.from_data(
        "AmazonECSTaskExecutionRolePolicy", ACCOUNT, "global", _EXECUTION_POLICY_DATA
    )
    iam.aws_managed_policies.append(policy)
    iam.managed_policies[policy.arn] = policy


def _build_iam(session: boto3.session.Session, spec: AccountSpec, ids: dict[str, str]) -> None:
    iam = session.client("iam", region_name=REGION)
    inject_execution_policy()
    ids["execution_role"] = iam.create_role(
        RoleName=EXECUTION_ROLE,
        AssumeRolePolicyDocument=_trust(spec.execution_trust_service),
        Description="ECS task execution role for web",
    )["Role"]["Arn"]
    ids["task_role"] = iam.create_role(
        RoleName=TASK_ROLE,
        AssumeRolePolicyDocument=_trust("ecs-tasks.amazonaws.com"),
        Description="Application role for web",
    )["Role"]["Arn"]
    ids["execution_role_name"] = EXECUTION_ROLE
    ids["task_role_name"] = TASK_ROLE
    if spec.execution_policy_on == "execution":
        iam.attach_role_policy(RoleName=EXECUTION_ROLE, PolicyArn=EXECUTION_POLICY_ARN)
    elif spec.execution_policy_on == "task":
        iam.attach_role_policy(RoleName=TASK_ROLE, PolicyArn=EXECUTION_POLICY_ARN)
    ids["execution_policy"] = EXECUTION_POLICY_ARN
    # The secrets the task reads, by prefix so a mistyped reference is not also an IAM denial.
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/web/*",
        },
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:web/*",
        },
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"},
    ]
    if spec.execution_inline_logs:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
            }
        )
    iam.put_role_policy(
        RoleName=EXECUTION_ROLE,
        PolicyName="web-secrets",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )


def _build_image(session: boto3.session.Session, spec: AccountSpec, ids: dict[str, str]) -> None:
    ecr = session.client("ecr", region_name=REGION)
    repo = ecr.create_repository(repositoryName=REPOSITORY)["repository"]
    ids["repository"] = repo["repositoryArn"]
    ids["repository_uri"] = repo["repositoryUri"]
    layer = "sha256:" + hashlib.sha256(b"web layer").hexdigest()
    config = "sha256:" + hashlib.sha256(b"web config").hexdigest()
    for tag in spec.pushed_tags:
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 1457,
                    "digest": config,
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": 3370706,
                        "digest": layer,
                    }
                ],
            }
        )
        # moto's own digest for a manifest is unreliable, so pass the real one
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        ecr.put_image(
            repositoryName=REPOSITORY, imageManifest=manifest, imageTag=tag, imageDigest=digest
        )
        ids[f"image_digest.{tag}"] = digest
    ids["image"] = spec.image


def _build_secrets_and_logs(
    session: boto3.session.Session, spec: AccountSpec, ids: dict[str, str]
) -> None:
    kms = session.client("kms", region_name=REGION)
    key = kms.create_key(Description="web secrets")["KeyMetadata"]
    kms.create_alias(AliasName="alias/web", TargetKeyId=key["KeyId"])
    ids["kms_key"] = key["Arn"]
    ids["kms_key_id"] = key["KeyId"]

    ssm = session.client("ssm", region_name=REGION)
    ssm.put_parameter(
        Name=SSM_PARAMETER, Value="db-password-value", Type="SecureString", KeyId=key["KeyId"]
    )
    ids["ssm_parameter"] = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{SSM_PARAMETER}"
    secret = session.client("secretsmanager", region_name=REGION).create_secret(
        Name=SECRET_NAME, SecretString="api-key-value", KmsKeyId=key["Arn"]
    )
    ids["secret"] = secret["ARN"]
    if not spec.kms_enabled:
        kms.disable_key(KeyId=key["KeyId"])

    ids["log_group"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}"
    if spec.log_group:
        session.client("logs", region_name=REGION).create_log_group(logGroupName=LOG_GROUP)


def _run_task(session: boto3.session.Session, spec: AccountSpec, ids: dict[str, str]) -> str:
    ecs = session.client("ecs", region_name=REGION)
    ids["cluster_arn"] = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    ids["ssm_parameter_ref"] = spec.ssm_parameter_ref or ids["ssm_parameter"]
    ids["secret_ref"] = spec.secret_ref or ids["secret"]
    taskdef = ecs.register_task_definition(
        family=FAMILY,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=ids["execution_role"],
        taskRoleArn=ids["task_role"],
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": spec.image,
                "essential": True,
                "memory": 512,  # moto's run_task needs memory on every container
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "LEGACY_API_TOKEN", "value": FAKE_ENV_VALUE}],
                "secrets": [
                    {"name": "DB_PASSWORD", "valueFrom": ids["ssm_parameter_ref"]},
                    {"name": "API_KEY", "valueFrom": ids["secret_ref"]},
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": LOG_GROUP,
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "web",
                    },
                },
            }
        ],
    )["taskDefinition"]
    ids["task_definition"] = taskdef["taskDefinitionArn"]
    task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=ids["task_definition"],
        launchType="FARGATE",
        platformVersion="1.4.0",
        group="service:web",
        startedBy="ecs-svc/1234567890123456789",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [ids["subnet"]],
                "securityGroups": [ids["task_sg"]],
                "assignPublicIp": "ENABLED" if spec.assign_public_ip else "DISABLED",
            }
        },
    )["tasks"][0]
    task_arn = task["taskArn"]
    ids["task"] = task_arn
    _settle_task(task_arn, ids)
    return task_arn


def _settle_task(task_arn: str, ids: dict[str, str]) -> None:
    """Fill in what moto leaves out of a Fargate task: AZ, platform, times, an in-subnet ENI."""
    task = _backend_task(task_arn)
    now = datetime.now(UTC)
    task.availability_zone = AZ
    task.platform_version = "1.4.0"
    task.platform_family = "Linux"
    task.cpu = "256"
    task.memory = "512"
    task.connectivity = "CONNECTED"
    task.created_at = now - timedelta(minutes=2)
    task.connectivity_at = now - timedelta(minutes=2)
    container = task.containers[0]
    container.task_arn = task_arn  # moto puts the task definition ARN here
    container.last_status = "RUNNING"
    container.memory = "512"
    eni_id = ""
    for detail in task.attachments[0]["details"]:
        if detail["name"] == "networkInterfaceId":
            eni_id = detail["value"]
    eni = _backend("ec2", REGION).get_network_interface(eni_id)
    _set_eni_ip(eni, TASK_IP)
    eni.description = f"arn:aws:ecs:{REGION}:{ACCOUNT}:attachment/{task.attachments[0]['id']}"
    for detail in task.attachments[0]["details"]:
        if detail["name"] == "privateIPv4Address":
            detail["value"] = TASK_IP
        elif detail["name"] == "privateDnsName":
            detail["value"] = eni.private_dns_name
    ids["eni"] = eni_id
    ids["task_ip"] = TASK_IP
