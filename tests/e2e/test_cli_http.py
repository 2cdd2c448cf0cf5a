"""The installed CLI, as a subprocess, against moto's threaded server over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from ecsdoctor.demo import SCENARIOS


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["AWS_ENDPOINT_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "ecsdoctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_diagnoses_a_task_over_http(server: str) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    # moto's server shares this process's backends, so the scenario builder works over HTTP too.
    os.environ["AWS_ENDPOINT_URL"] = server
    try:
        scenario = SCENARIOS["repository-typo"].build(session)
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    done = _cli(server, "diagnose", "--task", scenario.task_arn, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    root = document["root_causes"][0]
    assert root["resource"] == "arn:aws:ecr:us-east-1:123456789012:repository/wbe"
    assert "Did you mean web" in root["summary"]
    assert document["api_calls"] > 0
    assert "SECRET_VALUE_SHOULD_NEVER_PRINT" not in done.stdout

    text = _cli(server, "diagnose", "--task", scenario.task_arn)
    assert text.returncode == 0
    assert text.stdout.startswith("ROOT CAUSE: ")


def test_cli_missing_task_exits_3_with_one_line(server: str) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:task/nowhere/0123456789abcdef0123456789abcdef"
    done = _cli(server, "diagnose", "--task", arn)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def _build_over_http(server: str, build: object) -> object:
    session = boto3.session.Session(region_name="us-east-1")
    os.environ["AWS_ENDPOINT_URL"] = server
    try:
        return build(session)  # type: ignore[operator]
    finally:
        del os.environ["AWS_ENDPOINT_URL"]


def test_cli_diagnoses_a_service_and_scans_its_cluster_over_http(server: str) -> None:
    import urllib.request

    from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS

    # A clean account: the task test above built one on the same server.
    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST"))
    scenario = _build_over_http(server, SERVICE_SCENARIOS["service-targets-blocked"].build)
    done = _cli(server, "diagnose", "--service", "web", "--cluster", "prod", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["subject"]["type"] == "service"
    assert document["root_causes"][0]["resource"] == scenario.ids["task_sg"]  # type: ignore[attr-defined]
    assert document["failure_groups"][0]["count"] == 3
    assert "SECRET_VALUE_SHOULD_NEVER_PRINT" not in done.stdout

    scan = _cli(server, "scan", "--cluster", "prod", "--format", "markdown")
    assert scan.returncode == 0, scan.stderr
    assert "## Services" in scan.stdout and "| web |" in scan.stdout

    missing = _cli(server, "diagnose", "--service", "nope", "--cluster", "prod")
    assert missing.returncode == 3
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    usage = _cli(server, "scan")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
