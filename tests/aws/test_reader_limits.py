"""AwsReader's bounds: a wall-clock cap per call, a deadline per diagnosis, a bound on requests
in flight, malformed answers as data gaps, and a --role-arn session that stays guarded."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from ecsdoctor.aws import DEADLINE_EXCEEDED, AwsReader, assume_role_session, translate_error
from ecsdoctor.aws.session import AwsAccess, deadline_seconds, open_reader
from ecsdoctor.errors import (
    AwsSetupError,
    CallUnavailable,
    ForbiddenOperation,
    InputError,
    MalformedResponse,
)

SESSION = boto3.session.Session(region_name="us-east-1")
ACCOUNT = "123456789012"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _on(reader: AwsReader, service: str, operation: str, handler: Any) -> None:
    """Register a before-send fault between the reader's own hook and moto's answer.

    Specific events ("before-send.ec2.DescribeVpcs") run before generic ones, which would put
    the fault ahead of the reader's deadline check; so it is generic, first-priority (after
    the reader's), and filters by name itself.
    """

    def filtered(event_name: str, **kwargs: Any) -> Any:
        if event_name.endswith(f".{operation}"):
            return handler(**kwargs)
        return None

    reader.client(service).meta.events.register_first("before-send", filtered)


def _stall(seconds: float) -> Any:
    def handler(**_: Any) -> None:
        time.sleep(seconds)

    return handler


def _warm(reader: AwsReader) -> None:
    """Build the clients and moto's EC2 backend, which take longer than the caps tested here."""
    SESSION.client("ec2").describe_vpcs()
    SESSION.client("ecs").list_clusters()
    for service in ("ec2", "ecs"):
        reader.client(service)


# -- wall-clock cap and deadline -------------------------------------------------------------


def test_a_call_is_abandoned_at_its_wall_clock_cap(aws: None) -> None:
    reader = AwsReader(SESSION, call_limit=0.4)
    _warm(reader)
    _on(reader, "ec2", "DescribeVpcs", _stall(3))
    started = time.monotonic()
    with pytest.raises(CallUnavailable) as caught:
        reader.call("ec2", "DescribeVpcs")
    assert time.monotonic() - started < 1.0
    assert (caught.value.permission, caught.value.code) == ("ec2:DescribeVpcs", "CallTimedOut")
    # Other reads go on: the cap costs only the call that hit it.
    assert reader.call("ec2", "DescribeSubnets")["Subnets"]


def test_past_the_deadline_nothing_is_sent_and_answers_read_before_are_kept(aws: None) -> None:
    _warm(AwsReader(SESSION))
    reader = AwsReader(SESSION, deadline=1.0, call_limit=30)
    vpcs = reader.call("ec2", "DescribeVpcs")
    _on(reader, "ec2", "DescribeSubnets", _stall(5))
    started = time.monotonic()
    with pytest.raises(CallUnavailable) as caught:
        reader.call("ec2", "DescribeSubnets")
    assert time.monotonic() - started < 1.0
    assert caught.value.code == DEADLINE_EXCEEDED and "deadline" in caught.value.message
    assert reader.expired
    sent = reader.api_calls
    for attempt in (
        lambda: reader.call("ecs", "ListClusters"),
        lambda: reader.pages("ec2", "DescribeRouteTables", "RouteTables"),
        lambda: reader.client("ec2").describe_security_groups(),  # even the raw client
    ):
        with pytest.raises(CallUnavailable) as late:
            attempt()
        assert late.value.code == DEADLINE_EXCEEDED
    assert reader.api_calls == sent
    assert reader.call("ec2", "DescribeVpcs") == vpcs  # memoised: no request needed
    results = reader.parallel([lambda: reader.call("ecs", "ListServices", cluster="c")] * 3)
    assert all(isinstance(r, CallUnavailable) for r in results)


def test_an_abandoned_call_sends_no_retry(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.5)
    reader = AwsReader(SESSION, call_limit=0.3, max_attempts=5)
    _warm(reader)
    reader.call("ecs", "DescribeClusters")
    attempts: list[float] = []

    def throttle(request: Any, **_: Any) -> AWSResponse:
        attempts.append(time.monotonic())
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 400, headers, _Raw(body.encode()))  # type: ignore[arg-type]

    _on(reader, "ecs", "ListClusters", throttle)
    with pytest.raises(CallUnavailable):
        reader.call("ecs", "ListClusters")
    time.sleep(1.2)  # the abandoned thread wakes from its backoff and must stop there
    assert len(attempts) == 1


def test_requests_in_flight_are_bounded(aws: None) -> None:
    reader = AwsReader(SESSION, max_workers=3)
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def slow(**_: Any) -> None:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.15)
        with lock:
            now[0] -= 1

    _on(reader, "ec2", "DescribeSubnets", slow)
    subnets = [f"subnet-{i}" for i in range(9)]
    threads = [
        threading.Thread(
            target=reader.parallel,
            args=([lambda s=s: reader.call("ec2", "DescribeSubnets", SubnetIds=[s])],),
        )
        for s in subnets
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 3


def test_an_abandoned_call_does_not_keep_the_process_alive() -> None:
    """A server that accepts and never answers: the script must exit soon after its deadline."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    script = f"""
import boto3, time
from ecsdoctor.aws import AwsReader
from ecsdoctor.errors import CallUnavailable
session = boto3.session.Session(region_name="us-east-1")
reader = AwsReader(session, endpoint_url="http://127.0.0.1:{port}",
                   deadline=1.0, call_limit=30)
try:
    reader.call("ecs", "ListClusters")
except CallUnavailable as exc:
    print(exc.code)
reader.close()
"""
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
        )
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert done.stdout.strip() == DEADLINE_EXCEEDED, done.stderr
    assert elapsed < 8  # interpreter start-up + 1 s; a joined thread would wait 15 s x 5


# -- malformed answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"taskDefinition": []}',
        b'{"taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"}',
        b'{"taskDefinition": {"containerDefinitions": ["app"]}}',
        b"[1, 2, 3]",
    ],
)
def test_a_wrongly_typed_200_is_a_malformed_response(aws: None, body: bytes) -> None:
    reader = AwsReader(SESSION)

    def answer(request: Any, **_: Any) -> AWSResponse:
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 200, headers, _Raw(body))  # type: ignore[arg-type]

    reader.client("ecs").meta.events.register("before-send.ecs.DescribeTaskDefinition", answer)
    with pytest.raises(MalformedResponse) as caught:
        reader.call("ecs", "DescribeTaskDefinition", taskDefinition="web:1")
    assert caught.value.permission == "ecs:DescribeTaskDefinition"
    assert caught.value.code == "MalformedResponse"


@pytest.mark.parametrize(
    ("service", "operation", "content_type", "body"),
    [
        ("ecr", "DescribeRepositories", "application/x-amz-json-1.1", b'{"repositories": [{"rep'),
        ("ecr", "DescribeRepositories", "application/x-amz-json-1.1", b"<html>busy</html>"),
        ("ecr", "DescribeRepositories", "application/x-amz-json-1.1", b""),
        ("ec2", "DescribeVpcs", "text/xml", b"<DescribeVpcsResponse><vpcSet><item>"),
        ("iam", "GetRole", "text/xml", b"<GetRoleResponse><GetRoleResult><Role>"),
    ],
)
def test_a_truncated_200_is_malformed_never_an_empty_answer(
    aws: None, service: str, operation: str, content_type: str, body: bytes
) -> None:
    """botocore alone reads a cut JSON body as {}: "no repositories", a false finding."""
    reader = AwsReader(SESSION)

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"Content-Type": content_type}, _Raw(body))  # type: ignore[arg-type]

    _on(reader, service, operation, answer)
    params = {"RoleName": "r"} if operation == "GetRole" else {}
    with pytest.raises(MalformedResponse) as caught:
        reader.call(service, operation, **params)
    assert caught.value.permission.endswith(f":{operation}")


def test_a_bug_is_not_mistaken_for_a_malformed_response() -> None:
    assert type(translate_error(AttributeError("ours"), "ecs:DescribeTasks")) is AttributeError


def test_a_broken_connection_while_reading_the_body_is_unavailable() -> None:
    from urllib3.exceptions import ProtocolError

    error = translate_error(ProtocolError("Connection broken: IncompleteRead"), "ec2:DescribeVpcs")
    assert isinstance(error, CallUnavailable) and error.code == "ProtocolError"


# -- the deadline setting ------------------------------------------------------------------------


def test_deadline_comes_from_the_argument_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ECSDOCTOR_DEADLINE", raising=False)
    assert deadline_seconds() == 60.0
    monkeypatch.setenv("ECSDOCTOR_DEADLINE", "7.5")
    assert deadline_seconds() == 7.5
    assert deadline_seconds(20) == 20
    monkeypatch.setenv("ECSDOCTOR_DEADLINE", "0")
    assert deadline_seconds() is None
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("ECSDOCTOR_DEADLINE", bad)
        with pytest.raises(InputError, match=r"(?i)deadline"):
            deadline_seconds()


def test_open_reader_passes_the_deadline(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECSDOCTOR_DEADLINE", "9")
    reader = open_reader(AwsAccess(session=SESSION))
    assert isinstance(reader, AwsReader) and reader.deadline is not None
    assert 8.5 < reader.deadline <= 9
    explicit = open_reader(AwsAccess(session=SESSION, deadline=3))
    assert isinstance(explicit, AwsReader) and explicit.deadline is not None
    assert explicit.deadline <= 3


# -- --role-arn ------------------------------------------------------------------------------------


def test_the_assumed_role_session_is_guarded(aws: None) -> None:
    admin = SESSION.client("ecs")
    admin.create_cluster(clusterName="c")
    admin.register_task_definition(
        family="td", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}]
    )
    SESSION.client("secretsmanager").create_secret(Name="db", SecretString="hunter2")
    assumed = assume_role_session(SESSION, f"arn:aws:iam::{ACCOUNT}:role/ecsdoctor-read")
    sent: list[str] = []
    assumed.events.register("before-send", lambda event_name, **_: sent.append(event_name))
    with pytest.raises(ForbiddenOperation):
        assumed.client("ecs").run_task(cluster="c", taskDefinition="td:1")
    with pytest.raises(ForbiddenOperation):
        assumed.client("secretsmanager").get_secret_value(SecretId="db")
    with pytest.raises(ForbiddenOperation):
        assumed.client("elbv2").delete_load_balancer(LoadBalancerArn="arn:aws:lb")
    assert sent == []
    assert admin.list_tasks(cluster="c")["taskArns"] == []
    # Allow-listed reads still work, directly and through a reader.
    assert assumed.client("ecs").list_clusters()["clusterArns"]
    with AwsReader(assumed) as reader:
        assert reader.call("sts", "GetCallerIdentity")["Account"] == ACCOUNT


def test_assume_role_without_credentials_in_the_answer_is_a_setup_error(aws: None) -> None:
    def empty(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        meta = {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
        return AWSResponse("https://canned", 200, {}, None), {"ResponseMetadata": meta}  # type: ignore[arg-type]

    SESSION.events.register("before-call.sts.AssumeRole", empty, unique_id="empty-assume")  # type: ignore[arg-type]
    try:
        with pytest.raises(AwsSetupError, match="no credentials"):
            assume_role_session(SESSION, f"arn:aws:iam::{ACCOUNT}:role/x")
    finally:
        SESSION.events.unregister("before-call.sts.AssumeRole", unique_id="empty-assume")
