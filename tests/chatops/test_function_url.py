"""The Slack app on Lambda behind a function URL: verify and acknowledge, then answer deferred."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from moto import mock_aws
from slack_sdk.signature import SignatureVerifier

from ecsdoctor.chatops.config import Settings
from ecsdoctor.chatops.function_url import DEFERRED, SelfInvoker, handle_http
from ecsdoctor.chatops.server import Command, make_backend
from ecsdoctor.demo import SCENARIOS

from .conftest import Receiver

SECRET = "function-url-signing-secret"


@pytest.fixture
def task_arn() -> Iterator[str]:
    with mock_aws():
        yield (
            SCENARIOS["repository-typo"]
            .build(boto3.session.Session(region_name="us-east-1"))
            .task_arn
        )


def _request(
    path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> dict[str, Any]:
    """A function URL request, payload format 2.0 (form bodies arrive base64-encoded)."""
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": method, "path": path}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_slash_command_is_acknowledged_then_answered_by_a_second_invocation(
    task_arn: str, receiver: Receiver
) -> None:
    dispatched: list[tuple[Command, str]] = []
    settings = Settings(slack_signing_secret=SECRET, response_url_prefixes=(receiver.url + "/",))
    backend = make_backend(settings, dispatch=lambda c, u: dispatched.append((c, u)))
    body = urlencode(
        {"text": f"diagnose {task_arn}", "response_url": receiver.url + "/r/1", "channel_id": "C1"}
    ).encode()

    forged = handle_http(_request("/slack/commands", body, _signed(body, "wrong")), backend)
    assert forged["statusCode"] == 401 and dispatched == []

    ack = handle_http(_request("/slack/commands", body, _signed(body)), backend)
    assert ack["statusCode"] == 200 and json.loads(ack["body"])["response_type"] == "ephemeral"
    assert receiver.wait_for(1, timeout=0.3) == []  # nothing ran in the acknowledging invocation
    ((command, url),) = dispatched

    deferred = {DEFERRED: {"verb": command.verb, "argument": command.argument, "response_url": url}}
    assert handle_http(deferred, backend) == {"deferred": "diagnose"}
    ((path, message),) = receiver.wait_for(1)
    assert path == "/r/1" and "wbe" in message["blocks"][0]["text"]["text"]


def test_health_and_api_answer_in_the_first_invocation() -> None:
    backend = make_backend(Settings(api_token="t"), offline=True)
    health = handle_http(_request("/healthz", b"", {}, method="GET"), backend)
    assert health["statusCode"] == 200 and json.loads(health["body"]) == {"status": "ok"}
    body = json.dumps({"message": "CannotPullContainerError: ref not found"}).encode()
    answer = handle_http(_request("/v1/diagnose", body, {"Authorization": "Bearer t"}), backend)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["matches"]


def test_self_invoker_invokes_only_itself_asynchronously() -> None:
    calls: list[dict[str, Any]] = []

    class Client:
        def invoke(self, **params: Any) -> None:
            calls.append(params)

    SelfInvoker("ecsdoctor-commands", Client())(
        Command("scan", "prod"), "https://hooks.slack.com/x"
    )
    ((call,),) = [calls]
    assert call["FunctionName"] == "ecsdoctor-commands" and call["InvocationType"] == "Event"
    assert json.loads(call["Payload"])[DEFERRED] == {
        "verb": "scan",
        "argument": "prod",
        "response_url": "https://hooks.slack.com/x",
    }
