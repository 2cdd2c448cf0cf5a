"""`ecsdoctor report` as a new user runs it: over HTTP against moto, recorded, then replayed.

cli.py registers `report_cmd` (the lead wires it); here it is mounted on a Typer app of its own,
with the same arguments, against moto's threaded server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import typer
from typer.testing import CliRunner

from ecsdoctor.errors import InputError
from ecsdoctor.incident.command import report_cmd
from tests.incident.incidents import build_seed, seed_events, write_events

APP = typer.Typer()
APP.command("report")(report_cmd)
APP.command("version")(lambda: None)


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


def test_report_over_http_then_replayed_offline(server: str, tmp_path: Path) -> None:
    os.environ["AWS_ENDPOINT_URL"] = server
    try:
        ids = build_seed(boto3.session.Session(region_name="us-east-1"))
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    events = write_events(tmp_path / "events.jsonl", seed_events(ids))
    recording, first = tmp_path / "run.json", tmp_path / "first.md"
    runner = CliRunner()
    live = runner.invoke(
        APP,
        ["report", "--cluster", "prod", "--service", "web", "--events", str(events),
         "--endpoint-url", server, "--region", "us-east-1", "--record", str(recording),
         "-o", str(first)],
    )  # fmt: skip
    assert live.exit_code == 0, live.output
    text = first.read_text()
    assert "- **Failed tasks:** 24" in text and "ecr.dkr" in text
    # Replayed with every route to AWS closed: same report, apart from the generation time.
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "", "AWS_PROFILE": ""}
    again = runner.invoke(
        APP,
        ["report", "--cluster", "prod", "--service", "web", "--events", str(events),
         "--replay", str(recording)],
        env=env,
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert _body(again.output) == _body(text)


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("_Generated ")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "prod", "--format", "pdf"], "--format must be one of"),
        (["--offline", "--cluster", "prod"], "--offline needs archived events"),
        (["--service", "web"], "name the cluster"),
        (["--offline", "--events", "x.json", "--record", "r.json"], "--offline reads archived"),
        (["--cluster", "prod", "--since", "6h", "--from", "2026-11-29"], "not both"),
        (["--offline", "--events", "missing-folder/"], "no such file or folder"),
    ],
)
def test_bad_arguments_are_one_input_error(args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        APP, ["report", *args], env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    )
    assert isinstance(result.exception, InputError), result.output
    assert message in str(result.exception)
