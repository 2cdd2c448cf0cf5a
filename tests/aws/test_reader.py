"""AwsReader on moto: the guard never sends, the memo sends once, failures become ReadErrors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from ecsdoctor.aws import (
    AwsReader,
    assume_role_session,
    open_session,
    translate_error,
    validate_region,
)
from ecsdoctor.errors import (
    ApiError,
    AwsSetupError,
    CallDenied,
    CallUnavailable,
    ForbiddenOperation,
    InputError,
    ReadError,
)

# One session for the whole module: building service models per test is what makes moto tests slow.
SESSION = boto3.session.Session(region_name="us-east-1")
ACCOUNT = "123456789012"


class _Raw:
    """The smallest raw body botocore's AWSResponse can read."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


def canned_error(code: str, status: int = 400) -> Callable[..., Any]:
    """A before-call handler answering with an AWS error; the request is never sent."""

    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return AWSResponse("https://canned", status, {}, None), parsed  # type: ignore[arg-type]

    return handler


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def reader(aws: None) -> Iterator[AwsReader]:
    with AwsReader(SESSION) as r:
        yield r


@pytest.fixture
def sent() -> Iterator[list[str]]:
    """Every request any client made from SESSION during the test sends, by event name."""
    seen: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        seen.append(event_name)

    SESSION.events.register("before-send", record, unique_id="test-sent")
    yield seen
    SESSION.events.unregister("before-send", unique_id="test-sent")


# -- the guard ------------------------------------------------------------------------------

FORBIDDEN_CALLS = [
    ("ecs", "RunTask", {"cluster": "c", "taskDefinition": "td:1"}),
    ("secretsmanager", "GetSecretValue", {"SecretId": "db"}),
    ("ssm", "GetParameters", {"Names": ["/db/password"], "WithDecryption": True}),
    ("kms", "Decrypt", {"CiphertextBlob": b"x"}),
    ("ecr", "GetAuthorizationToken", {}),
    ("ec2", "CreateRoute", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0"}),
]


@pytest.mark.parametrize(("service", "operation", "params"), FORBIDDEN_CALLS)
def test_forbidden_call_raises_before_anything_is_sent(
    reader: AwsReader, sent: list[str], service: str, operation: str, params: dict[str, Any]
) -> None:
    with pytest.raises(ForbiddenOperation, match=operation):
        reader.call(service, operation, **params)
    with pytest.raises(ForbiddenOperation):
        reader.pages(service, operation, "Items", **params)
    assert sent == [] and reader.api_calls == 0


def test_guarded_clients_refuse_direct_use(reader: AwsReader, sent: list[str]) -> None:
    """Even code that grabs the raw boto3 client cannot run a task or read a secret."""
    raw_ecs, raw_ec2 = SESSION.client("ecs"), SESSION.client("ec2")
    raw_sm = SESSION.client("secretsmanager")
    raw_ecs.create_cluster(clusterName="c")
    raw_ecs.register_task_definition(
        family="td", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}]
    )
    raw_sm.create_secret(Name="db", SecretString="hunter2")
    vpc_id = raw_ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    rtb = raw_ec2.create_route_table(VpcId=vpc_id)["RouteTable"]
    sent.clear()

    refused: list[Callable[[], Any]] = [
        lambda: reader.client("ecs").run_task(cluster="c", taskDefinition="td:1"),
        lambda: reader.client("secretsmanager").get_secret_value(SecretId="db"),
        lambda: reader.client("ssm").get_parameters(Names=["/db"], WithDecryption=True),
        lambda: reader.client("kms").decrypt(CiphertextBlob=b"x"),
        lambda: reader.client("ecr").get_authorization_token(),
        lambda: reader.client("ec2").create_route(
            RouteTableId=rtb["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId="igw-1"
        ),
        lambda: reader.client("secretsmanager").generate_presigned_url(
            "get_secret_value", Params={"SecretId": "db"}
        ),
        lambda: reader.client("secretsmanager", "eu-west-1").get_secret_value(SecretId="db"),
    ]
    for attempt in refused:
        with pytest.raises(ForbiddenOperation):
            attempt()
    assert sent == [] and reader.api_calls == 0
    assert raw_ecs.list_tasks(cluster="c")["taskArns"] == []
    routes = raw_ec2.describe_route_tables(RouteTableIds=[rtb["RouteTableId"]])["RouteTables"]
    assert [r["DestinationCidrBlock"] for r in routes[0]["Routes"]] == ["172.31.0.0/16"]
    # Reads through the same guarded client still work.
    assert reader.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"] == vpc_id


def test_clients_are_cached_and_configured(reader: AwsReader) -> None:
    ec2 = reader.client("ec2")
    assert reader.client("ec2") is ec2 and reader.client("ec2", "us-east-1") is ec2
    assert reader.client("ec2", "eu-west-1") is not ec2
    config = ec2.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}  # 4 retries
    assert config.max_pool_connections >= reader.max_workers
    assert (config.connect_timeout, config.read_timeout) == (5.0, 15.0)
    assert "ecsdoctor/" in config.user_agent_extra


def test_endpoint_url_explicit_wins_over_environment(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from_env = AwsReader(SESSION).client("ecs")
    assert from_env.meta.endpoint_url == "http://127.0.0.1:9"
    explicit = AwsReader(SESSION, endpoint_url="http://127.0.0.1:8").client("ecs")
    assert explicit.meta.endpoint_url == "http://127.0.0.1:8"


# -- memo and concurrency -------------------------------------------------------------------


def test_identical_calls_send_one_request(reader: AwsReader, sent: list[str]) -> None:
    filters = [{"Name": "vpc-id", "Values": ["vpc-1"]}]
    first = reader.call("ec2", "DescribeRouteTables", Filters=filters)
    first["RouteTables"].append("edited by a caller")
    second = reader.call("ec2", "DescribeRouteTables", Filters=filters, NextToken=None)
    assert second["RouteTables"] == []
    assert reader.api_calls == 1 and len(sent) == 1
    reader.call("ec2", "DescribeRouteTables", Filters=[{"Name": "vpc-id", "Values": ["vpc-2"]}])
    reader.call("ec2", "DescribeRouteTables", Filters=filters, region="eu-west-1")
    assert reader.api_calls == 3 and len(sent) == 3


def test_errors_are_memoised_too(reader: AwsReader) -> None:
    hits: list[int] = []
    deny = canned_error("UnauthorizedOperation")

    def counted(**kw: Any) -> Any:
        hits.append(1)
        return deny(**kw)

    reader.client("ec2").meta.events.register("before-call.ec2.DescribeRouteTables", counted)
    for _ in range(2):
        with pytest.raises(CallDenied) as caught:
            reader.call("ec2", "DescribeRouteTables")
        assert caught.value.permission == "ec2:DescribeRouteTables"
        assert caught.value.code == "UnauthorizedOperation"
        assert "missing permission ec2:DescribeRouteTables" in str(caught.value)
    assert hits == [1]


def test_concurrent_identical_calls_share_one_request(reader: AwsReader) -> None:
    def slow(**_: Any) -> None:
        time.sleep(0.2)

    reader.client("ec2").meta.events.register("before-send.ec2.DescribeVpcs", slow)
    results = reader.parallel([lambda: reader.call("ec2", "DescribeVpcs")] * 8)
    assert reader.api_calls == 1
    assert all(r == results[0] for r in results)


def test_parallel_keeps_order_and_captures_read_errors(aws: None) -> None:
    reader = AwsReader(SESSION, max_workers=2)
    workers: set[str] = set()

    def vpcs() -> int:
        workers.add(threading.current_thread().name)
        return len(reader.call("ec2", "DescribeVpcs")["Vpcs"])

    def nested() -> list[int | ReadError]:
        return reader.parallel([vpcs, vpcs, vpcs])  # runs in line inside a worker: no deadlock

    missing = lambda: reader.call("ecr", "DescribeRepositories", repositoryNames=["nope"])  # noqa: E731
    results = reader.parallel([vpcs, missing, nested, lambda: "plain"])
    reader.close()
    assert results[0] == 1 and results[2] == [1, 1, 1] and results[3] == "plain"
    assert isinstance(results[1], ApiError)
    assert all(name.startswith("ecsdoctor") for name in workers)


def test_parallel_propagates_other_exceptions(reader: AwsReader) -> None:
    def boom() -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        reader.parallel([lambda: None, boom])
    with pytest.raises(ForbiddenOperation):
        reader.parallel([lambda: reader.call("ecs", "StopTask", task="t"), lambda: None])


def test_pages_gather_every_page_once(reader: AwsReader) -> None:
    ssm = SESSION.client("ssm")
    for i in range(120):
        ssm.put_parameter(Name=f"/app/p{i:03}", Value="v", Type="String")
    params = reader.pages("ssm", "DescribeParameters", "Parameters")
    assert sorted(p["Name"] for p in params) == [f"/app/p{i:03}" for i in range(120)]
    sent_for_pages = reader.api_calls
    assert sent_for_pages > 1  # moto pages DescribeParameters by 10
    assert len(reader.pages("ssm", "DescribeParameters", "Parameters")) == 120
    assert reader.api_calls == sent_for_pages


def test_pages_of_security_groups_with_small_pages(reader: AwsReader) -> None:
    ec2 = SESSION.client("ec2")
    vpc_id = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    for i in range(12):
        ec2.create_security_group(GroupName=f"sg{i}", Description="d", VpcId=vpc_id)
    groups = reader.pages(
        "ec2",
        "DescribeSecurityGroups",
        "SecurityGroups",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        PaginationConfig={"PageSize": 5},
    )
    assert {g["GroupName"] for g in groups} >= {f"sg{i}" for i in range(12)}


def test_pages_of_an_unpaginated_operation_is_one_call(reader: AwsReader) -> None:
    SESSION.client("ecs").create_cluster(clusterName="c")
    clusters = reader.pages("ecs", "DescribeClusters", "clusters", clusters=["c"])
    assert [c["clusterName"] for c in clusters] == ["c"] and reader.api_calls == 1


def test_account_is_read_once(reader: AwsReader) -> None:
    assert reader.account == ACCOUNT
    assert reader.account == ACCOUNT
    assert reader.api_calls == 1


# -- failures -------------------------------------------------------------------------------


def test_missing_resource_is_an_api_error_with_the_aws_code(reader: AwsReader) -> None:
    with pytest.raises(ApiError) as caught:
        reader.call("ecr", "DescribeRepositories", repositoryNames=["missing"])
    assert caught.value.code == "RepositoryNotFoundException"
    assert caught.value.permission == "ecr:DescribeRepositories"
    assert caught.value.exit_code == 3


def test_access_denied_names_the_permission(reader: AwsReader) -> None:
    events = reader.client("elbv2").meta.events
    events.register(
        "before-call.elastic-load-balancing-v2.DescribeTargetHealth",
        canned_error("AccessDenied", 403),
    )
    with pytest.raises(CallDenied) as caught:
        reader.call("elbv2", "DescribeTargetHealth", TargetGroupArn="arn:aws:tg")
    assert caught.value.permission == "elasticloadbalancing:DescribeTargetHealth"
    assert reader.api_calls == 0  # answered by the hook, never sent


def test_unimplemented_operation_is_unavailable_not_a_crash(reader: AwsReader) -> None:
    with pytest.raises(CallUnavailable) as caught:
        reader.call(
            "iam",
            "SimulatePrincipalPolicy",
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/exec",
            ActionNames=["ecr:BatchGetImage"],
        )
    assert caught.value.permission == "iam:SimulatePrincipalPolicy"


def test_html_500_from_an_endpoint_is_unavailable(reader: AwsReader) -> None:
    """moto's server answers an unimplemented query-protocol call with an HTML page."""

    def html(request: Any, **_: Any) -> AWSResponse:
        page = b"<!doctype html><title>500 Internal Server Error</title>"
        return AWSResponse(request.url, 500, {"Content-Type": "text/html"}, _Raw(page))  # type: ignore[arg-type]

    reader.client("ec2").meta.events.register("before-send.ec2.DescribeVpcs", html)
    with pytest.raises(CallUnavailable) as caught:
        reader.call("ec2", "DescribeVpcs")
    assert "\n" not in caught.value.message


def test_persistent_throttling_is_unavailable_after_retries(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.retries import standard

    # Keep botocore's real retry loop but skip its sleeps, so the test stays fast.
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    reader = AwsReader(SESSION, max_attempts=4)

    def throttle(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 400, headers, _Raw(body.encode()))  # type: ignore[arg-type]

    reader.client("ecs").meta.events.register("before-send.ecs.ListClusters", throttle)
    started = time.monotonic()
    with pytest.raises(CallUnavailable) as caught:
        reader.call("ecs", "ListClusters")
    assert caught.value.code == "ThrottlingException"
    assert reader.api_calls == 4  # the first attempt and three retries, each counted
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDeniedException", 400, CallDenied),
        ("UnauthorizedOperation", 403, CallDenied),
        ("AuthorizationError", 403, CallDenied),
        ("UnauthorizedException", 401, CallDenied),
        ("Throttling", 400, CallUnavailable),
        ("RequestLimitExceeded", 503, CallUnavailable),
        ("TooManyRequestsException", 429, CallUnavailable),
        ("InvalidAction", 400, CallUnavailable),
        ("Whatever", 501, CallUnavailable),
        ("ParameterNotFound", 400, ApiError),
        ("NoSuchEntity", 404, ApiError),
        ("ResourceNotFoundException", 400, ApiError),
        ("ExpiredToken", 403, AwsSetupError),
        ("InvalidClientTokenId", 403, AwsSetupError),
        ("UnrecognizedClientException", 400, AwsSetupError),
        ("SignatureDoesNotMatch", 403, AwsSetupError),
    ],
)
def test_client_errors_are_classified(code: str, status: int, expected: type[Exception]) -> None:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    error = translate_error(botocore.exceptions.ClientError(response, "Op"), "svc:Op")
    assert type(error) is expected
    if isinstance(error, ReadError):
        assert (error.permission, error.code) == ("svc:Op", code)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NotImplementedError("moto"), CallUnavailable),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"), CallUnavailable),
        (botocore.exceptions.ConnectTimeoutError(endpoint_url="http://x"), CallUnavailable),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), CallUnavailable),
        (botocore.exceptions.NoCredentialsError(), AwsSetupError),
        (botocore.exceptions.PartialCredentialsError(provider="env", cred_var="x"), AwsSetupError),
        (botocore.exceptions.NoRegionError(), AwsSetupError),
        (KeyError("a bug"), KeyError),
    ],
)
def test_other_exceptions_are_classified(exc: Exception, expected: type[Exception]) -> None:
    assert type(translate_error(exc, "svc:Op")) is expected


def test_expired_credentials_stop_the_diagnosis(reader: AwsReader) -> None:
    reader.client("ecs").meta.events.register(
        "before-call.ecs.DescribeTasks", canned_error("ExpiredTokenException")
    )
    with pytest.raises(AwsSetupError, match="expired"):
        reader.call("ecs", "DescribeTasks", cluster="c", tasks=["t"])
    with pytest.raises(AwsSetupError):  # not a ReadError, so parallel does not swallow it
        reader.parallel([lambda: reader.call("ecs", "DescribeTasks", cluster="c", tasks=["t"])] * 2)


def test_no_credentials_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reader = AwsReader(boto3.session.Session(region_name="us-east-1"))
    with pytest.raises(AwsSetupError, match="no AWS credentials found"):
        reader.call("sts", "GetCallerIdentity")
    assert reader.account is None and reader.api_calls == 0


def test_missing_profile_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AwsSetupError, match="profile"):
        open_session("no-such-profile")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(AwsSetupError, match="AWS_PROFILE"):
        AwsReader()


# -- regions and roles ----------------------------------------------------------------------


def test_unknown_region_is_bad_input() -> None:
    with pytest.raises(InputError, match="unknown region 'us-est-1'"):
        AwsReader(SESSION, region="us-est-1")
    assert validate_region(SESSION, "eu-central-1") == "eu-central-1"
    assert validate_region(SESSION, "cn-north-1") == "cn-north-1"
    assert validate_region(SESSION, "us-est-1", endpoint_url="http://localhost:5000") == "us-est-1"
    with pytest.raises(InputError):
        validate_region(SESSION, "US East", endpoint_url="http://localhost:5000")
    reader = AwsReader(SESSION)
    with pytest.raises(InputError):
        reader.call("ec2", "DescribeVpcs", region="eu-wset-1")


def test_region_comes_from_argument_then_session(monkeypatch: pytest.MonkeyPatch) -> None:
    assert AwsReader(SESSION).region == "us-east-1"
    assert AwsReader(SESSION, region="eu-west-1").region == "eu-west-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(AwsSetupError, match="region"):
        AwsReader(boto3.session.Session())


def test_assume_role_session(aws: None) -> None:
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/ecsdoctor-read"
    assumed = assume_role_session(SESSION, role_arn, "eu-west-1")
    assert assumed.region_name == "eu-west-1"
    credentials = assumed.get_credentials()
    assert credentials is not None and credentials.access_key != "testing"
    with pytest.raises(InputError):
        assume_role_session(SESSION, "not-an-arn", None)


def test_assume_role_failure_is_a_setup_error(aws: None) -> None:
    SESSION.events.register(
        "before-call.sts.AssumeRole", canned_error("AccessDenied", 403), unique_id="deny-assume"
    )
    try:
        with pytest.raises(AwsSetupError, match="cannot assume role"):
            assume_role_session(SESSION, f"arn:aws:iam::{ACCOUNT}:role/x", None)
    finally:
        SESSION.events.unregister("before-call.sts.AssumeRole", unique_id="deny-assume")
