"""Fault injection end to end: a broken moto account, the fault proxy in front, the real CLI.

One moto server per test module holds one demo scenario (building it is the slow part); each
test swaps the proxy's faults and runs `python -m ecsdoctor diagnose --task ARN --json` as a
user would, with AWS_ENDPOINT_URL on the proxy and a short ECSDOCTOR_DEADLINE.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from ecsdoctor.demo import SCENARIOS
from ecsdoctor.demo.scenarios import Scenario
from tests.faults.proxy import FaultProxy

# What a user waits at most in these tests; the reader's per-call cap is half of it. Only the
# runs where something hangs wait that long, so it is chosen for loaded CI machines, not speed.
DEADLINE = 10.0
# What is allowed on top of the deadline: rendering in this process, and Python and boto3
# start-up for a real `python -m ecsdoctor` on a loaded 2-core machine.
AFTER_DEADLINE = 4.0
START_UP = 12.0


@dataclass(frozen=True, slots=True)
class Run:
    """One CLI diagnosis: exit code, parsed JSON (None if stdout was not JSON), stderr, time."""

    code: int
    document: dict[str, Any] | None
    stdout: str
    stderr: str
    seconds: float
    own_process: bool = False

    @property
    def root(self) -> tuple[str, str, str] | None:
        """(check, kind, resource) of the first root cause."""
        if not self.document or not self.document.get("root_causes"):
            return None
        first = self.document["root_causes"][0]
        return (str(first.get("check")), str(first.get("kind")), str(first.get("resource")))

    @property
    def gaps(self) -> list[dict[str, Any]]:
        """The data gaps the diagnosis reported, less the one moto always causes.

        moto does not implement cloudtrail:LookupEvents, so the "what changed" lookup is a data
        gap in every emulated run, faults or not; it says nothing about the fault under test.
        """
        return [
            g
            for g in (self.document or {}).get("data_gaps") or []
            if not (g.get("check") == "changes.recent_changes" and g.get("permission") is None)
        ]

    def gap_permissions(self) -> set[str]:
        """Every permission a data gap names as missing."""
        return {str(g["permission"]) for g in self.gaps if g.get("permission")}

    def gap_text(self) -> str:
        """All data-gap reasons, for searching."""
        return "\n".join(str(g.get("reason", "")) for g in self.gaps)


@dataclass(frozen=True, slots=True)
class Account:
    """A built scenario behind the proxy."""

    scenario: Scenario
    proxy: FaultProxy

    def diagnose(self, deadline: float = DEADLINE, *, own_process: bool = False) -> Run:
        """Diagnose the scenario's task through the proxy with the CLI.

        In this process by default (`ecsdoctor.cli.main`, argv and environment as a user's):
        the same code without the interpreter's start-up. `own_process` runs
        `python -m ecsdoctor`, which also proves that abandoned calls let the process exit.
        """
        args = ["diagnose", "--task", self.scenario.task_arn, "--json"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.pop("ECSDOCTOR_DEBUG", None)
        env["AWS_ENDPOINT_URL"] = self.proxy.url
        env["ECSDOCTOR_DEADLINE"] = str(deadline)
        started = time.monotonic()
        if own_process:
            done = subprocess.run(
                [sys.executable, "-m", "ecsdoctor", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=deadline + 60,
                check=False,
            )
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        else:
            code, stdout, stderr = _cli_in_process(args, env)
        seconds = time.monotonic() - started
        try:
            document = json.loads(stdout) if stdout.strip() else None
        except json.JSONDecodeError:
            document = None
        return Run(code, document, stdout, stderr, seconds, own_process)


def _cli_in_process(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run `ecsdoctor ARGS` through its console entry point here: (exit code, stdout, stderr)."""
    from ecsdoctor.cli import main

    saved_env, saved_argv = dict(os.environ), sys.argv
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["ecsdoctor", *args]
    code: int = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv = saved_argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A fresh moto server (state reset: servers in one process share moto's backends)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    yield url
    server.stop()


def build_account(server: str, name: str) -> Account:
    """Build scenario `name` on the server (directly, not through the proxy) and proxy it."""
    session = boto3.session.Session(region_name="us-east-1")
    os.environ["AWS_ENDPOINT_URL"] = server
    try:
        scenario = SCENARIOS[name].build(session)
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    return Account(scenario, FaultProxy(server).start())


def record(run: Run, proxy: FaultProxy) -> None:
    """With FAULTS_REPORT=path, append what this run measured (docs/faults.md is built from it)."""
    path = os.environ.get("FAULTS_REPORT")
    if not path:
        return
    outcomes: dict[str, int] = {}
    for outcome in proxy.outcomes():
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    line = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0],
        "exit": run.code,
        "root": run.root,
        "seconds": round(run.seconds, 1),
        "requests": outcomes,
        "gaps": sorted({(g.get("check"), g.get("permission"), g.get("reason")) for g in run.gaps}),
        "stderr": run.stderr.strip()[:300],
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def assert_clean(run: Run) -> None:
    """Never a traceback, never an internal error, always one JSON document or one line."""
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert run.code in (0, 1, 3), (run.code, run.stderr)
    if run.code == 3:
        assert run.stderr.count("\n") == 1, run.stderr
    else:
        assert run.document is not None, (run.stdout[:500], run.stderr)


def assert_in_time(run: Run, deadline: float = DEADLINE) -> None:
    """The diagnosis ended within its deadline (plus rendering, and start-up for a process)."""
    allowed = deadline + (START_UP if run.own_process else AFTER_DEADLINE)
    assert run.seconds < allowed, f"took {run.seconds:.1f} s (deadline {deadline} s)"
