"""The demo's broken accounts: each scenario breaks exactly one thing in the healthy baseline.

Every stopped reason is a real ECS message copied from an example in knowledge/*.toml (named next to
it), with only this account's ids, region, image and addresses substituted: the diagnosis must work
on what ECS really says, never on wording made up to suit it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import boto3

from ecsdoctor.demo import account as acct
from ecsdoctor.demo.account import ACCOUNT, CLUSTER, REGION, AccountSpec, BuiltAccount

NO_ENDPOINTS: frozenset[str] = frozenset()
ALL_ENDPOINTS = frozenset(acct.INTERFACE_ENDPOINTS)


@dataclass(frozen=True, slots=True)
class Expected:
    """The root cause the diagnosis of a scenario must confirm."""

    check: str  # the live check id that must confirm the root cause
    kind: str  # resource kind of the root cause (DESIGN.md vocabulary)
    resource: str  # the AWS id or ARN the root cause must name


@dataclass(frozen=True, slots=True)
class Scenario:
    """A built account with one task to diagnose, and the answer the diagnosis must reach.

    ``ids`` (for tests): vpc, subnet, route_table, network_acl, task_sg, endpoint_sg (only with
    interface endpoints), endpoint.<service> (e.g. endpoint.ecr.dkr, endpoint.s3), nat_gateway,
    internet_gateway, public_subnet, public_route_table (when built), execution_role, task_role
    (ARNs) and their *_name, execution_policy, repository, repository_uri, image,
    image_digest.<tag>, kms_key (ARN), kms_key_id, ssm_parameter, secret (the real ones),
    ssm_parameter_ref, secret_ref (what the task definition references), log_group (ARN),
    cluster_arn, task_definition, task, eni, task_ip.
    """

    name: str
    title: str
    region: str
    account: str
    cluster: str
    task_arn: str
    expected: Expected | None  # None for the healthy task
    ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """A scenario not yet built; ``build`` must run inside an active moto mock."""

    name: str
    title: str
    build: Callable[[boto3.session.Session], Scenario]


# --- Real ECS messages (knowledge/ examples), {placeholders} for this account's ids ---

# knowledge/image_pull/network_timeout.toml, the seed example (the Japanese blog incident); its
# 10.0.x address is kept: it lies inside this VPC's 10.0.0.0/16 as it did there.
SEED_TIMEOUT = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    "resolve ref "
    "{registry}/web:v1: failed to do request: Head "
    '"https://{registry}/v2/web/manifests/v1": dial tcp 10.0.248.239:443: i/o timeout'
)
# knowledge/image_pull/network_timeout.toml, the seed example with a public address: the ECR host
# resolved publicly because the ecr.dkr endpoint's private DNS was off (44.213.79.104 is the
# us-east-1 ECR address of the registry_auth_unreachable example below).
DKR_PUBLIC_TIMEOUT = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    "resolve ref "
    "{registry}/web:v1: failed to do request: Head "
    '"https://{registry}/v2/web/manifests/v1": dial tcp 44.213.79.104:443: i/o timeout'
)
# knowledge/resource_init/registry_auth_unreachable.toml, code-index:3139391375 (us-east-1) in the
# repost.aws wording: the first call a Fargate task makes, GetAuthorizationToken, timed out.
REGISTRY_AUTH_TIMEOUT = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried "
    "3 time(s): "
    'RequestError: send request failed caused by: Post "https://api.ecr.{region}.amazonaws.com/": '
    "dial tcp {ip}:443: i/o timeout. Please check your task network configuration."
)
# knowledge/resource_init/registry_auth_unreachable.toml, code-index:63510130383: the newer wording;
# a private address means the ecr.api endpoint's ENI was found and the packet dropped.
REGISTRY_AUTH_ENDPOINT_BLOCKED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull "
    "registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. "
    "Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded "
    "maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send "
    'failed, Post "https://api.ecr.{region}.amazonaws.com/": dial tcp {ip}:443: i/o timeout.'
)
# knowledge/image_pull/network_timeout.toml, qiita.com/hahait (missing S3 gateway endpoint); the S3
# address is moved into us-east-1's S3 prefix list (52.216.0.0/15).
S3_LAYER_TIMEOUT = (
    "CannotPullContainerError: The task cannot pull {image}@{digest} from the registry "
    "{image}@{digest}. There is a connection issue between the task and the registry. Check your "
    "task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do "
    "request: Get {image}@{digest}: dial tcp 52.217.172.118:443: i/o timeout"
)
# knowledge/image_pull/network_timeout.toml, github.com/ActionIQ/terraform-aws-retool-ecs-fargate#20
DOCKERHUB_TIMEOUT = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
    "resolve ref "
    'docker.io/library/nginx:1.25: failed to do request: Head "https://registry-1.docker.io/v2/'
    'library/nginx/manifests/1.25": dial tcp 34.205.13.154:443: i/o timeout'
)
# knowledge/image_pull/image_not_found.toml, github.com/usdigitalresponse/usdr-gost/pull/4036
TAG_NOT_FOUND = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
    "resolve ref "
    "{image}: {image}: not found"
)
# knowledge/image_pull/repository_access_denied.toml, github.com/aws/amazon-ecs-agent/issues/2137
REPOSITORY_NOT_FOUND = (
    "CannotPullContainerError: Error response from daemon: pull access denied for {repository}, "
    "repository does not exist or may require 'docker login'"
)
# knowledge/resource_init/registry_auth_unreachable.toml,
# github.com/aws-samples/generative-ai-sagemaker-cdk-demo/issues/4 (already us-west-2: verbatim)
OTHER_REGION_AUTH_TIMEOUT = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried "
    "3 time(s): "
    'RequestError: send request failed caused by: Post "https://api.ecr.us-west-2.amazonaws.com/": '
    "dial tcp 34.223.27.76:443: i/o timeout. Please check your task network configuration."
)
# knowledge/resource_init/registry_auth_denied.toml, code-index:65736535365; the STS session name is
# the task id, as in the original.
REGISTRY_AUTH_DENIED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried "
    "1 time(s): "
    "operation error ECR: GetAuthorizationToken, https response error StatusCode: 400, RequestID: "
    "24460c33-1d7d-4ee9-99cf-c259d53e7b44, api error AccessDeniedException: User: "
    "arn:aws:sts::{account}:assumed-role/{role}/{task_id} is not authorized to perform: "
    "ecr:GetAuthorizationToken on resource: *"
)
# knowledge/image_pull/repository_access_denied.toml, github.com/aws/aws-cdk/issues/29876. No sample
# in knowledge/ says "ECS was unable to assume the role", so the 403 pull message stands in.
PULL_FORBIDDEN = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
    "resolve ref "
    "{registry}/web:v1: pulling from host {registry} failed with status code [manifests v1]: "
    "403 Forbidden"
)
# knowledge/resource_init/secret_not_found.toml, code-index:71021627723 (ECS names the parameter)
PARAMETER_NOT_FOUND = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secrets from ssm: service call has been retried "
    "1 time(s): "
    "invalid ssm parameters: {parameter}"
)
# knowledge/resource_init/secret_not_found.toml, docs resource-initialization-error.html
SECRET_NOT_FOUND = (
    "The task can't pull the secret from Secrets Manager. The task can't retrieve the "
    "secret with ARN "
    "'{secret}' from Secrets Manager. Check whether the secret exists in the specified Region."
)
# knowledge/resource_init/kms_decrypt_denied.toml, github.com/GiamPy5/terraform-aws-directus#10
KMS_NOT_ALLOWED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
    "time(s): "
    "failed to fetch secret {secret} from secrets manager: AccessDeniedException: Access to KMS is "
    "not allowed status code: 400, request id: a87a66d9-f839-4353-b8c2-9984b1465695"
)
# knowledge/resource_init/log_group_missing.toml, code-index:42657034223 (names no id)
LOG_GROUP_MISSING = (
    "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 "
    "times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log "
    "group does not exist. : exit status 1"
)

MISSING_PARAMETER = "/web/missing-param"
MISSING_PARAMETER_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{MISSING_PARAMETER}"
MISSING_SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:web/gone-AbCdEf"
TYPO_IMAGE = f"{acct.REGISTRY}/wbe:v1"
TYPO_REPOSITORY_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/wbe"
OTHER_REGION_IMAGE = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/web:v1"
MISSING_TAG_IMAGE = f"{acct.REGISTRY}/web:v2"
ECR_API_ENDPOINT_IP = "10.0.1.10"  # account.py places the ecr.api endpoint ENI here


def _fields(built: BuiltAccount) -> dict[str, str]:
    """Values the message templates may name."""
    return {
        "region": REGION,
        "account": ACCOUNT,
        "registry": acct.REGISTRY,
        "image": built.ids["image"],
        "digest": built.ids.get("image_digest.v1", ""),
        "role": built.ids["execution_role_name"],
        "task_id": built.task_id,
        "secret": built.ids["secret_ref"],
    }


Reason = Callable[[BuiltAccount], str]
Answer = Callable[[BuiltAccount], Expected]


def _spec(
    name: str,
    title: str,
    account: AccountSpec,
    reason: str | Reason | None,
    expected: Answer | None,
) -> ScenarioSpec:
    """Bind a scenario: build ``account``, fail its task with ``reason``, name the answer."""

    def build(session: boto3.session.Session) -> Scenario:
        built = acct.build_account(session, account)
        if reason is None:
            acct.mark_running(built)
        else:
            text = reason(built) if callable(reason) else reason.format(**_fields(built))
            acct.fail_task(built, text)
        return Scenario(
            name=name,
            title=title,
            region=REGION,
            account=ACCOUNT,
            cluster=CLUSTER,
            task_arn=built.task_arn,
            expected=expected(built) if expected else None,
            ids=MappingProxyType(dict(built.ids)),
        )

    return ScenarioSpec(name=name, title=title, build=build)


def _named(check: str, kind: str, id_key: str) -> Answer:
    """The answer names the built resource stored under ``id_key``."""
    return lambda built: Expected(check, kind, built.ids[id_key])


_ECR = "network.ecr_unreachable"
# The NAT-gateway account the image, IAM, secrets and logs scenarios break (no endpoints needed).
_NAT = AccountSpec(nat=True, interface_endpoints=NO_ENDPOINTS, s3_endpoint=False)

_SPECS: tuple[ScenarioSpec, ...] = (
    _spec(
        "seed-incident",
        "Private subnet without NAT: ECR endpoints present except ecr.dkr",
        AccountSpec(interface_endpoints=ALL_ENDPOINTS - {"ecr.dkr"}),
        SEED_TIMEOUT,
        _named(_ECR, "vpc_endpoint", "vpc"),
    ),
    _spec(
        "no-route-no-endpoints",
        "Private subnet with no default route and no VPC endpoints",
        AccountSpec(interface_endpoints=NO_ENDPOINTS, s3_endpoint=False),
        lambda b: REGISTRY_AUTH_TIMEOUT.format(region=REGION, ip="44.213.79.104"),
        _named(_ECR, "route_table", "route_table"),
    ),
    _spec(
        "nat-sg-no-443",
        "NAT gateway path, but the task security group allows egress only on 5432",
        replace(
            _NAT,
            task_sg_egress_ports=(5432,),
        ),
        lambda b: REGISTRY_AUTH_TIMEOUT.format(region=REGION, ip="44.213.79.104"),
        _named(_ECR, "security_group", "task_sg"),
    ),
    _spec(
        "ecr-endpoints-no-s3",
        "All interface endpoints, no S3 gateway endpoint, no NAT",
        AccountSpec(s3_endpoint=False),
        S3_LAYER_TIMEOUT,
        _named(_ECR, "vpc_endpoint", "vpc"),
    ),
    _spec(
        "endpoint-private-dns-off",
        "The ecr.dkr endpoint has private DNS turned off",
        AccountSpec(private_dns_off=frozenset({"ecr.dkr"})),
        DKR_PUBLIC_TIMEOUT,
        _named(_ECR, "vpc_endpoint", "endpoint.ecr.dkr"),
    ),
    _spec(
        "vpc-dns-hostnames-off",
        "VPC enableDnsHostnames is off, so no endpoint's private DNS applies",
        AccountSpec(dns_hostnames=False),
        lambda b: REGISTRY_AUTH_TIMEOUT.format(region=REGION, ip="44.213.79.104"),
        _named(_ECR, "vpc_dns", "vpc"),
    ),
    _spec(
        "endpoint-sg-no-ingress",
        "The endpoint security group admits 443 only from 192.168.0.0/16, not from the task",
        AccountSpec(endpoint_sg_source_cidr="192.168.0.0/16"),
        lambda b: REGISTRY_AUTH_ENDPOINT_BLOCKED.format(region=REGION, ip=ECR_API_ENDPOINT_IP),
        _named(_ECR, "security_group", "endpoint_sg"),
    ),
    _spec(
        "dockerhub-no-nat",
        "A Docker Hub image in a private subnet that only has AWS endpoints",
        AccountSpec(image="nginx:1.25"),
        DOCKERHUB_TIMEOUT,
        _named("network.internet_unreachable", "route_table", "route_table"),
    ),
    _spec(
        "public-subnet-no-public-ip",
        "Public subnet (route to the internet gateway) but assignPublicIp is DISABLED",
        AccountSpec(public=True, interface_endpoints=NO_ENDPOINTS, s3_endpoint=False),
        lambda b: REGISTRY_AUTH_TIMEOUT.format(region=REGION, ip="44.213.79.104"),
        lambda b: Expected(_ECR, "public_ip", b.task_arn),
    ),
    _spec(
        "image-tag-missing",
        "The task definition names tag v2, which was never pushed",
        replace(_NAT, image=MISSING_TAG_IMAGE),
        TAG_NOT_FOUND,
        _named("image.tag_not_found", "ecr_image", "repository"),
    ),
    _spec(
        "repository-typo",
        "The image names repository wbe; the repository is web",
        replace(_NAT, image=TYPO_IMAGE),
        lambda b: REPOSITORY_NOT_FOUND.format(repository=TYPO_IMAGE.rsplit(":", 1)[0]),
        lambda b: Expected("image.repository_not_found", "ecr_repository", TYPO_REPOSITORY_ARN),
    ),
    _spec(
        "image-other-region",
        "The image URI names us-west-2; the repository and the endpoints are in us-east-1",
        AccountSpec(image=OTHER_REGION_IMAGE),
        OTHER_REGION_AUTH_TIMEOUT,
        _named("image.registry_region_mismatch", "image_uri", "task_definition"),
    ),
    _spec(
        "execution-role-no-ecr",
        "The execution role has only an inline logs and secrets policy, no ECR actions",
        replace(
            _NAT,
            execution_policy_on="none",
            execution_inline_logs=True,
        ),
        REGISTRY_AUTH_DENIED,
        _named("iam.execution_role_denied_ecr", "execution_role", "execution_role"),
    ),
    _spec(
        "managed-policy-on-task-role",
        "AmazonECSTaskExecutionRolePolicy is attached to the task role, not the execution role",
        replace(_NAT, execution_policy_on="task"),
        REGISTRY_AUTH_DENIED,
        _named("iam.execution_policy_on_task_role", "task_role", "task_role"),
    ),
    _spec(
        "trust-ecs-not-ecs-tasks",
        "The execution role trusts ecs.amazonaws.com instead of ecs-tasks.amazonaws.com",
        replace(
            _NAT,
            execution_trust_service="ecs.amazonaws.com",
        ),
        PULL_FORBIDDEN,
        _named("iam.execution_role_not_assumable", "execution_role", "execution_role"),
    ),
    _spec(
        "ssm-parameter-missing",
        "The task definition references SSM parameter /web/missing-param, which does not exist",
        replace(
            _NAT,
            ssm_parameter_ref=MISSING_PARAMETER_ARN,
        ),
        lambda b: PARAMETER_NOT_FOUND.format(parameter=MISSING_PARAMETER),
        lambda b: Expected("secrets.parameter_not_found", "ssm_parameter", MISSING_PARAMETER_ARN),
    ),
    _spec(
        "secret-missing",
        "The task definition references secret web/gone-AbCdEf, which does not exist",
        replace(_NAT, secret_ref=MISSING_SECRET_ARN),
        SECRET_NOT_FOUND,
        lambda b: Expected("secrets.secret_not_found", "secret", MISSING_SECRET_ARN),
    ),
    _spec(
        "kms-key-disabled",
        "The KMS key encrypting the task's parameter and secret is disabled",
        replace(_NAT, kms_enabled=False),
        KMS_NOT_ALLOWED,
        _named("secrets.kms_key_unusable", "kms_key", "kms_key"),
    ),
    _spec(
        "log-group-missing",
        "The awslogs log group /ecs/web does not exist",
        replace(_NAT, log_group=False),
        LOG_GROUP_MISSING,
        _named("logs.log_group_missing", "log_group", "log_group"),
    ),
    _spec(
        "healthy",
        "Everything in place (NAT and every endpoint): the task is running",
        AccountSpec(nat=True),
        None,
        None,
    ),
)

SCENARIOS: dict[str, ScenarioSpec] = {spec.name: spec for spec in _SPECS}
DEFAULT_SCENARIO = "seed-incident"
