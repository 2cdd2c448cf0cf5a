"""Redaction canary: secrets planted in the inspected account appear in no output and no recording.

Planted: an environment value, a secret-looking token (a GitHub token shape, in a Docker label
and in a stopped reason), a password in a container command, and credentials inside URLs (in an
environment value, a stopped reason and a service event). The report is rendered in every format
and recorded; the diagnosis underneath is rendered in every diagnosis format too.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.recording import RecordingReader, ReplayReader
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.demo.account import CLUSTER, REGION
from ecsdoctor.incident import build_report, render_report
from ecsdoctor.report import Format, render
from tests.incident.incidents import (
    GENERATED,
    T0,
    _ecs_backend,
    build_seed,
    task_event,
    write_events,
)

ENV_VALUE = "canary-env-value-5d1c9"
TOKEN = "ghp_" + "Canary0Token1Shape2Value3Xy4Zw5Qr6St7"
COMMAND_PASSWORD = "canary-cmd-pass-81"
URL_PASSWORD = "canary-url-pass-42"
DB_PASSWORD = "canary-db-pass-17"
CANARIES = (ENV_VALUE, TOKEN, COMMAND_PASSWORD, URL_PASSWORD, DB_PASSWORD)
URL_REASON = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    f"ref https://deploy:{URL_PASSWORD}@registry.example.com/v2/web/manifests/v1: i/o timeout "
    f"(build {TOKEN})"
)


def _plant(session: boto3.session.Session, ids: dict[str, str]) -> None:
    backend = _ecs_backend()
    container = backend.task_definitions["web"][1].container_definitions[0]
    container.setdefault("environment", []).extend(
        [
            {"name": "CANARY_ENV", "value": ENV_VALUE},
            {"name": "DATABASE_URL", "value": f"postgres://app:{DB_PASSWORD}@db:5432/app"},
        ]
    )
    container["dockerLabels"] = {"ci.token": TOKEN}
    container["command"] = ["serve", f"--password={COMMAND_PASSWORD}"]
    service = backend._get_service(CLUSTER, "web")
    service.events.insert(
        0,
        {
            "id": "canary",
            "createdAt": T0 - timedelta(minutes=20),
            "message": f"(service web) pulled from https://deploy:{URL_PASSWORD}@git.example.com",
        },
    )
    ecs = session.client("ecs", region_name=REGION)
    task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition="web:1",
        launchType="FARGATE",
        group="service:web",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [ids["subnet"]], "securityGroups": [ids["task_sg"]]}
        },
        overrides={
            "containerOverrides": [
                {"name": "app", "environment": [{"name": "OVERRIDE", "value": ENV_VALUE}]}
            ]
        },
    )["tasks"][0]
    planted = backend.tasks[CLUSTER][task["taskArn"]]
    planted.stopped_reason = URL_REASON
    planted.stop_code = "TaskFailedToStart"
    planted.last_status = planted.desired_status = "STOPPED"
    planted.stopped_at = T0 - timedelta(minutes=2)
    planted.containers[0].reason = URL_REASON
    planted.containers[0].last_status = "STOPPED"


def _archive(path: Path) -> Path:
    event: dict[str, Any] = task_event(
        "c" * 32, "STOPPED", T0 - timedelta(minutes=30), reason=URL_REASON
    )
    event["detail"]["overrides"]["containerOverrides"][0]["environment"] = [
        {"name": "CANARY_ENV", "value": ENV_VALUE}
    ]
    event["detail"]["overrides"]["containerOverrides"][0]["command"] = [
        f"--password={COMMAND_PASSWORD}"
    ]
    return write_events(path, [event])


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The seed incident with the canaries planted, reported, recorded and replayed once."""
    tmp_path = tmp_path_factory.mktemp("canary")
    archive = _archive(tmp_path / "archive.jsonl")
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        ids = build_seed(session)
        _plant(session, ids)
        recorder = RecordingReader(open_reader(AwsAccess(session=session)))
        report = build_report(
            cluster="prod",
            service="web",
            reader=recorder,
            archives=[str(archive)],
            now=T0,
            generated_at=GENERATED,
        )
        recording = recorder.save(tmp_path / "canary.json")
        masked = RecordingReader(recorder.inner, mask_accounts=True)
        masked._entries = recorder._entries
        masked_recording = masked.save(tmp_path / "canary-masked.json")
    # The canaries really were in what AWS returned (else the tests prove nothing).
    seen = repr(list(recorder._entries.values()))
    assert all(canary in seen for canary in CANARIES)
    assert report.summary.failed_tasks == 2
    outputs = {fmt: render_report(fmt, report) for fmt in ("markdown", "html", "json")}
    outputs.update({f"diagnosis-{f.value}": render(f, report.diagnosis) for f in Format})
    outputs["recording"] = recording.read_text()
    outputs["masked recording"] = masked_recording.read_text()
    replay = build_report(
        cluster="prod",
        service="web",
        reader=ReplayReader.load(recording),
        archives=[str(archive)],
        generated_at=GENERATED,
    )
    outputs["replayed markdown"] = render_report("markdown", replay)
    return outputs


def test_no_planted_secret_reaches_a_report_or_a_recording(canary_run: dict[str, str]) -> None:
    for name, text in canary_run.items():
        if name.startswith("diagnosis-"):
            continue
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked into {name}"
    # The names stay, so the checks still see what is configured.
    assert '"name": "CANARY_ENV"' in canary_run["recording"]
    assert canary_run["replayed markdown"] == canary_run["markdown"]


def test_task_definition_secrets_reach_no_diagnosis_format(canary_run: dict[str, str]) -> None:
    for name, text in canary_run.items():
        for canary in (ENV_VALUE, COMMAND_PASSWORD, DB_PASSWORD):
            assert canary not in text, f"{canary} leaked into {name}"


def test_message_secrets_reach_no_diagnosis_format(canary_run: dict[str, str]) -> None:
    for name, text in canary_run.items():
        for canary in (TOKEN, URL_PASSWORD):
            assert canary not in text, f"{canary} leaked into {name}"
