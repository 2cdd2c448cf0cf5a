"""Each demo scenario really is the broken account it claims to be, and the healthy one is not.

The diagnosis tests trust these accounts to hold exactly one fault, so here every fault is observed
with plain read-only boto3 calls against moto (not through ecsdoctor), and the same observation made
on the healthy account must come out the other way.
"""

from __future__ import annotations

import functools
import ipaddress
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
import regex
from botocore.exceptions import ClientError
from moto import mock_aws

from ecsdoctor.demo import DEFAULT_SCENARIO, SCENARIOS, Scenario
from ecsdoctor.demo.account import FAKE_ENV_VALUE, TASK_SUBNET_CIDR

SESSION = boto3.Session(region_name="us-east-1")
KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
KINDS = {
    "task", "task_definition", "container", "image_uri", "ecr_repository", "ecr_image",
    "execution_role", "task_role", "iam_policy", "kms_key", "ssm_parameter", "secret", "log_group",
    "subnet", "route_table", "nat_gateway", "internet_gateway", "public_ip", "vpc_endpoint",
    "vpc_dns", "security_group", "network_acl", "target_group", "load_balancer",
    "container_instance", "capacity_provider", "efs", "service", "service_deployment",
    "container_health_check", "cluster",
}  # fmt: skip

Ids = Mapping[str, str]
Fact = Callable[[Ids], bool]


@functools.cache
def _c(service: str, region: str = "us-east-1") -> Any:
    """One client per service for the whole module: moto serves each mock's state to it."""
    return SESSION.client(service, region_name=region)  # type: ignore[call-overload]


def _endpoints(ids: Ids) -> dict[str, dict[str, Any]]:
    found = _c("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [ids["vpc"]]}])
    return {e["ServiceName"].split("us-east-1.", 1)[1]: e for e in found["VpcEndpoints"]}


def _routes(ids: Ids) -> list[dict[str, Any]]:
    table = _c("ec2").describe_route_tables(RouteTableIds=[ids["route_table"]])["RouteTables"][0]
    return list(table["Routes"])


def _default_route(ids: Ids) -> dict[str, Any] | None:
    return next((r for r in _routes(ids) if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)


def _egress_ports(ids: Ids) -> set[int]:
    group = _c("ec2").describe_security_groups(GroupIds=[ids["task_sg"]])["SecurityGroups"][0]
    return {p["FromPort"] for p in group["IpPermissionsEgress"] if p["IpProtocol"] == "tcp"}


def _container_def(ids: Ids) -> dict[str, Any]:
    td = _c("ecs").describe_task_definition(taskDefinition=ids["task_definition"])
    return dict(td["taskDefinition"]["containerDefinitions"][0])


def _raises(code: str, call: Callable[[], object]) -> bool:
    try:
        call()
    except ClientError as error:
        return bool(error.response["Error"]["Code"] == code)
    return False


def _role(name: str) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    """(trusted services, inline statements, attached policy names) of a role."""
    iam = _c("iam")
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    services = [s["Principal"]["Service"] for s in trust["Statement"]]
    inline = [
        st
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        for st in iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"][
            "Statement"
        ]
    ]
    attached = [
        p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    ]
    return services, inline, attached


def _endpoint_sg_admits_task(ids: Ids) -> bool:
    group = _c("ec2").describe_security_groups(GroupIds=[ids["endpoint_sg"]])["SecurityGroups"][0]
    task_net = ipaddress.ip_network(TASK_SUBNET_CIDR)
    for rule in group["IpPermissions"]:
        if rule.get("FromPort", 0) <= 443 <= rule.get("ToPort", 65535):
            if any(p["GroupId"] == ids["task_sg"] for p in rule.get("UserIdGroupPairs", [])):
                return True
            for r in rule.get("IpRanges", []):
                if task_net.subnet_of(ipaddress.ip_network(r["CidrIp"])):  # type: ignore[arg-type]
                    return True
    return False


def _vpc_attr(ids: Ids, name: str) -> bool:
    attr = _c("ec2").describe_vpc_attribute(VpcId=ids["vpc"], Attribute=name)
    key = name[0].upper() + name[1:]
    return bool(attr[key]["Value"])


def _eni(ids: Ids) -> dict[str, Any]:
    found = _c("ec2").describe_network_interfaces(NetworkInterfaceIds=[ids["eni"]])
    return dict(found["NetworkInterfaces"][0])


# Each scenario's one broken fact, observed read-only: True there, False on the healthy account.
FACTS: dict[str, Fact] = {
    "seed-incident": lambda ids: (
        "ecr.dkr" not in _endpoints(ids)
        and {"ecr.api", "logs", "secretsmanager", "ssm", "kms", "s3"} <= set(_endpoints(ids))
        and _default_route(ids) is None
    ),
    "no-route-no-endpoints": lambda ids: not _endpoints(ids) and _default_route(ids) is None,
    "nat-sg-no-443": lambda ids: 443 not in _egress_ports(ids) and _egress_ports(ids) == {5432},
    "ecr-endpoints-no-s3": lambda ids: (
        "s3" not in _endpoints(ids)
        and not any("DestinationPrefixListId" in r for r in _routes(ids))
        and _default_route(ids) is None
    ),
    "endpoint-private-dns-off": lambda ids: (
        _endpoints(ids)["ecr.dkr"]["PrivateDnsEnabled"] is False
        and _endpoints(ids)["ecr.dkr"]["VpcEndpointId"] == ids["endpoint.ecr.dkr"]
    ),
    "vpc-dns-hostnames-off": lambda ids: (
        not _vpc_attr(ids, "enableDnsHostnames") and _vpc_attr(ids, "enableDnsSupport")
    ),
    "endpoint-sg-no-ingress": lambda ids: not _endpoint_sg_admits_task(ids),
    "dockerhub-no-nat": lambda ids: (
        _container_def(ids)["image"] == "nginx:1.25" and _default_route(ids) is None
    ),
    "public-subnet-no-public-ip": lambda ids: (
        (_default_route(ids) or {}).get("GatewayId", "").startswith("igw-")
        and "Association" not in _eni(ids)
    ),
    "image-tag-missing": lambda ids: (
        _container_def(ids)["image"].endswith("/web:v2")
        and _raises(
            "ImageNotFoundException",
            lambda: _c("ecr").describe_images(repositoryName="web", imageIds=[{"imageTag": "v2"}]),
        )
    ),
    "repository-typo": lambda ids: (
        "/wbe:" in _container_def(ids)["image"]
        and _raises(
            "RepositoryNotFoundException",
            lambda: _c("ecr").describe_repositories(repositoryNames=["wbe"]),
        )
    ),
    "image-other-region": lambda ids: (
        ".dkr.ecr.us-west-2." in _container_def(ids)["image"]
        and _raises(
            "RepositoryNotFoundException",
            lambda: _c("ecr", "us-west-2").describe_repositories(repositoryNames=["web"]),
        )
    ),
    "execution-role-no-ecr": lambda ids: (
        not _role(ids["execution_role_name"])[2]
        and not any(
            a.startswith("ecr:")
            for st in _role(ids["execution_role_name"])[1]
            for a in st["Action"]
        )
    ),
    "managed-policy-on-task-role": lambda ids: (
        "AmazonECSTaskExecutionRolePolicy" in _role(ids["task_role_name"])[2]
        and "AmazonECSTaskExecutionRolePolicy" not in _role(ids["execution_role_name"])[2]
    ),
    "trust-ecs-not-ecs-tasks": lambda ids: (
        _role(ids["execution_role_name"])[0] == ["ecs.amazonaws.com"]
    ),
    "ssm-parameter-missing": lambda ids: (
        ids["ssm_parameter_ref"].endswith(":parameter/web/missing-param")
        and not _c("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": ["/web/missing-param"]}]
        )["Parameters"]
    ),
    "secret-missing": lambda ids: _raises(
        "ResourceNotFoundException",
        lambda: _c("secretsmanager").describe_secret(SecretId=ids["secret_ref"]),
    ),
    "kms-key-disabled": lambda ids: (
        _c("kms").describe_key(KeyId=ids["kms_key"])["KeyMetadata"]["KeyState"] == "Disabled"
    ),
    "log-group-missing": lambda ids: (
        not _c("logs").describe_log_groups(logGroupNamePrefix="/ecs/web")["logGroups"]
    ),
}

# The knowledge entry whose patterns each scenario's stopped reason must match (it came from there).
ENTRIES = {
    "seed-incident": "image_pull/network_timeout",
    "no-route-no-endpoints": "resource_init/registry_auth_unreachable",
    "nat-sg-no-443": "resource_init/registry_auth_unreachable",
    "ecr-endpoints-no-s3": "image_pull/network_timeout",
    "endpoint-private-dns-off": "image_pull/network_timeout",
    "vpc-dns-hostnames-off": "resource_init/registry_auth_unreachable",
    "endpoint-sg-no-ingress": "resource_init/registry_auth_unreachable",
    "dockerhub-no-nat": "image_pull/network_timeout",
    "public-subnet-no-public-ip": "resource_init/registry_auth_unreachable",
    "image-tag-missing": "image_pull/image_not_found",
    "repository-typo": "image_pull/repository_access_denied",
    "image-other-region": "resource_init/registry_auth_unreachable",
    "execution-role-no-ecr": "resource_init/registry_auth_denied",
    "managed-policy-on-task-role": "resource_init/registry_auth_denied",
    "trust-ecs-not-ecs-tasks": "image_pull/repository_access_denied",
    "ssm-parameter-missing": "resource_init/secret_not_found",
    "secret-missing": "resource_init/secret_not_found",
    "kms-key-disabled": "resource_init/kms_decrypt_denied",
    "log-group-missing": "resource_init/log_group_missing",
}
FAILURES = [name for name in SCENARIOS if name != "healthy"]


def _matches_entry(entry: str, text: str) -> bool:
    data = tomllib.loads((KNOWLEDGE / f"{entry}.toml").read_text(encoding="utf-8"))
    for pattern in data["pattern"]:
        flags = regex.IGNORECASE if "IGNORECASE" in pattern.get("flags", []) else 0
        if regex.search(pattern["regex"], text, flags | regex.DOTALL):
            return True
    return False


@pytest.fixture(scope="module")
def healthy() -> tuple[Scenario, dict[str, bool], dict[str, Any]]:
    """The healthy account, every broken fact observed on it, and its task.

    The mock is closed before returning: a still-open mock_aws would leak its state into the tests'.
    """
    with mock_aws():
        scenario = SCENARIOS["healthy"].build(SESSION)
        facts = {name: fact(scenario.ids) for name, fact in FACTS.items()}
        task = _c("ecs").describe_tasks(cluster=scenario.cluster, tasks=[scenario.task_arn])
    return scenario, facts, task["tasks"][0]


def test_registry_shape() -> None:
    assert DEFAULT_SCENARIO == "seed-incident" and next(iter(SCENARIOS)) == DEFAULT_SCENARIO
    assert len(SCENARIOS) == 20 and set(FACTS) == set(ENTRIES) == set(FAILURES)
    assert all(spec.name == name and spec.title for name, spec in SCENARIOS.items())


def test_healthy_task_runs(healthy: tuple[Scenario, dict[str, bool], dict[str, Any]]) -> None:
    scenario, _, task = healthy
    assert scenario.expected is None
    assert task["lastStatus"] == "RUNNING" and "stopCode" not in task
    assert not task.get("stoppedReason") and not task["containers"][0].get("reason")
    assert task["startedAt"] and task["availabilityZone"] == "us-east-1a"


@pytest.mark.parametrize("name", FAILURES)
def test_scenario_holds_its_fault(
    name: str, healthy: tuple[Scenario, dict[str, bool], dict[str, Any]]
) -> None:
    _, healthy_facts, _ = healthy
    assert healthy_facts[name] is False, f"the healthy account also has the fault of {name}"
    with mock_aws():
        scenario = SCENARIOS[name].build(SESSION)
        ids = scenario.ids
        assert FACTS[name](ids), f"{name}: the broken fact does not hold"
        task = _c("ecs").describe_tasks(cluster=scenario.cluster, tasks=[scenario.task_arn])[
            "tasks"
        ][0]
        eni = _eni(ids)
        container_def = _container_def(ids)

    assert scenario.name == name and scenario.region == "us-east-1"
    assert scenario.account == "123456789012" and scenario.cluster == "prod"
    expected = scenario.expected
    assert expected is not None and expected.kind in KINDS and expected.resource
    assert expected.check.split(".")[0] in {"network", "image", "iam", "secrets", "logs"}

    assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart" and task["group"] == "service:web"
    assert task["availabilityZone"] == "us-east-1a" and task["platformVersion"] == "1.4.0"
    assert task["stoppedAt"] > task["createdAt"]
    container = task["containers"][0]
    assert container["reason"] == task["stoppedReason"] and "exitCode" not in container
    assert container["lastStatus"] == "STOPPED"
    assert _matches_entry(ENTRIES[name], task["stoppedReason"]), task["stoppedReason"]
    assert FAKE_ENV_VALUE not in task["stoppedReason"]

    subnet = ipaddress.ip_network(TASK_SUBNET_CIDR)
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    assert details["subnetId"] == ids["subnet"] and details["networkInterfaceId"] == ids["eni"]
    assert ipaddress.ip_address(details["privateIPv4Address"]) in subnet
    assert ipaddress.ip_address(eni["PrivateIpAddress"]) in subnet
    assert [g["GroupId"] for g in eni["Groups"]] == [ids["task_sg"]]

    env = container_def["environment"]
    assert {"name": "LEGACY_API_TOKEN", "value": FAKE_ENV_VALUE} in env
    assert container_def["memory"] and container_def["logConfiguration"]["logDriver"] == "awslogs"


def test_seed_incident_names_the_vpc_and_keeps_other_paths_whole() -> None:
    """The default scenario's only gap is ecr.dkr: SG, endpoint SG and DNS are all in order."""
    with mock_aws():
        scenario = SCENARIOS[DEFAULT_SCENARIO].build(SESSION)
        ids = scenario.ids
        assert scenario.expected is not None and scenario.expected.resource == ids["vpc"]
        assert 443 in _egress_ports(ids) and _endpoint_sg_admits_task(ids)
        assert _vpc_attr(ids, "enableDnsHostnames") and _vpc_attr(ids, "enableDnsSupport")
        endpoints = _endpoints(ids)
        assert all(e["PrivateDnsEnabled"] for e in endpoints.values())
        assert endpoints["s3"]["RouteTableIds"] == [ids["route_table"]]
        for name in ("ecr.api", "logs"):
            assert [g["GroupId"] for g in endpoints[name]["Groups"]] == [ids["endpoint_sg"]]
        _, inline, attached = _role(ids["execution_role_name"])
        assert attached == ["AmazonECSTaskExecutionRolePolicy"]
        granted = {a for st in inline for a in st["Action"]}
        assert {"ssm:GetParameters", "secretsmanager:GetSecretValue", "kms:Decrypt"} <= granted
        policy = _c("iam").get_policy_version(PolicyArn=ids["execution_policy"], VersionId="v1")[
            "PolicyVersion"
        ]["Document"]
        assert "ecr:GetAuthorizationToken" in policy["Statement"][0]["Action"]
