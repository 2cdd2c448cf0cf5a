"""The AWS state one failed task depended on, read once through the shared reader.

Checks are small functions over this snapshot. Every accessor goes through the memoised,
allow-listed reader, so two checks asking for the same route table cost one request, and
`prefetch` warms the independent reads concurrently before the checks run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from typing import Any

from ecsdoctor.arn import ImageRef, TaskRef, parse_arn, parse_image
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import ApiError, AwsSetupError, MalformedResponse, ReadError

Raw = Mapping[str, Any]

#: What reading a task and the network it sat in costs, whatever checks run afterwards.
SNAPSHOT_READS = (
    "ecs:DescribeTasks",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeServices",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNatGateways",
    "ec2:DescribePrefixLists",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Where the task's ENI sat, and how we know (the ENI itself, or its service's config)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    assign_public_ip: bool | None  # None: unknown
    private_ip: str | None
    eni_id: str | None
    source: str  # "ec2:DescribeNetworkInterfaces" | "ecs:DescribeServices" | "task attachment"
    eni_error: str | None = None  # why the ENI was not read (gone, or e.g. access denied)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """One `secrets[]` or `repositoryCredentials` reference of a container."""

    container: str
    name: str
    value_from: str
    store: str  # "ssm" | "secretsmanager"
    region: str
    account: str
    arn: str  # full ARN (built from region/account when valueFrom is a bare name)
    lookup: str  # what to pass to the describe call (parameter name / secret id)
    json_key: str | None = None


def _field(response: Raw, key: str, permission: str) -> Any:
    """`response[key]`; a 200 without it is a MalformedResponse (a data gap), never a KeyError."""
    return MalformedResponse.require(response, key, permission, object)


def describe_security_groups(
    reader: Reader, region: str, group_ids: Sequence[str]
) -> dict[str, Raw]:
    """Security groups by id in one memoised request (sorted ids: one cache key per set)."""
    if not group_ids:
        return {}
    groups = reader.call(
        "ec2", "DescribeSecurityGroups", region=region, GroupIds=sorted(set(group_ids))
    ).get("SecurityGroups", [])
    return {g["GroupId"]: g for g in groups if isinstance(g, Mapping) and g.get("GroupId")}


class TaskSnapshot:
    """A stopped (or running) task and everything it needed, read lazily and cached."""

    def __init__(
        self,
        reader: Reader,
        ref: TaskRef,
        task: Raw | None = None,
        service: Raw | None = None,
    ) -> None:
        """`task` and `service` skip their reads when a service diagnosis already holds them."""
        self.reader = reader
        self.ref = ref
        self.region = ref.region or reader.region
        self.task = task if task is not None else self._describe_task()
        if service is not None:
            self.__dict__["service"] = service  # pre-fill the cached_property
        try:
            self.task_arn: str = MalformedResponse.require(
                self.task, "taskArn", "ecs:DescribeTasks", str
            )
            self.task_definition_arn: str = MalformedResponse.require(
                self.task, "taskDefinitionArn", "ecs:DescribeTasks", str
            )
        except MalformedResponse as err:
            raise AwsSetupError(f"cannot read the task: {err}") from err
        arn = parse_arn(self.task_arn)
        self.account = (arn.account if arn else None) or ref.account or reader.account or ""
        self.cluster_arn: str = str(self.task.get("clusterArn") or ref.cluster)

    # -- the task itself -------------------------------------------------------------------
    def _describe_task(self) -> Raw:
        try:
            response = self.reader.call(
                "ecs",
                "DescribeTasks",
                region=self.ref.region,
                cluster=self.ref.cluster,
                tasks=[self.ref.task],
                include=["TAGS"],
            )
        except ApiError as err:
            if err.code == "ClusterNotFoundException":
                raise AwsSetupError(
                    f"cluster {self.ref.cluster!r} not found in {self.region}"
                ) from err
            raise AwsSetupError(f"cannot read the task: {err.message}") from err
        except ReadError as err:
            raise AwsSetupError(f"cannot read the task: {err}") from err
        tasks = [t for t in response.get("tasks") or [] if isinstance(t, Mapping)]
        if not tasks:
            raise AwsSetupError(
                f"task {self.ref.task} not found in cluster {self.ref.cluster} ({self.region}): "
                "ECS forgets stopped tasks about an hour after they stop; diagnose a saved "
                "EventBridge event or describe-tasks output with --events instead"
            )
        task: Raw = tasks[0]
        return task

    @cached_property
    def task_definition(self) -> Raw:
        """The task definition the task ran (describe_task_definition)."""
        response = self.reader.call(
            "ecs",
            "DescribeTaskDefinition",
            region=self.region,
            taskDefinition=self.task_definition_arn,
        )
        definition: Raw = MalformedResponse.require(
            response, "taskDefinition", "ecs:DescribeTaskDefinition", dict
        )
        return definition

    @property
    def containers(self) -> list[Raw]:
        """Container definitions."""
        return [
            c
            for c in self.task_definition.get("containerDefinitions") or []
            if isinstance(c, Mapping)
        ]

    @property
    def execution_role_arn(self) -> str | None:
        """The execution role (pull, logs, secrets), if any."""
        value = self.task_definition.get("executionRoleArn")
        return value if isinstance(value, str) else None

    @property
    def task_role_arn(self) -> str | None:
        """The task role (the application's own calls), if any."""
        value = self.task.get("overrides", {}).get("taskRoleArn") or self.task_definition.get(
            "taskRoleArn"
        )
        return value if isinstance(value, str) else None

    @property
    def group(self) -> str | None:
        """`service:NAME` for a service's task."""
        value = self.task.get("group")
        return value if isinstance(value, str) else None

    @property
    def service_name(self) -> str | None:
        """The service the task belongs to, if any."""
        if self.group and self.group.startswith("service:"):
            return self.group.split(":", 1)[1]
        return None

    @property
    def network_mode(self) -> str:
        """awsvpc for Fargate; bridge/host tasks use the container instance's network."""
        try:
            return str(self.task_definition.get("networkMode") or "bridge")
        except ReadError:
            # The task definition is unreadable; an ENI attachment means awsvpc all the same.
            return "awsvpc" if self._attachment() else "bridge"

    @property
    def availability_zone(self) -> str | None:
        """The AZ the task ran in (from the task, else its subnet)."""
        zone = self.task.get("availabilityZone")
        if isinstance(zone, str) and zone:
            return zone
        config = self.network
        if config and config.subnet_ids:
            return str(self.subnet(config.subnet_ids[0]).get("AvailabilityZone") or "") or None
        return None

    # -- images, secrets, logs --------------------------------------------------------------
    def images(self) -> list[tuple[str, str, ImageRef | ValueError]]:
        """(container, image string, parsed reference or the parse error) per container."""
        result: list[tuple[str, str, ImageRef | ValueError]] = []
        for container in self.containers:
            image = str(container.get("image", ""))
            try:
                parsed: ImageRef | ValueError = parse_image(image)
            except ValueError as err:
                parsed = err
            result.append((str(container.get("name", "")), image, parsed))
        return result

    def secret_refs(self) -> list[SecretRef]:
        """Every secret the execution role must fetch (container secrets, registry creds)."""
        refs: list[SecretRef] = []
        for container in self.containers:
            name = str(container.get("name", ""))
            for secret in container.get("secrets", []) or []:
                ref = self._secret_ref(
                    name, str(secret.get("name", "")), str(secret.get("valueFrom", ""))
                )
                if ref:
                    refs.append(ref)
            creds = container.get("repositoryCredentials") or {}
            if creds.get("credentialsParameter"):
                ref = self._secret_ref(
                    name, "repositoryCredentials", str(creds["credentialsParameter"])
                )
                if ref:
                    refs.append(ref)
            for log_secret in (container.get("logConfiguration") or {}).get(
                "secretOptions", []
            ) or []:
                ref = self._secret_ref(
                    name, str(log_secret.get("name", "")), str(log_secret.get("valueFrom", ""))
                )
                if ref:
                    refs.append(ref)
        return refs

    def _secret_ref(self, container: str, name: str, value_from: str) -> SecretRef | None:
        if not value_from:
            return None
        arn = parse_arn(value_from)
        if arn is None:
            # A bare name is an SSM parameter in the task's region and account.
            parameter = value_from if value_from.startswith("/") else f"/{value_from}"
            full = f"arn:aws:ssm:{self.region}:{self.account}:parameter{parameter}"
            return SecretRef(
                container, name, value_from, "ssm", self.region, self.account, full, value_from
            )
        region = arn.region or self.region
        account = arn.account or self.account
        if arn.service == "ssm":
            lookup = (
                arn.resource[len("parameter") :]
                if arn.resource.startswith("parameter")
                else arn.resource
            )
            if not lookup.startswith("/"):
                lookup = "/" + lookup
            # Parameters at the root are named without the leading slash.
            if lookup.count("/") == 1:
                lookup = lookup[1:]
            return SecretRef(
                container, name, value_from, "ssm", region, account, value_from, lookup
            )
        if arn.service == "secretsmanager":
            # arn:aws:secretsmanager:region:acct:secret:NAME[-SUFFIX][:json-key:version-stage:version-id]
            pieces = value_from.split(":")
            base = ":".join(pieces[:7])
            json_key = pieces[7] if len(pieces) > 7 and pieces[7] else None
            return SecretRef(
                container, name, value_from, "secretsmanager", region, account, base, base, json_key
            )
        return None

    def log_configs(self) -> list[tuple[str, Raw]]:
        """(container, awslogs options) for every container using the awslogs driver."""
        result: list[tuple[str, Raw]] = []
        for container in self.containers:
            config = container.get("logConfiguration") or {}
            if config.get("logDriver") == "awslogs":
                result.append((str(container.get("name", "")), config.get("options") or {}))
        return result

    # -- network ----------------------------------------------------------------------------
    def _attachment(self) -> dict[str, str]:
        for attachment in self.task.get("attachments", []) or []:
            if attachment.get("type") == "ElasticNetworkInterface":
                return {
                    d.get("name", ""): d.get("value", "") for d in attachment.get("details", [])
                }
        return {}

    @cached_property
    def network(self) -> NetworkConfig | None:
        """The task's subnets, security groups and public-IP setting (None outside awsvpc)."""
        if self.network_mode != "awsvpc":
            return None
        details = self._attachment()
        eni_id = details.get("networkInterfaceId") or None
        subnet = details.get("subnetId")
        private_ip = details.get("privateIPv4Address") or None
        eni_error: str | None = None
        if eni_id:
            try:
                enis = self.reader.call(
                    "ec2",
                    "DescribeNetworkInterfaces",
                    region=self.region,
                    NetworkInterfaceIds=[eni_id],
                ).get("NetworkInterfaces", [])
            except ReadError as err:
                # A stopped Fargate task's ENI is deleted, or the read is denied: fall back to
                # the service's configuration and the task's own attachment.
                enis, eni_error = [], str(err)
            if enis:
                eni = enis[0]
                return NetworkConfig(
                    subnet_ids=(str(eni.get("SubnetId") or subnet),),
                    security_group_ids=tuple(
                        str(g["GroupId"]) for g in eni.get("Groups") or [] if g.get("GroupId")
                    ),
                    assign_public_ip=bool((eni.get("Association") or {}).get("PublicIp")),
                    private_ip=private_ip or eni.get("PrivateIpAddress"),
                    eni_id=eni_id,
                    source="ec2:DescribeNetworkInterfaces",
                )
        try:
            service = self.service
        except ReadError:
            service = None  # ecs:DescribeServices denied or failing: the attachment still tells
        if service:
            vpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
            if vpc:
                return NetworkConfig(
                    subnet_ids=(subnet,) if subnet else tuple(vpc.get("subnets", [])),
                    security_group_ids=tuple(vpc.get("securityGroups", [])),
                    assign_public_ip=vpc.get("assignPublicIp") == "ENABLED",
                    private_ip=private_ip,
                    eni_id=eni_id,
                    source="ecs:DescribeServices",
                    eni_error=eni_error,
                )
        if subnet:
            return NetworkConfig(
                (subnet,), (), None, private_ip, eni_id, "task attachment", eni_error
            )
        return None

    @cached_property
    def service(self) -> Raw | None:
        """The service the task belongs to (describe_services), if any."""
        if not self.service_name:
            return None
        response = self.reader.call(
            "ecs",
            "DescribeServices",
            region=self.region,
            cluster=self.cluster_arn,
            services=[self.service_name],
        )
        services = response.get("services") or []
        return services[0] if services else None

    def subnet(self, subnet_id: str) -> Raw:
        """One subnet."""
        subnets = self.reader.call(
            "ec2", "DescribeSubnets", region=self.region, SubnetIds=[subnet_id]
        ).get("Subnets", [])
        if not subnets:
            raise ApiError(
                "ec2:DescribeSubnets", "InvalidSubnetID.NotFound", f"{subnet_id} not found"
            )
        subnet: Raw = subnets[0]
        MalformedResponse.require(subnet, "VpcId", "ec2:DescribeSubnets", str)
        return subnet

    def vpc_route_tables(self, vpc_id: str) -> list[Raw]:
        """Every route table of the VPC (one read serves every subnet's lookup)."""
        return list(
            self.reader.pages(
                "ec2",
                "DescribeRouteTables",
                "RouteTables",
                region=self.region,
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
            )
        )

    def route_table_for(self, subnet_id: str) -> Raw:
        """The subnet's route table: its explicit association, else the VPC's main table."""
        vpc_id = str(self.subnet(subnet_id)["VpcId"])
        tables = self.vpc_route_tables(vpc_id)
        for table in tables:
            if any(a.get("SubnetId") == subnet_id for a in table.get("Associations", [])):
                return table
        for table in tables:
            if any(a.get("Main") for a in table.get("Associations", [])):
                return table
        raise ApiError("ec2:DescribeRouteTables", "NoRouteTable", f"no route table for {subnet_id}")

    def vpc_attribute(self, vpc_id: str, attribute: str) -> bool:
        """enableDnsSupport / enableDnsHostnames."""
        response = self.reader.call(
            "ec2", "DescribeVpcAttribute", region=self.region, VpcId=vpc_id, Attribute=attribute
        )
        key = attribute[0].upper() + attribute[1:]
        return bool((response.get(key) or {}).get("Value"))

    def vpc_endpoints(self, vpc_id: str) -> list[Raw]:
        """Every VPC endpoint of the VPC."""
        return list(
            self.reader.pages(
                "ec2",
                "DescribeVpcEndpoints",
                "VpcEndpoints",
                region=self.region,
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
            )
        )

    def security_groups(self, group_ids: Sequence[str]) -> dict[str, Raw]:
        """Security groups by id (one request for the lot)."""
        return describe_security_groups(self.reader, self.region, group_ids)

    def network_acl_for(self, subnet_id: str) -> Raw | None:
        """The network ACL associated with the subnet."""
        acls = self.reader.call(
            "ec2",
            "DescribeNetworkAcls",
            region=self.region,
            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}],
        ).get("NetworkAcls", [])
        return acls[0] if acls else None

    def nat_gateway(self, nat_id: str) -> Raw | None:
        """One NAT gateway."""
        gateways = self.reader.call(
            "ec2", "DescribeNatGateways", region=self.region, NatGatewayIds=[nat_id]
        ).get("NatGateways", [])
        return gateways[0] if gateways else None

    @cached_property
    def prefix_lists(self) -> dict[str, str]:
        """AWS-managed prefix list id -> name (com.amazonaws.REGION.s3 tells an S3 route)."""
        lists = self.reader.call("ec2", "DescribePrefixLists", region=self.region).get(
            "PrefixLists", []
        )
        return {
            str(p["PrefixListId"]): str(p.get("PrefixListName") or "")
            for p in lists
            if p.get("PrefixListId")
        }

    def prefetch(self) -> None:
        """Warm the independent reads concurrently; failures surface later, in their checks."""
        thunks: list[Callable[[], object]] = [lambda: self.task_definition]
        self.reader.parallel(thunks)
        thunks = []
        config = self.network
        if config:
            for subnet_id in config.subnet_ids:
                thunks.append(partial(self.route_table_for, subnet_id))
                thunks.append(partial(self.network_acl_for, subnet_id))
            thunks.append(lambda: self.security_groups(config.security_group_ids))
            thunks.append(lambda: self.prefix_lists)
        try:
            roles = (self.execution_role_arn, self.task_role_arn)
        except ReadError:
            roles = (None, None)  # the task definition is unreadable: its checks will say so
        for role in roles:
            if role:
                thunks.append(partial(self.role, role))
        if config and config.subnet_ids:
            # In the same batch, not after it: one stuck read must not hold up the others.
            first = config.subnet_ids[0]

            def vpc() -> str:
                return str(self.subnet(first)["VpcId"])

            thunks.append(lambda: self.vpc_endpoints(vpc()))
            thunks.append(lambda: self.vpc_attribute(vpc(), "enableDnsSupport"))
            thunks.append(lambda: self.vpc_attribute(vpc(), "enableDnsHostnames"))
        self.reader.parallel(thunks)

    # -- IAM --------------------------------------------------------------------------------
    def role(self, role_arn: str) -> Raw:
        """get_role by the name in the ARN (the path is not part of the name)."""
        name = role_arn.rsplit("/", 1)[-1]
        role: Raw = _field(self.reader.call("iam", "GetRole", RoleName=name), "Role", "iam:GetRole")
        return role

    def role_policies(self, role_arn: str) -> list[tuple[str, Any]]:
        """(policy name, document) of every attached and inline policy of the role."""
        name = role_arn.rsplit("/", 1)[-1]
        result: list[tuple[str, Any]] = []
        attached = self.reader.pages(
            "iam", "ListAttachedRolePolicies", "AttachedPolicies", RoleName=name
        )
        for policy in attached:
            arn = _field(policy, "PolicyArn", "iam:ListAttachedRolePolicies")
            meta = _field(
                self.reader.call("iam", "GetPolicy", PolicyArn=arn), "Policy", "iam:GetPolicy"
            )
            version = _field(
                self.reader.call(
                    "iam",
                    "GetPolicyVersion",
                    PolicyArn=arn,
                    VersionId=_field(meta, "DefaultVersionId", "iam:GetPolicy"),
                ),
                "PolicyVersion",
                "iam:GetPolicyVersion",
            )
            result.append((arn, _field(version, "Document", "iam:GetPolicyVersion")))
        for policy_name in self.reader.pages(
            "iam", "ListRolePolicies", "PolicyNames", RoleName=name
        ):
            document = _field(
                self.reader.call("iam", "GetRolePolicy", RoleName=name, PolicyName=policy_name),
                "PolicyDocument",
                "iam:GetRolePolicy",
            )
            result.append((f"inline:{name}/{policy_name}", document))
        return result

    def attached_policy_arns(self, role_arn: str) -> list[str]:
        """ARNs of the managed policies attached to the role."""
        name = role_arn.rsplit("/", 1)[-1]
        return [
            str(p["PolicyArn"])
            for p in self.reader.pages(
                "iam", "ListAttachedRolePolicies", "AttachedPolicies", RoleName=name
            )
            if p.get("PolicyArn")
        ]

    # -- the walk beyond the first hop (issue 11) ---------------------------------------------
    def internet_gateways(self, vpc_id: str) -> list[Raw]:
        """Internet gateways attached (in any attachment state) to the VPC."""
        return list(
            self.reader.pages(
                "ec2",
                "DescribeInternetGateways",
                "InternetGateways",
                region=self.region,
                Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}],
            )
        )

    def internet_gateway(self, igw_id: str) -> Raw | None:
        """One internet gateway by id; None when it no longer exists."""
        try:
            gateways = self.reader.call(
                "ec2", "DescribeInternetGateways", region=self.region, InternetGatewayIds=[igw_id]
            ).get("InternetGateways", [])
        except ApiError as err:
            if "NotFound" in err.code:
                return None
            raise
        return gateways[0] if gateways else None

    def managed_prefix_list(self, prefix_list_id: str) -> Raw | None:
        """A managed prefix list (AWS-managed such as com.amazonaws.REGION.s3, or the customer's)."""
        try:
            lists = self.reader.call(
                "ec2",
                "DescribeManagedPrefixLists",
                region=self.region,
                PrefixListIds=[prefix_list_id],
            ).get("PrefixLists", [])
        except ApiError as err:
            if "NotFound" in err.code:
                return None
            raise
        return lists[0] if lists else None

    def prefix_list_cidrs(self, prefix_list_id: str) -> tuple[str, ...]:
        """The CIDRs a prefix list stands for (what SG and route evaluation compare against)."""
        entries = self.reader.pages(
            "ec2",
            "GetManagedPrefixListEntries",
            "Entries",
            region=self.region,
            PrefixListId=prefix_list_id,
        )
        return tuple(str(e.get("Cidr")) for e in entries if e.get("Cidr"))

    def s3_prefix_list_id(self) -> str | None:
        """The id of the region's AWS-managed S3 prefix list (the S3 gateway endpoint's target)."""
        name = f"com.amazonaws.{self.region}.s3"
        for pl_id, pl_name in self.prefix_lists.items():
            if pl_name == name:
                return pl_id
        return None

    def permissions_boundary(self, role_arn: str) -> tuple[str, Any] | None:
        """(policy ARN, document) of the role's permissions boundary, when it has one."""
        boundary = self.role(role_arn).get("PermissionsBoundary") or {}
        arn = boundary.get("PermissionsBoundaryArn")
        if not arn:
            return None
        return str(arn), self.managed_policy_document(str(arn))

    def managed_policy_document(self, policy_arn: str) -> Any:
        """The default version's document of a managed policy."""
        meta = self.reader.call("iam", "GetPolicy", PolicyArn=policy_arn)["Policy"]
        return self.reader.call(
            "iam", "GetPolicyVersion", PolicyArn=policy_arn, VersionId=meta["DefaultVersionId"]
        )["PolicyVersion"]["Document"]

    def repository_policy(self, ref: ImageRef) -> str | None:
        """The ECR repository's policy text; None when it has none (or does not exist)."""
        try:
            text = self.reader.call(
                "ecr",
                "GetRepositoryPolicy",
                region=ref.ecr_region,
                registryId=ref.ecr_account,
                repositoryName=ref.repository,
            ).get("policyText")
        except ApiError as err:
            if err.code in ("RepositoryPolicyNotFoundException", "RepositoryNotFoundException"):
                return None
            raise
        return str(text) if text else None

    def key_policy(self, key_arn: str, region: str | None = None) -> str | None:
        """A KMS key's default key policy text (every key has exactly one)."""
        try:
            text = self.reader.call(
                "kms",
                "GetKeyPolicy",
                region=region or self.region,
                KeyId=key_arn,
                PolicyName="default",
            ).get("Policy")
        except ApiError as err:
            if err.code == "NotFoundException":
                return None
            raise
        return str(text) if text else None

    def secret_policy(self, secret_arn: str, region: str | None = None) -> str | None:
        """A Secrets Manager secret's resource policy, when it has one."""
        try:
            text = self.reader.call(
                "secretsmanager",
                "GetResourcePolicy",
                region=region or self.region,
                SecretId=secret_arn,
            ).get("ResourcePolicy")
        except ApiError as err:
            if err.code == "ResourceNotFoundException":
                return None
            raise
        return str(text) if text else None

    def efs_volumes(self) -> list[Raw]:
        """The task definition's volumes that mount EFS (efsVolumeConfiguration)."""
        return [
            v
            for v in self.task_definition.get("volumes", []) or []
            if v.get("efsVolumeConfiguration")
        ]

    def efs_file_system(self, fs_id: str) -> Raw | None:
        """One EFS file system; None when EFS says it does not exist."""
        try:
            systems = self.reader.call(
                "efs", "DescribeFileSystems", region=self.region, FileSystemId=fs_id
            ).get("FileSystems", [])
        except ApiError as err:
            if err.code == "FileSystemNotFound":
                return None
            raise
        return systems[0] if systems else None

    def efs_mount_targets(self, fs_id: str) -> list[Raw]:
        """The file system's mount targets (one per AZ at most)."""
        return list(
            self.reader.pages(
                "efs",
                "DescribeMountTargets",
                "MountTargets",
                region=self.region,
                FileSystemId=fs_id,
            )
        )

    def efs_mount_target_groups(self, mount_target_id: str) -> tuple[str, ...]:
        """Security group ids of one mount target (they decide who may reach NFS 2049)."""
        response = self.reader.call(
            "efs",
            "DescribeMountTargetSecurityGroups",
            region=self.region,
            MountTargetId=mount_target_id,
        )
        return tuple(str(g) for g in response.get("SecurityGroups", []))

    def efs_access_point(self, access_point_id: str) -> Raw | None:
        """One EFS access point; None when it does not exist."""
        try:
            points = self.reader.call(
                "efs", "DescribeAccessPoints", region=self.region, AccessPointId=access_point_id
            ).get("AccessPoints", [])
        except ApiError as err:
            if err.code == "AccessPointNotFound":
                return None
            raise
        return points[0] if points else None

    def efs_file_system_policy(self, fs_id: str) -> str | None:
        """The file system policy; None when the file system has none (the default allows)."""
        try:
            text = self.reader.call(
                "efs", "DescribeFileSystemPolicy", region=self.region, FileSystemId=fs_id
            ).get("Policy")
        except ApiError as err:
            if err.code in ("PolicyNotFound", "FileSystemNotFound"):
                return None
            raise
        return str(text) if text else None

    def _failure_time(self) -> datetime | None:
        """When the task failed (stopped, else started or was created): the look-back's end.

        A stand-in task (the service's next one) has no times: the service's latest deployment
        says when. Taken from AWS's records, never the clock, so a replay asks the same question.
        """
        candidates = [
            self.task.get(k) for k in ("stoppedAt", "stoppingAt", "startedAt", "createdAt")
        ]
        service = self.__dict__.get("service") or {}
        for deployment in service.get("deployments") or []:
            candidates += [deployment.get("updatedAt"), deployment.get("createdAt")]
        for value in candidates:
            if isinstance(value, datetime):
                return value.astimezone(UTC)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, UTC)
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
                except ValueError:
                    continue
        return None

    def recent_changes(self, resource_name: str, hours: int = 24) -> list[Raw]:
        """CloudTrail management events naming the resource in the `hours` before the failure.

        LookupEvents is read-only; it fails (CallDenied/CallUnavailable) where not permitted,
        which callers report as a data gap.
        """
        end = self._failure_time()
        if end is None:
            raise ApiError(
                "cloudtrail:LookupEvents",
                "NoFailureTime",
                "the task records no time to look back from",
            )
        return list(
            self.reader.pages(
                "cloudtrail",
                "LookupEvents",
                "Events",
                region=self.region,
                LookupAttributes=[
                    {"AttributeKey": "ResourceName", "AttributeValue": resource_name}
                ],
                StartTime=(end - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0),
                EndTime=end.replace(second=0, microsecond=0) + timedelta(minutes=1),
            )
        )

    def manifest_platforms(self, ref: ImageRef) -> list[tuple[str, str]] | None:
        """(os, architecture) pairs an ECR image index offers, from its manifest only (never layers).

        None when the image is a single-platform manifest (its platform sits in the config blob,
        which ecsdoctor does not download) or cannot be read.
        """
        import json

        image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.reference}
        response = self.reader.call(
            "ecr",
            "BatchGetImage",
            region=ref.ecr_region,
            registryId=ref.ecr_account,
            repositoryName=ref.repository,
            imageIds=[image_id],
            acceptedMediaTypes=[
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.index.v1+json",
            ],
        )
        for image in response.get("images", []):
            try:
                manifest = json.loads(image.get("imageManifest", "{}"))
            except ValueError:
                return None
            if "manifests" not in manifest:
                return None
            return [
                (
                    str((m.get("platform") or {}).get("os", "")),
                    str((m.get("platform") or {}).get("architecture", "")),
                )
                for m in manifest.get("manifests", [])
            ]
        return None
