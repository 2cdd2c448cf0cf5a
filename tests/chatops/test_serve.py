"""`ecsdoctor serve` started for real on 127.0.0.1, against a broken moto account over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from slack_sdk.signature import SignatureVerifier

from ecsdoctor.demo import SCENARIOS

from .conftest import Receiver

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "api-token-for-tests"
CHANNEL = "C0ONCALL"


class Moto:
    """moto's threaded server, counting every request that reaches it."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        self.requests = 0
        inner = self.server._server.app  # type: ignore[union-attr]

        def counting(environ: dict[str, Any], start_response: Any) -> Any:
            self.requests += 1
            return inner(environ, start_response)

        self.server._server.app = counting  # type: ignore[union-attr]
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = Moto()
    yield server
    server.server.stop()


@pytest.fixture(scope="module")
def task_arn(moto: Moto) -> str:
    os.environ["AWS_ENDPOINT_URL"] = moto.url
    try:
        scenario = SCENARIOS["repository-typo"].build(
            boto3.session.Session(region_name="us-east-1")
        )
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    return scenario.task_arn


@pytest.fixture(scope="module")
def response_rx() -> Iterator[Receiver]:
    rx = Receiver()
    yield rx
    rx.close()


def _command() -> list[str]:
    from ecsdoctor.cli import app

    registered = any(c.name == "serve" for c in app.registered_commands)
    module = "ecsdoctor" if registered else "ecsdoctor.chatops"
    return [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", "0"]


class Served:
    def __init__(self, url: str, process: subprocess.Popen[str], log: list[str]) -> None:
        self.url = url
        self.process = process
        self.log = log


@pytest.fixture(scope="module")
def served(moto: Moto, response_rx: Receiver, task_arn: str) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        AWS_ENDPOINT_URL=moto.url,
        SLACK_SIGNING_SECRET=SECRET,
        ECSDOCTOR_API_TOKEN=TOKEN,
        ECSDOCTOR_SLACK_CHANNELS=CHANNEL,
        ECSDOCTOR_RESPONSE_URL_PREFIXES=response_rx.url + "/",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    process = subprocess.Popen(
        _command(), env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    log: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line)
            if "serving on " in line and not ready.is_set():
                url.append(line.split("serving on ", 1)[1].strip())
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    assert ready.wait(30), "".join(log)
    yield Served(url[0], process, log)
    process.terminate()
    process.wait(10)


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 10
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _slash(text: str, rx: Receiver, channel: str = CHANNEL) -> bytes:
    return urlencode(
        {
            "token": "deprecated",
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": "U2147483697",
            "command": "/ecsdoctor",
            "text": text,
            "response_url": rx.url + "/commands/1234/5678",
        }
    ).encode()


def _signed(body: bytes, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_healthz(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/healthz", timeout=5) as response:
        assert response.status == 200 and json.loads(response.read()) == {"status": "ok"}


@pytest.mark.parametrize("kind", ["unsigned", "forged", "stale", "garbage-timestamp"])
def test_refused_slack_requests_cost_no_aws_call(
    served: Served, moto: Moto, response_rx: Receiver, task_arn: str, kind: str
) -> None:
    body = _slash(f"diagnose {task_arn}", response_rx)
    headers = {
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "forged": _signed(body, secret="not-the-secret"),
        "stale": _signed(body, age=6 * 60),
        "garbage-timestamp": {**_signed(body), "X-Slack-Request-Timestamp": "soon"},
    }[kind]
    before, posts = moto.requests, len(response_rx.posts)
    status, answer = _post(served.url + "/slack/commands", body, headers)
    assert status == 401 and "signature" in answer["error"]
    time.sleep(0.5)
    assert moto.requests == before
    assert len(response_rx.posts) == posts


def test_signed_diagnose_posts_the_root_cause(
    served: Served, moto: Moto, response_rx: Receiver, task_arn: str
) -> None:
    body = _slash(f"diagnose {task_arn}", response_rx)
    posts = len(response_rx.posts)
    started = time.monotonic()
    status, ack = _post(served.url + "/slack/commands", body, _signed(body), timeout=3)
    assert time.monotonic() - started < 3  # Slack's acknowledgement limit
    assert status == 200 and ack["response_type"] == "ephemeral"
    answers = response_rx.wait_for(posts + 1, timeout=30)
    path, message = answers[posts]
    assert path == "/commands/1234/5678"
    assert message["response_type"] == "in_channel"
    header = message["blocks"][0]["text"]["text"]
    assert header.startswith("🚨 Root cause:") and "wbe" in header
    assert moto.requests > 0
    logged = "".join(served.log)
    assert "wbe" not in logged and "Root cause" not in logged  # no diagnosis text in logs


def test_channel_outside_the_allow_list_is_refused(
    served: Served, moto: Moto, response_rx: Receiver, task_arn: str
) -> None:
    body = _slash(f"diagnose {task_arn}", response_rx, channel="C0RANDOM")
    before = moto.requests
    status, answer = _post(served.url + "/slack/commands", body, _signed(body))
    assert status == 200 and "not enabled" in answer["text"]
    assert moto.requests == before


def test_help_and_typos_answer_at_once(served: Served, response_rx: Receiver) -> None:
    for text, expected in (("help", "Usage"), ("diagnose not-a-task", "cluster/service")):
        body = _slash(text, response_rx)
        status, answer = _post(served.url + "/slack/commands", body, _signed(body))
        assert status == 200 and expected in answer["text"]


def test_api_needs_the_bearer_token(served: Served, moto: Moto, task_arn: str) -> None:
    body = json.dumps({"task": task_arn}).encode()
    before = moto.requests
    for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        status, _ = _post(served.url + "/v1/diagnose", body, auth)
        assert status == 401
    assert moto.requests == before
    status, doc = _post(
        served.url + "/v1/diagnose", body, {"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    assert status == 200 and doc["schema"] == "ecsdoctor.diagnosis/v1"
    assert doc["root_causes"][0]["resource"].endswith(":repository/wbe")


def test_api_message_and_bad_input(served: Served) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    message = json.dumps({"message": "CannotPullContainerError: ref not found"}).encode()
    status, doc = _post(served.url + "/v1/diagnose", message, auth)
    assert status == 200 and doc["offline"] is True and doc["matches"]
    status, answer = _post(served.url + "/v1/diagnose", b"{nope", auth)
    assert status == 400 and "JSON" in answer["error"]
    status, answer = _post(served.url + "/v1/diagnose", b'{"task": "arn:bad"}', auth)
    assert status == 400 and "task ARN" in answer["error"]


def test_bodies_are_bounded(served: Served) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as client:
        client.sendall(
            b"POST /v1/diagnose HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\nContent-Length: 1048577\r\n\r\n{"
        )
        answer = client.recv(4096).decode()
    assert answer.startswith("HTTP/1.0 413")


def test_a_stalled_client_does_not_block_others(served: Served) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as stalled:
        stalled.sendall(b"POST /v1/diagnose HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        with urllib.request.urlopen(served.url + "/healthz", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 2


def test_signed_explain_needs_no_aws(served: Served, moto: Moto, response_rx: Receiver) -> None:
    body = _slash("explain CannotPullContainerError: <!channel> ref not found", response_rx)
    posts, before = len(response_rx.posts), moto.requests
    status, _ = _post(served.url + "/slack/commands", body, _signed(body))
    assert status == 200
    _, message = response_rx.wait_for(posts + 1)[posts]
    raw = json.dumps(message)
    assert "Likely cause" in raw and "<!channel>" not in raw
    assert moto.requests == before


def test_api_event_and_service(served: Served, moto: Moto, task_arn: str) -> None:
    from .conftest import task_event

    ecs = boto3.session.Session(region_name="us-east-1").client("ecs", endpoint_url=moto.url)
    (task,) = ecs.describe_tasks(cluster="prod", tasks=[task_arn])["tasks"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = json.dumps({"event": task_event(task)}).encode()
    status, doc = _post(served.url + "/v1/diagnose", body, auth, timeout=60)
    assert status == 200 and doc["root_causes"][0]["resource"].endswith(":repository/wbe")
    body = json.dumps({"service": "nothere", "cluster": "prod"}).encode()
    status, answer = _post(served.url + "/v1/diagnose", body, auth, timeout=60)
    assert status == 502 and "'nothere' not found in cluster prod" in answer["error"]


def test_signed_scan_posts_to_the_channel(
    served: Served, moto: Moto, response_rx: Receiver, task_arn: str
) -> None:
    body = _slash("scan prod", response_rx)
    posts = len(response_rx.posts)
    status, ack = _post(served.url + "/slack/commands", body, _signed(body), timeout=3)
    assert status == 200 and "scan prod" in ack["text"]
    _, message = response_rx.wait_for(posts + 1, timeout=60)[posts]
    assert message["response_type"] == "in_channel"
    assert "cluster" in json.dumps(message["blocks"])
