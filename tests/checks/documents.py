"""AWS response documents in the shapes boto3 returns them (botocore's service models).

Only the fields a check reads are filled in, plus enough of the rest to look like the real thing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ecsdoctor.errors import ApiError

CREATED = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def parameter(name: str, arn: str, key_id: str = "alias/aws/ssm") -> dict[str, Any]:
    """One ssm DescribeParameters `Parameters[]` entry (SecureString)."""
    return {
        "Name": name,
        "ARN": arn,
        "Type": "SecureString",
        "KeyId": key_id,
        "LastModifiedDate": CREATED,
        "LastModifiedUser": "arn:aws:iam::111122223333:role/deployer",
        "Version": 3,
        "Tier": "Standard",
        "Policies": [],
        "DataType": "text",
    }


def describe_secret(
    arn: str, name: str, kms_key: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A secretsmanager DescribeSecret response (KmsKeyId absent: the AWS managed key)."""
    doc: dict[str, Any] = {
        "ARN": arn,
        "Name": name,
        "LastChangedDate": CREATED,
        "CreatedDate": CREATED,
        "VersionIdsToStages": {"3f9a9a58-3a2e-4d7b-9b1e-7c6f1e0f6a11": ["AWSCURRENT"]},
        **extra,
    }
    if kms_key:
        doc["KmsKeyId"] = kms_key
    return doc


def secret_not_found() -> ApiError:
    """Secrets Manager's answer for a secret that does not exist (message as AWS words it)."""
    return ApiError(
        "secretsmanager:DescribeSecret",
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )


def describe_key(arn: str, state: str, manager: str = "CUSTOMER") -> dict[str, Any]:
    """A kms DescribeKey response."""
    region, account, key_id = arn.split(":")[3], arn.split(":")[4], arn.rsplit("/", 1)[-1]
    meta: dict[str, Any] = {
        "AWSAccountId": account,
        "KeyId": key_id,
        "Arn": arn,
        "CreationDate": CREATED,
        "Enabled": state == "Enabled",
        "Description": f"secrets in {region}",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": state,
        "Origin": "AWS_KMS",
        "KeyManager": manager,
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }
    if state == "PendingDeletion":
        meta["DeletionDate"] = datetime(2025, 12, 3, tzinfo=UTC)
        meta["PendingDeletionWindowInDays"] = 30
    return {"KeyMetadata": meta}


def trust_policy(service: str = "ecs-tasks.amazonaws.com") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def get_role(arn: str, trust: dict[str, Any]) -> dict[str, Any]:
    """An iam GetRole response (the trust policy URL-decoded, as boto3 hands it back)."""
    name = arn.rsplit("/", 1)[-1]
    return {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROA" + name.upper().replace("-", "")[:16].ljust(17, "X"),
            "Arn": arn,
            "CreateDate": CREATED,
            "AssumeRolePolicyDocument": trust,
            "MaxSessionDuration": 3600,
        }
    }


def no_such_role(name: str) -> ApiError:
    """IAM's answer to GetRole for a role that does not exist."""
    return ApiError("iam:GetRole", "NoSuchEntity", f"The role with name {name} cannot be found.")


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: list[str] | str, resource: list[str] | str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


#: The documented content of AmazonECSTaskExecutionRolePolicy (version v1).
EXECUTION_POLICY_DOCUMENT = policy(
    allow(
        [
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchGetImage",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ]
    )
)


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document)


def repository(region: str, account: str, name: str) -> dict[str, Any]:
    """One ecr DescribeRepositories `repositories[]` entry."""
    return {
        "repositoryArn": f"arn:aws:ecr:{region}:{account}:repository/{name}",
        "registryId": account,
        "repositoryName": name,
        "repositoryUri": f"{account}.dkr.ecr.{region}.amazonaws.com/{name}",
        "createdAt": CREATED,
        "imageTagMutability": "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": False},
        "encryptionConfiguration": {"encryptionType": "AES256"},
    }


def repository_not_found(account: str, name: str) -> ApiError:
    """ECR's answer for a repository that does not exist."""
    return ApiError(
        "ecr:DescribeRepositories",
        "RepositoryNotFoundException",
        f"The repository with name '{name}' does not exist in the registry with id '{account}'",
    )


def image_not_found(account: str, name: str, tag: str) -> ApiError:
    """ECR's answer to DescribeImages for a tag the repository does not hold."""
    return ApiError(
        "ecr:DescribeImages",
        "ImageNotFoundException",
        f"The image with imageId {{imageDigest:'null', imageTag:'{tag}'}} does not exist within "
        f"the repository with name '{name}' in the registry with id '{account}'",
    )


def image_detail(account: str, name: str, tags: list[str], pushed: str) -> dict[str, Any]:
    """One ecr DescribeImages `imageDetails[]` entry."""
    return {
        "registryId": account,
        "repositoryName": name,
        "imageDigest": "sha256:" + (tags[0].encode().hex() * 64)[:64],
        "imageTags": tags,
        "imageSizeInBytes": 48213597,
        "imagePushedAt": datetime.fromisoformat(pushed),
        "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
        "artifactMediaType": "application/vnd.oci.image.config.v1+json",
    }


def image_index(*architectures: str) -> str:
    """A multi-platform OCI image index, as BatchGetImage returns it in `imageManifest`."""
    return json_text(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + (arch.encode().hex() * 64)[:64],
                    "size": 1043,
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch in architectures
            ],
        }
    )


def single_manifest() -> str:
    """A single-platform image manifest: its architecture sits in the config blob."""
    return json_text(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "c" * 64,
                "size": 7023,
            },
            "layers": [],
        }
    )


# -- EC2 networking -------------------------------------------------------------------------------
def subnet(subnet_id: str, vpc_id: str, cidr: str, zone: str, account: str) -> dict[str, Any]:
    """One ec2 DescribeSubnets `Subnets[]` entry."""
    region = zone[:-1]
    return {
        "AvailabilityZone": zone,
        "AvailabilityZoneId": f"{region[:2]}{region.split('-')[1][0]}1-az{'abcdef'.index(zone[-1]) + 1}",
        "AvailableIpAddressCount": 245,
        "CidrBlock": cidr,
        "DefaultForAz": False,
        "MapPublicIpOnLaunch": False,
        "State": "available",
        "SubnetId": subnet_id,
        "VpcId": vpc_id,
        "OwnerId": account,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "SubnetArn": f"arn:aws:ec2:{region}:{account}:subnet/{subnet_id}",
    }


def rule(port: int | None, *, cidr: str | None = None, group: str | None = None) -> dict[str, Any]:
    """One IpPermissions entry: TCP `port` (None: all traffic) from a CIDR or a security group."""
    perm: dict[str, Any] = (
        {"IpProtocol": "-1"}
        if port is None
        else {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    )
    perm["IpRanges"] = [{"CidrIp": cidr}] if cidr else []
    perm["Ipv6Ranges"] = []
    perm["PrefixListIds"] = []
    perm["UserIdGroupPairs"] = [{"GroupId": group, "UserId": "111122223333"}] if group else []
    return perm


def security_group(
    group_id: str,
    vpc_id: str,
    name: str,
    inbound: list[dict[str, Any]],
    outbound: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One ec2 DescribeSecurityGroups `SecurityGroups[]` entry (all outbound by default)."""
    return {
        "Description": f"{name} security group",
        "GroupName": name,
        "IpPermissions": inbound,
        "OwnerId": "111122223333",
        "GroupId": group_id,
        "IpPermissionsEgress": [rule(None, cidr="0.0.0.0/0")] if outbound is None else outbound,
        "VpcId": vpc_id,
    }


# -- Elastic Load Balancing -----------------------------------------------------------------------
def target_group(
    arn: str,
    vpc_id: str,
    lb_arn: str,
    *,
    health_port: str = "traffic-port",
    target_type: str = "ip",
) -> dict[str, Any]:
    """One elbv2 DescribeTargetGroups `TargetGroups[]` entry."""
    return {
        "TargetGroupArn": arn,
        "TargetGroupName": arn.split("/")[1],
        "Protocol": "HTTP",
        "Port": 80,
        "VpcId": vpc_id,
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": health_port,
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
        "HealthCheckPath": "/health",
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [lb_arn],
        "TargetType": target_type,
        "ProtocolVersion": "HTTP1",
        "IpAddressType": "ipv4",
    }


def load_balancer(
    arn: str, vpc_id: str, zones: dict[str, str], groups: list[str] | None
) -> dict[str, Any]:
    """One elbv2 DescribeLoadBalancers `LoadBalancers[]` entry; `zones` maps zone -> subnet."""
    name = arn.split("/")[2]
    kind = arn.split("/")[1]
    doc: dict[str, Any] = {
        "LoadBalancerArn": arn,
        "DNSName": f"{name}-1234567890.{next(iter(zones))[:-1]}.elb.amazonaws.com",
        "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K",
        "CreatedTime": CREATED,
        "LoadBalancerName": name,
        "Scheme": "internet-facing",
        "VpcId": vpc_id,
        "State": {"Code": "active"},
        "Type": "application" if kind == "app" else "network",
        "AvailabilityZones": [
            {"ZoneName": z, "SubnetId": s, "LoadBalancerAddresses": []} for z, s in zones.items()
        ],
        "IpAddressType": "ipv4",
    }
    if groups is not None:
        doc["SecurityGroups"] = groups
    return doc


def target(
    ip: str, zone: str, state: str, reason: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """One elbv2 DescribeTargetHealth `TargetHealthDescriptions[]` entry."""
    health: dict[str, Any] = {"State": state}
    if reason:
        health["Reason"] = reason
    if description:
        health["Description"] = description
    return {
        "Target": {"Id": ip, "Port": 8080, "AvailabilityZone": zone},
        "HealthCheckPort": "8080",
        "TargetHealth": health,
    }


def route_table(
    table_id: str,
    vpc_id: str,
    vpc_cidr: str,
    subnets: list[str],
    default: dict[str, str] | None,
    *,
    main: bool = False,
    state: str = "active",
) -> dict[str, Any]:
    """One ec2 DescribeRouteTables `RouteTables[]` entry; `default` is the 0.0.0.0/0 target."""
    routes: list[dict[str, Any]] = [
        {
            "DestinationCidrBlock": vpc_cidr,
            "GatewayId": "local",
            "Origin": "CreateRouteTable",
            "State": "active",
        }
    ]
    if default is not None:
        routes.append(
            {
                "DestinationCidrBlock": "0.0.0.0/0",
                "Origin": "CreateRoute",
                "State": state,
                **default,
            }
        )
    associations: list[dict[str, Any]] = [
        {
            "Main": False,
            "RouteTableAssociationId": f"rtbassoc-{s[-17:]}",
            "RouteTableId": table_id,
            "SubnetId": s,
            "AssociationState": {"State": "associated"},
        }
        for s in subnets
    ]
    if main:
        associations.append(
            {
                "Main": True,
                "RouteTableAssociationId": f"rtbassoc-{table_id[-17:]}",
                "RouteTableId": table_id,
                "AssociationState": {"State": "associated"},
            }
        )
    return {
        "Associations": associations,
        "PropagatingVgws": [],
        "RouteTableId": table_id,
        "Routes": routes,
        "Tags": [],
        "VpcId": vpc_id,
        "OwnerId": "111122223333",
    }


def nat_gateway(nat_id: str, vpc_id: str, subnet_id: str, state: str) -> dict[str, Any]:
    """One ec2 DescribeNatGateways `NatGateways[]` entry."""
    doc: dict[str, Any] = {
        "CreateTime": CREATED,
        "NatGatewayAddresses": [
            {
                "AllocationId": "eipalloc-0c1d2e3f4a5b6c7d8",
                "NetworkInterfaceId": "eni-0f0e0d0c0b0a09080",
                "PrivateIp": "10.0.101.12",
                "PublicIp": "54.210.17.33",
            }
        ],
        "NatGatewayId": nat_id,
        "State": state,
        "SubnetId": subnet_id,
        "VpcId": vpc_id,
        "ConnectivityType": "public",
    }
    if state in ("deleted", "failed"):
        doc["DeleteTime"] = CREATED
    return doc


def interface_endpoint(
    endpoint_id: str,
    vpc_id: str,
    service: str,
    subnets: list[str],
    group: str,
    *,
    state: str = "available",
    private_dns: bool = True,
) -> dict[str, Any]:
    """One ec2 DescribeVpcEndpoints `VpcEndpoints[]` entry of type Interface."""
    return {
        "VpcEndpointId": endpoint_id,
        "VpcEndpointType": "Interface",
        "VpcId": vpc_id,
        "ServiceName": service,
        "State": state,
        "RouteTableIds": [],
        "SubnetIds": subnets,
        "Groups": [{"GroupId": group, "GroupName": "vpc-endpoints"}],
        "IpAddressType": "ipv4",
        "PrivateDnsEnabled": private_dns,
        "RequesterManaged": False,
        "NetworkInterfaceIds": ["eni-0e1d2c3b4a5968778"],
        "CreationTimestamp": CREATED,
        "OwnerId": "111122223333",
    }


def gateway_endpoint(
    endpoint_id: str, vpc_id: str, service: str, tables: list[str]
) -> dict[str, Any]:
    """One ec2 DescribeVpcEndpoints `VpcEndpoints[]` entry of type Gateway (S3)."""
    return {
        "VpcEndpointId": endpoint_id,
        "VpcEndpointType": "Gateway",
        "VpcId": vpc_id,
        "ServiceName": service,
        "State": "available",
        "RouteTableIds": tables,
        "SubnetIds": [],
        "Groups": [],
        "PrivateDnsEnabled": False,
        "RequesterManaged": False,
        "NetworkInterfaceIds": [],
        "CreationTimestamp": CREATED,
        "OwnerId": "111122223333",
    }


def acl_entry(number: int, egress: bool, action: str, port: int | None = None) -> dict[str, Any]:
    """One network ACL entry: TCP `port` (None: all traffic) to/from anywhere."""
    entry: dict[str, Any] = {
        "CidrBlock": "0.0.0.0/0",
        "Egress": egress,
        "Protocol": "-1" if port is None else "6",
        "RuleAction": action,
        "RuleNumber": number,
    }
    if port is not None:
        entry["PortRange"] = {"From": port, "To": port}
    return entry


def network_acl(
    acl_id: str, vpc_id: str, subnet_id: str, entries: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One ec2 DescribeNetworkAcls `NetworkAcls[]` entry (the default: allow all, both ways)."""
    default = [
        acl_entry(100, True, "allow"),
        acl_entry(32767, True, "deny"),
        acl_entry(100, False, "allow"),
        acl_entry(32767, False, "deny"),
    ]
    return {
        "Associations": [
            {
                "NetworkAclAssociationId": f"aclassoc-{subnet_id[-17:]}",
                "NetworkAclId": acl_id,
                "SubnetId": subnet_id,
            }
        ],
        "Entries": default if entries is None else entries,
        "IsDefault": entries is None,
        "NetworkAclId": acl_id,
        "Tags": [],
        "VpcId": vpc_id,
        "OwnerId": "111122223333",
    }
