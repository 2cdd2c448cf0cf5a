"""Leak test: canaries planted in a broken moto account never reach any output.

A canary sits in every field ecsdoctor must never show: an environment value, the container
command and entryPoint, a health-check command with credentials, docker labels, a log-driver
token, and (inside the stopped reasons ECS reports) a basic-auth URL, an access key id, a
presigned signature, a bearer token and `token=` / `password=` / `secret=` values. The task, the
service and the cluster are diagnosed; every format is rendered (through `render`, the one way
out) and searched, and so are `explain` and the CLI's own output.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from ecsdoctor.cli import app
from ecsdoctor.demo.account import _backend
from ecsdoctor.demo.scenarios import SCENARIOS
from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS
from ecsdoctor.diagnose import diagnose_task
from ecsdoctor.models import Diagnosis
from ecsdoctor.report import Format, render
from ecsdoctor.report.document import diagnosis_document as raw_document
from ecsdoctor.scan import diagnose_service, scan_cluster

ENV = "CANARYENVVALUE7731"
COMMAND = "CANARYCOMMAND7732"
ENTRYPOINT = "CANARYENTRYPOINT7733"
HEALTH_PASSWORD = "CANARYHCPASSWORD7734"
HEALTH_PATH = "CANARYHCPATH7735"
LABEL = "CANARYLABEL7736"
LOG_TOKEN = "CANARYLOGTOKEN7737"
URL_PASSWORD = "CANARYURLPASS7738"
ACCESS_KEY = "AKIAZZCANARY7739ABCD"
SIGNATURE = "CANARYSIGNATURE7740"
BEARER = "CANARYBEARER7741"
TOKEN = "CANARYTOKEN7742"
PASSWORD = "CANARYPASSWORD7743"
SECRET = "CANARYSECRET7744"

#: What a stopped reason may carry: credentials an agent or a registry echoed back.
REASON_TAIL = (
    f" (registry https://admin:{URL_PASSWORD}@registry.example.com/v2/ key {ACCESS_KEY} "
    f"url https://bucket.s3.amazonaws.com/x?X-Amz-Signature={SIGNATURE}&X-Amz-Expires=60 "
    f"Authorization: Bearer {BEARER} token={TOKEN} password={PASSWORD} secret={SECRET})"
)
CANARIES_IN_DEFINITION = (ENV, COMMAND, ENTRYPOINT, HEALTH_PASSWORD, LABEL, LOG_TOKEN)
CANARIES_IN_REASON = (URL_PASSWORD, ACCESS_KEY, SIGNATURE, BEARER, TOKEN, PASSWORD, SECRET)


def plant_canaries() -> None:
    """Every task definition and every task of the emulated account gets the canaries."""
    backend = _backend("ecs", "us-east-1")
    for revisions in backend.task_definitions.values():
        for definition in revisions.values():
            for container in definition.container_definitions:
                container["environment"] = [
                    *container.get("environment", []),
                    {"name": "CANARY_ENV", "value": ENV},
                ]
                container["command"] = [COMMAND, "--flag"]
                container["entryPoint"] = [ENTRYPOINT]
                container["healthCheck"] = {
                    "command": [
                        "CMD-SHELL",
                        f"curl -u admin:{HEALTH_PASSWORD} http://localhost/{HEALTH_PATH}",
                        "exit 1",
                    ],
                    "interval": 30,
                }
                container["dockerLabels"] = {"canary": LABEL}
                logging = container.setdefault("logConfiguration", {"logDriver": "awslogs"})
                logging.setdefault("options", {})["splunk-token"] = LOG_TOKEN
    for tasks in backend.tasks.values():
        for task in tasks.values():
            if task.stopped_reason:
                task.stopped_reason = task.stopped_reason + REASON_TAIL
            for container in task.containers:
                container.health_status = "UNHEALTHY"
                container.command = [COMMAND]
                if getattr(container, "reason", None):
                    container.reason = container.reason + REASON_TAIL


def outputs(diagnosis: Diagnosis) -> dict[str, str]:
    return {fmt.value: render(fmt, diagnosis, width=80) for fmt in Format} | {
        "text-piped": render(Format.TEXT, diagnosis)
    }


@pytest.fixture(scope="module")
def task_outputs() -> dict[str, str]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        built = SCENARIOS["seed-incident"].build(session)
        plant_canaries()
        diagnosis = diagnose_task(built.task_arn, cluster=built.cluster, session=session)
    assert diagnosis.signals, "the planted task must still be read"
    return outputs(diagnosis)


@pytest.fixture(scope="module")
def service_and_scan_outputs() -> dict[str, str]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        built = SERVICE_SCENARIOS["service-restart-forever"].build(session)
        plant_canaries()
        service = diagnose_service(built.service, cluster=built.cluster, session=session)
        scan = scan_cluster(built.cluster, session=session)
    assert service.failure_groups and scan.failure_groups, "stopped tasks must be grouped"
    # The planted reasons reach the diagnosis, masked where they enter it (ingest and grouping).
    raw = json.dumps(raw_document(service))
    assert "REDACTED" in raw and SIGNATURE not in raw and BEARER not in raw
    found = {f"service/{k}": v for k, v in outputs(service).items()}
    return found | {f"scan/{k}": v for k, v in outputs(scan).items()}


def _leaks(found: dict[str, str], canaries: tuple[str, ...]) -> list[str]:
    return [f"{c} in {name}" for name, text in found.items() for c in canaries if c in text]


@pytest.mark.parametrize("canary", CANARIES_IN_DEFINITION + CANARIES_IN_REASON)
def test_no_canary_in_any_task_output(task_outputs: dict[str, str], canary: str) -> None:
    assert _leaks(task_outputs, (canary,)) == []


@pytest.mark.parametrize("canary", CANARIES_IN_DEFINITION + CANARIES_IN_REASON)
def test_no_canary_in_any_service_or_scan_output(
    service_and_scan_outputs: dict[str, str], canary: str
) -> None:
    assert _leaks(service_and_scan_outputs, (canary,)) == []


def test_health_check_command_is_described_not_quoted(task_outputs: dict[str, str]) -> None:
    assert _leaks(task_outputs, (HEALTH_PATH,)) == []


def test_the_reason_is_still_reported_redacted(task_outputs: dict[str, str]) -> None:
    """The canaries vanish, not the message: the redacted reason is still shown."""
    text = task_outputs["text"]
    assert "CannotPullContainerError" in text
    assert "REDACTED" in text
    doc = json.loads(task_outputs["json"])
    assert any("REDACTED_ACCESS_KEY_ID" in s["text"] for s in doc["signals"])


def test_explain_and_cli_errors_never_echo_credentials() -> None:
    runner = CliRunner()
    message = "CannotPullContainerError: pull failed" + REASON_TAIL
    for args in (["explain", message], ["explain", "--json", message]):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), result.output
        assert _leaks({"explain": result.stdout}, CANARIES_IN_REASON) == []
    missing = f"/nonexistent/https://admin:{URL_PASSWORD}@x/token={TOKEN}"
    result = runner.invoke(app, ["diagnose", "--events", missing])
    assert result.exit_code != 0
    shown: Any = str(result.exception) + result.output
    # the CLI prints errors through scrub(); CliRunner shows the raw exception, so check main()
    from ecsdoctor.redaction import scrub

    assert URL_PASSWORD not in scrub(shown) and TOKEN not in scrub(shown)
