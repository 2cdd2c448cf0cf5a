"""The AWS state one failed task depended on, read once through the shared reader.

Checks are small functions over this snapshot. Every accessor goes through the memoised,
allow-listed reader, so two checks asking for the same route table cost one request, and
`prefetch` warms the independent reads concurrently before the checks run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar, overload

from ecsdoctor.arn import ImageRef, TaskRef, parse_arn, parse_image
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.errors import ApiError, AwsSetupError, MalformedResponse, ReadError
from ecsdoctor.kinds import Kind

Raw = Mapping[str, Any]
T = TypeVar("T")
Thunk = Callable[[], object]


class cached_read(Generic[T]):  # lower case: a decorator, like functools.cached_property
    """A per-instance cached property without functools.cached_property's lock.

    Python 3.11's cached_property holds one lock per property for every instance at once, so two
    snapshots reading their task definitions concurrently would queue; a race here only asks the
    memoised reader twice, which sends one request.
    """

    def __init__(self, read: Callable[[Any], T]) -> None:
        self.read = read
        self.name = read.__name__
        self.__doc__ = read.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_read[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_read[T]:
        if instance is None:
            return self
        cache = instance.__dict__
        if self.name in cache:
            value: T = cache[self.name]
            return value
        value = self.read(instance)
        cache[self.name] = value
        return value


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


def _wants(reads: Collection[str] | None, *permissions: str) -> bool:
    """Does a check that may run declare one of these reads? (None: every read is wanted.)"""
    return reads is None or any(p in reads for p in permissions)


def _warm(read: Thunk) -> Thunk:
    """A prefetch thunk: an answer whose shape surprises is left to the check that reads it."""

    def run() -> object:
        try:
            return read()
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None

    return run


def _answer(read: Callable[[], T]) -> T | None:
    """An answer already read (a memo hit), or None when the read failed or its shape surprises."""
    try:
        return read()
    except (ReadError, KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


def _missing(read: Thunk, code: str) -> bool:
    """Did the read fail because the resource does not exist (`code`)?"""
    try:
        read()
    except ApiError as err:
        return err.code == code
    except (ReadError, KeyError, TypeError, ValueError, AttributeError, IndexError):
        return False
    return False


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
            self.__dict__["service"] = service  # pre-fill the cached read
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
        # The VPC-wide answers, once read: every subnet and network ACL lookup is then free.
        self._vpc_subnets: dict[str, Raw] = {}
        self._vpc_acls: dict[str, list[Raw]] = {}

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

    @cached_read
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
        """awsvpc for Fargate; bridge/host tasks use the container instance's network.

        An ENI attachment means awsvpc whatever else is known: the ENI is then read in the same
        round as the task definition, not after it.
        """
        if self._attachment():
            return "awsvpc"
        try:
            return str(self.task_definition.get("networkMode") or "bridge")
        except ReadError:
            return "bridge"

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

    @cached_read
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

    @cached_read
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
        """One subnet (from the VPC's subnets when they were read: a NAT gateway's or an
        endpoint's subnet then costs no request)."""
        known = self._vpc_subnets.get(subnet_id)
        if known is not None:
            return known
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

    def vpc_subnets(self, vpc_id: str) -> list[Raw]:
        """Every subnet of the VPC, kept for `subnet` lookups."""
        subnets = self.reader.pages(
            "ec2",
            "DescribeSubnets",
            "Subnets",
            region=self.region,
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        for subnet in subnets:
            if isinstance(subnet, Mapping) and subnet.get("SubnetId") and subnet.get("VpcId"):
                self._vpc_subnets.setdefault(str(subnet["SubnetId"]), subnet)
        return list(subnets)

    def vpc_network_acls(self, vpc_id: str) -> list[Raw]:
        """Every network ACL of the VPC, kept for `network_acl_for` lookups."""
        acls = self.reader.pages(
            "ec2",
            "DescribeNetworkAcls",
            "NetworkAcls",
            region=self.region,
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        self._vpc_acls[vpc_id] = [a for a in acls if isinstance(a, Mapping)]
        return list(acls)

    def network_acl_for(self, subnet_id: str) -> Raw | None:
        """The network ACL associated with the subnet."""
        for acls in list(self._vpc_acls.values()):
            for acl in acls:
                if any(a.get("SubnetId") == subnet_id for a in acl.get("Associations") or []):
                    return acl
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

    @cached_read
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

    # -- the critical path: reads in waves by dependency level ---------------------------------
    #
    # Every read a diagnosis makes is memoised, so a read issued early, together with the others
    # of its dependency level, costs nothing when a check asks for it later: the checks then run
    # on answers already in. Each wave is one round of concurrent requests; a check's own chain
    # of reads (role -> policy -> version) would otherwise cost one round per link.
    #
    #   wave 1  the task alone names: task definition, ENI, subnet, service, prefix lists
    #   wave 2  wave 1 names: the VPC's route tables, endpoints, subnets, network ACLs and DNS
    #           attributes, the task's security groups, and the first read of every dependency
    #           the task definition names (roles, secrets, log groups, repositories)
    #   wave 3  wave 2 names: policies, KMS keys, NAT and internet gateways, endpoint groups
    #   wave 4  wave 3 names: policy versions, key policies
    #
    # Waves 2-4 read only what the checks that may run declare (`reads`, None: everything), so
    # a log-group failure does not pay for the IAM policies.

    def prefetch(self, reads: Collection[str] | None = None) -> None:
        """Waves 1 and 2 (everything the dependency graph is built from); see above."""
        self.prefetch_task()
        self.prefetch_dependencies(reads)

    def prefetch_task(self) -> None:
        """Wave 1: what the task itself names."""
        details = self._attachment()
        wave: list[Thunk] = [lambda: self.task_definition]
        if details:
            wave.append(lambda: self.network)
            wave.append(lambda: self.prefix_lists)
        if details.get("subnetId"):
            wave.append(partial(self.subnet, details["subnetId"]))
        if self.service_name:
            # Read at once: a stopped Fargate task's ENI is gone, its service says where it ran.
            wave.append(lambda: self.service)
        self._wave(wave)

    def prefetch_dependencies(self, reads: Collection[str] | None = None) -> None:
        """Wave 2: the network the graph is built from, and the task definition's first reads."""
        try:
            definition = self._definition_reads(reads)
        except ReadError:  # an unreadable task definition: its checks report it
            definition = []
        self._wave([*self._network_reads(), *definition])

    def prefetch_path(self, reads: Collection[str] | None = None) -> None:
        """Waves 3 and 4, for the checks that will run (`reads`: what they declare)."""
        try:
            second = self._second_reads(reads)
        except ReadError:  # the task definition is unreadable (its checks say so): the network
            second = self._network_second_reads(reads)
        self._wave(second)
        try:
            third = self._third_reads(reads)
        except ReadError:
            third = []
        self._wave(third)

    def without_network(self) -> TaskSnapshot:
        """A view of this snapshot without its network: the task definition's part of the graph
        can be walked before the network is read, to know which of its reads are worth making."""
        view = object.__new__(TaskSnapshot)
        view.__dict__.update(self.__dict__)
        view.__dict__["network"] = None
        return view

    def _wave(self, thunks: Sequence[Thunk]) -> None:
        if thunks:
            self.reader.parallel([_warm(t) for t in thunks])

    def _config_and_vpc(self) -> tuple[NetworkConfig | None, str | None]:
        try:
            config = self.network
            if not config or not config.subnet_ids:
                return config, None
            return config, str(self.subnet(config.subnet_ids[0])["VpcId"])
        except ReadError:
            return None, None

    def _network_reads(self) -> list[Thunk]:
        config, vpc = self._config_and_vpc()
        out: list[Thunk] = []
        if config and config.security_group_ids:
            out.append(partial(self.security_groups, config.security_group_ids))
        if vpc:
            out += [
                partial(self.vpc_route_tables, vpc),
                partial(self.vpc_endpoints, vpc),
                partial(self.vpc_subnets, vpc),
                partial(self.vpc_network_acls, vpc),
                partial(self.vpc_attribute, vpc, "enableDnsSupport"),
                partial(self.vpc_attribute, vpc, "enableDnsHostnames"),
            ]
        elif config:
            out += [partial(self.network_acl_for, s) for s in config.subnet_ids]
        return out

    def _roles(self) -> list[str]:
        return [r for r in (self.execution_role_arn, self.task_role_arn) if r]

    def _definition_reads(self, reads: Collection[str] | None) -> list[Thunk]:
        try:
            self.task_definition  # noqa: B018 - read by wave 1; raises when it could not be
        except ReadError:
            return []
        out: list[Thunk] = []
        for role in self._roles():
            name = role.rsplit("/", 1)[-1]
            if _wants(reads, "iam:GetRole"):
                out.append(partial(self.role, role))
            if _wants(reads, "iam:ListAttachedRolePolicies"):
                out.append(partial(self.attached_policy_arns, role))
            if _wants(reads, "iam:ListRolePolicies"):
                out.append(partial(self.inline_policy_names, name))
        for secret in self.secret_refs():
            if secret.store == "ssm" and _wants(reads, "ssm:DescribeParameters"):
                out.append(partial(self.parameter_metadata, secret))
            if secret.store == "secretsmanager":
                if _wants(reads, "secretsmanager:DescribeSecret"):
                    out.append(partial(self.secret_metadata, secret))
                if _wants(reads, "secretsmanager:GetResourcePolicy"):
                    out.append(partial(self.secret_policy, secret.lookup, secret.region))
        if _wants(reads, "logs:DescribeLogGroups"):
            for _, options in self.log_configs():
                group = str(options.get("awslogs-group", ""))
                if group:
                    region = str(options.get("awslogs-region") or self.region)
                    out.append(partial(self.log_groups, group, region))
        for _, _, image in self.images():
            if not (isinstance(image, ImageRef) and image.is_ecr):
                continue
            ref = image
            if _wants(reads, "ecr:DescribeRepositories"):
                out.append(partial(self.repository, ref))
            if _wants(reads, "ecr:DescribeImages"):
                out.append(partial(self.image_metadata, ref))
            if _wants(reads, "ecr:GetRepositoryPolicy"):
                out.append(partial(self.repository_policy, ref))
            if _wants(reads, "ecr:BatchGetImage"):
                out.append(partial(self.manifest_platforms, ref))
        if _wants(reads, "cloudtrail:LookupEvents"):
            first = self._watched_first()
            if first:
                out.append(partial(self.recent_changes, first))
        if _wants(reads, "elasticfilesystem:DescribeFileSystems"):
            for volume in self.efs_volumes():
                fs_id = str((volume.get("efsVolumeConfiguration") or {}).get("fileSystemId", ""))
                if fs_id:
                    out += [
                        partial(self.efs_file_system, fs_id),
                        partial(self.efs_mount_targets, fs_id),
                        partial(self.efs_file_system_policy, fs_id),
                    ]
        return out

    def _watched_first(self) -> str | None:
        """The first resource the what-changed check asks CloudTrail about, when it is known
        without the network (its route table comes after): the execution role, else the family.
        Only one is asked early: where CloudTrail is not available, one refusal is enough."""
        if self.network_mode == "awsvpc":
            return None
        names = self._watched()
        return names[0] if names else None

    def _second_reads(self, reads: Collection[str] | None) -> list[Thunk]:
        out: list[Thunk] = []
        for role in self._roles():
            name = role.rsplit("/", 1)[-1]
            if _wants(reads, "iam:GetPolicy"):
                arns = _answer(partial(self.attached_policy_arns, role)) or []
                out += [partial(self.policy, arn) for arn in arns]
                boundary = (_answer(partial(self.role, role)) or {}).get("PermissionsBoundary")
                if isinstance(boundary, Mapping) and boundary.get("PermissionsBoundaryArn"):
                    out.append(partial(self.policy, str(boundary["PermissionsBoundaryArn"])))
            if _wants(reads, "iam:GetRolePolicy"):
                for policy_name in _answer(partial(self.inline_policy_names, name)) or []:
                    out.append(partial(self.inline_policy, name, policy_name))
        if _wants(reads, "kms:DescribeKey"):
            for region, key in self.secret_key_ids():
                out.append(partial(self.kms_key, key, region))
        out += self._network_second_reads(reads)
        for _, _, ref in self.images():
            if not (isinstance(ref, ImageRef) and ref.is_ecr):
                continue
            if _wants(reads, "ecr:DescribeRepositories") and _missing(
                partial(self.repository, ref), "RepositoryNotFoundException"
            ):
                out.append(partial(self.repositories, ref))
            elif _wants(reads, "ecr:DescribeImages") and _missing(
                partial(self.image_metadata, ref), "ImageNotFoundException"
            ):
                out.append(partial(self.repository_images, ref))
        if _wants(reads, "cloudtrail:LookupEvents"):
            first = self._watched_first()
            if first is None:
                names = self._watched()
                if names:
                    out.append(partial(self.recent_changes, names[0]))
        return out

    def _network_second_reads(self, reads: Collection[str] | None) -> list[Thunk]:
        config, vpc = self._config_and_vpc()
        if not vpc:
            return []
        out: list[Thunk] = []
        tables = _answer(partial(self.vpc_route_tables, vpc)) or []
        own = (
            [_answer(partial(self.route_table_for, s)) for s in config.subnet_ids] if config else []
        )

        def targets(of: Sequence[Raw | None], prefix: str) -> list[str]:
            return sorted(
                {
                    str(route[key])
                    for table in of
                    for route in (table or {}).get("Routes") or []
                    for key in ("NatGatewayId", "GatewayId")
                    if str(route.get(key) or "").startswith(prefix)
                }
            )

        if _wants(reads, "ec2:DescribeNatGateways"):  # the NATs the task's own tables name
            out += [partial(self.nat_gateway, t) for t in targets(own, "nat-")]
        if _wants(reads, "ec2:DescribeInternetGateways"):  # any table's: a NAT's subnet's too
            out += [partial(self.internet_gateway, t) for t in targets(tables, "igw-")]
        if _wants(reads, "ec2:DescribeSecurityGroups"):
            sets = {
                tuple(sorted({str(g.get("GroupId")) for g in e.get("Groups") or []}))
                for e in _answer(partial(self.vpc_endpoints, vpc)) or []
            }
            out += [partial(self.security_groups, list(ids)) for ids in sorted(sets) if ids]
        if _wants(reads, "ec2:GetManagedPrefixListEntries"):
            # S3's public ranges: a gateway endpoint's, and what a NAT path's egress must allow.
            known = _answer(lambda: self.prefix_lists) is not None
            lists = {self.s3_prefix_list_id() if known else None}
            groups = (
                _answer(partial(self.security_groups, config.security_group_ids))
                if config
                else None
            )
            for group in (groups or {}).values():
                for perm in group.get("IpPermissionsEgress") or []:
                    lists.update(
                        str(p.get("PrefixListId")) for p in perm.get("PrefixListIds") or []
                    )
            out += [partial(self.prefix_list_cidrs, pl) for pl in sorted(x for x in lists if x)]
        if _wants(reads, "ec2:DescribeVpcs"):
            out.append(partial(self.vpc, vpc))
        return out

    def _third_reads(self, reads: Collection[str] | None) -> list[Thunk]:
        out: list[Thunk] = []
        if _wants(reads, "iam:GetPolicyVersion"):
            arns: set[str] = set()
            for role in self._roles():
                arns.update(_answer(partial(self.attached_policy_arns, role)) or [])
                boundary = (_answer(partial(self.role, role)) or {}).get("PermissionsBoundary")
                if isinstance(boundary, Mapping) and boundary.get("PermissionsBoundaryArn"):
                    arns.add(str(boundary["PermissionsBoundaryArn"]))
            out += [partial(self.managed_policy_document, arn) for arn in sorted(arns)]
        if _wants(reads, "kms:DescribeKey", "kms:GetKeyPolicy"):
            for region, key in self.secret_key_ids():
                meta = _answer(partial(self.kms_key, key, region)) or {}
                arn = meta.get("Arn")
                if not arn or meta.get("KeyManager") == "AWS":
                    continue
                if _wants(reads, "kms:DescribeKey") and arn != key:
                    out.append(partial(self.kms_key, str(arn), region))
                if _wants(reads, "kms:GetKeyPolicy"):
                    out.append(partial(self.key_policy, str(arn), region))
        if _wants(reads, "ec2:DescribeDhcpOptions"):
            _, vpc = self._config_and_vpc()
            dhcp = (
                str((_answer(partial(self.vpc, vpc)) or {}).get("DhcpOptionsId") or "")
                if vpc
                else ""
            )
            if dhcp and dhcp != "default":
                out.append(partial(self.dhcp_options, dhcp))
        if _wants(reads, "cloudtrail:LookupEvents"):
            names = self._watched()
            # Only where CloudTrail answered the first question: one refusal is enough.
            if names and _answer(partial(self.recent_changes, names[0])) is not None:
                out += [partial(self.recent_changes, n) for n in names[1:]]
        return out

    def _watched(self) -> list[str]:
        """The names the what-changed check asks CloudTrail about, in its order."""
        try:
            return [lookup for _, _, lookup in self.watched_resources()]
        except ReadError:
            return []

    def watched_resources(self) -> list[tuple[Kind, str, str]]:
        """The resources on the task's path whose recent changes matter, most telling first:
        (kind, the resource as root causes name it, the name CloudTrail indexes it by). One list
        for the what-changed check and the prefetch, so the prefetch asks what the check asks.

        Raises ReadError when the task's route table cannot be read; the NAT, network ACL and
        deleted endpoints each need one more read and are left out when it fails.
        """
        out: list[tuple[Kind, str, str]] = []
        config, _ = self._config_and_vpc()
        if config and config.subnet_ids:
            subnet_id = config.subnet_ids[0]
            table = self.route_table_for(subnet_id)
            table_id = str(table["RouteTableId"])
            out.append((Kind.ROUTE_TABLE, table_id, table_id))
            nat = next(
                (
                    str(r.get("NatGatewayId"))
                    for r in table.get("Routes", [])
                    if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("NatGatewayId")
                ),
                "",
            )
            if nat:
                out.append((Kind.NAT_GATEWAY, nat, nat))
            out += [(Kind.SECURITY_GROUP, g, g) for g in config.security_group_ids]
            vpc_id = str(self.subnet(subnet_id)["VpcId"])
            out.append((Kind.VPC, vpc_id, vpc_id))
            acl = _answer(partial(self.network_acl_for, subnet_id))
            acl_id = str((acl or {}).get("NetworkAclId") or "")
            if acl_id:
                out.append((Kind.NETWORK_ACL, acl_id, acl_id))
            # Deleted endpoints stay listed for a while: their deletion explains "no endpoint
            # for ..." on the VPC, which is how that root cause names its resource.
            out += [
                (Kind.VPC_ENDPOINT, vpc_id, str(e["VpcEndpointId"]))
                for e in _answer(partial(self.vpc_endpoints, vpc_id)) or []
                if str(e.get("State", "")).lower() in ("deleted", "deleting", "failed")
            ]
        for kind, role in (
            (Kind.EXECUTION_ROLE, self.execution_role_arn),
            (Kind.TASK_ROLE, self.task_role_arn),
        ):
            if role:
                out.append((kind, role, role.rsplit("/", 1)[-1]))
        family = str(self.task_definition.get("family") or "")
        if family:
            out.append((Kind.TASK_DEFINITION, self.task_definition_arn, family))
        unique: dict[str, tuple[Kind, str, str]] = {}
        for watched in out:
            unique.setdefault(watched[2], watched)  # one lookup per name (one role for both)
        return list(unique.values())

    def secret_key_ids(self) -> list[tuple[str, str]]:
        """(region, key id as the secret names it) of the keys the task's secrets name, AWS-managed
        aliases left out; a secret whose metadata cannot be read names none."""
        keys: set[tuple[str, str]] = set()
        for ref in self.secret_refs():
            if ref.store == "ssm":
                meta = _answer(partial(self.parameter_metadata, ref)) or {}
                key = meta.get("KeyId")
            else:
                meta = _answer(partial(self.secret_metadata, ref)) or {}
                key = meta.get("KmsKeyId")
            if isinstance(key, str) and key and not key.startswith("alias/aws/"):
                keys.add((ref.region, key))
        return sorted(keys)

    # -- first and later reads of what the task definition names -------------------------------
    def parameter_metadata(self, ref: SecretRef) -> Raw | None:
        """An SSM parameter's metadata (DescribeParameters, never its value); None if absent."""
        found = self.reader.call(
            "ssm",
            "DescribeParameters",
            region=ref.region,
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [ref.lookup]}],
        ).get("Parameters", [])
        return found[0] if found else None

    def secret_metadata(self, ref: SecretRef) -> Raw:
        """A Secrets Manager secret's metadata (DescribeSecret, never its value)."""
        return self.reader.call(
            "secretsmanager", "DescribeSecret", region=ref.region, SecretId=ref.lookup
        )

    def kms_key(self, key: str, region: str | None = None) -> Raw:
        """A KMS key's metadata (DescribeKey) by id, ARN or alias."""
        meta: Raw = _field(
            self.reader.call("kms", "DescribeKey", region=region or self.region, KeyId=key),
            "KeyMetadata",
            "kms:DescribeKey",
        )
        return meta

    def log_groups(self, group: str, region: str | None = None) -> list[Raw]:
        """The log groups whose names start with `group`."""
        return list(
            self.reader.pages(
                "logs",
                "DescribeLogGroups",
                "logGroups",
                region=region or self.region,
                logGroupNamePrefix=group,
            )
        )

    def repository(
        self, ref: ImageRef, region: str | None = None, account: str | None = None
    ) -> Raw | None:
        """The image's ECR repository, or the same name in another `region`/`account` (raises
        ApiError RepositoryNotFoundException if absent)."""
        repos = self.reader.call(
            "ecr",
            "DescribeRepositories",
            region=region or ref.ecr_region,
            registryId=account or ref.ecr_account,
            repositoryNames=[ref.repository],
        ).get("repositories", [])
        return repos[0] if repos else None

    def repositories(self, ref: ImageRef) -> list[Raw]:
        """Every repository of the image's registry (for "did you mean")."""
        return list(
            self.reader.pages(
                "ecr",
                "DescribeRepositories",
                "repositories",
                region=ref.ecr_region,
                registryId=ref.ecr_account,
            )
        )

    def image_metadata(self, ref: ImageRef) -> Raw:
        """The image's tag or digest in its repository (raises ImageNotFoundException)."""
        image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.reference}
        return self.reader.call(
            "ecr",
            "DescribeImages",
            region=ref.ecr_region,
            registryId=ref.ecr_account,
            repositoryName=ref.repository,
            imageIds=[image_id],
        )

    def repository_images(self, ref: ImageRef) -> list[Raw]:
        """Every image of the repository (for "its most recent tags are")."""
        return list(
            self.reader.pages(
                "ecr",
                "DescribeImages",
                "imageDetails",
                region=ref.ecr_region,
                registryId=ref.ecr_account,
                repositoryName=ref.repository,
            )
        )

    def vpc(self, vpc_id: str) -> Raw | None:
        """The VPC (its DHCP options set)."""
        vpcs = self.reader.call("ec2", "DescribeVpcs", region=self.region, VpcIds=[vpc_id]).get(
            "Vpcs", []
        )
        return vpcs[0] if vpcs else None

    def dhcp_options(self, dhcp_id: str) -> Raw | None:
        """A DHCP options set (custom DNS servers)."""
        options = self.reader.call(
            "ec2", "DescribeDhcpOptions", region=self.region, DhcpOptionsIds=[dhcp_id]
        ).get("DhcpOptions", [])
        return options[0] if options else None

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

    def inline_policy_names(self, role_name: str) -> list[str]:
        """Names of the role's inline policies."""
        return [
            str(n)
            for n in self.reader.pages("iam", "ListRolePolicies", "PolicyNames", RoleName=role_name)
        ]

    def policy(self, policy_arn: str) -> Raw:
        """A managed policy's metadata (GetPolicy: its default version id)."""
        policy: Raw = _field(
            self.reader.call("iam", "GetPolicy", PolicyArn=policy_arn), "Policy", "iam:GetPolicy"
        )
        return policy

    def inline_policy(self, role_name: str, policy_name: str) -> Raw:
        """One inline policy of a role (GetRolePolicy)."""
        return self.reader.call("iam", "GetRolePolicy", RoleName=role_name, PolicyName=policy_name)

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
