"""The incidents the report tests replay: moto accounts with pinned clocks, plus archived events.

Every time planted in moto is moved onto a fixed clock (T0 = the report's "now"), and the archived
EventBridge events are generated on the same clock, so a recording of the account and the events
file together give a byte-stable report. Run this file to rebuild the stored recordings and the
golden Markdown after a deliberate change:

    PYTHONPATH=$PWD python tests/incident/incidents.py
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from ecsdoctor.demo.account import ACCOUNT, AZ, CLUSTER, REGION, AccountSpec
from ecsdoctor.demo.scenarios import ALL_ENDPOINTS, SEED_TIMEOUT
from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS, ClusterMix, build_cluster
from ecsdoctor.demo.services import ServiceSpec, build_service

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # the report's "now"
GENERATED = datetime(2026, 11, 29, 12, 5, tzinfo=UTC)
HERE = Path(__file__).resolve().parent
RECORDINGS = HERE.parent / "recordings"
GOLDEN = HERE / "golden"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
# knowledge/service_event/unable_to_consistently_start.toml (its "(service service-name)" example)
START_IMPAIRED = "(service web) is unable to consistently start tasks successfully."


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident: how to build its account, which archived events, how the report is asked."""

    name: str
    build: Callable[[boto3.session.Session], dict[str, str]]
    service: str | None
    events: Callable[[dict[str, str]], list[dict[str, Any]]] | None = None


# -- clocks --------------------------------------------------------------------------------------


def _ecs_backend() -> Any:
    from moto.backends import get_backend

    return get_backend("ecs")[ACCOUNT][REGION]  # type: ignore[call-overload]


def _pinned(value: Any, built_at: datetime) -> Any:
    if isinstance(value, datetime):
        age = round((built_at - value.astimezone(UTC)).total_seconds() / 60) * 60
        return T0 - timedelta(seconds=age)
    return value


def pin_clock(built_at: datetime) -> None:
    """Move every time moto's ECS backend holds onto T0 (ages kept, rounded to the minute)."""
    backend = _ecs_backend()
    for service in backend.services.values():
        service.events = [
            {**e, "createdAt": _pinned(e.get("createdAt"), built_at)} for e in service.events
        ]
        for deployment in service.deployments:
            for key in ("createdAt", "updatedAt"):
                if key in deployment:
                    deployment[key] = _pinned(deployment[key], built_at)
        service.created_at = _pinned(getattr(service, "created_at", None), built_at)
    for tasks in backend.tasks.values():
        for task in tasks.values():
            for attr in (
                "created_at",
                "started_at",
                "stopping_at",
                "stopped_at",
                "execution_stopped_at",
                "pull_started_at",
                "pull_stopped_at",
            ):
                if getattr(task, attr, None) is not None:
                    setattr(task, attr, _pinned(getattr(task, attr), built_at))


# -- archived events -----------------------------------------------------------------------------


def task_event(
    task_id: str,
    status: str,
    at: datetime,
    *,
    service: str = "web",
    definition: str = "web:1",
    reason: str | None = None,
    subnet: str = "subnet-0a1b2c3d4e5f60718",
) -> dict[str, Any]:
    """An EventBridge `ECS Task State Change` event as AWS documents it (one state)."""
    arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{task_id}"
    stamp = at.isoformat().replace("+00:00", "Z")
    created = (at - timedelta(seconds=40)).isoformat().replace("+00:00", "Z")
    container: dict[str, Any] = {
        "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{task_id}/app",
        "lastStatus": status,
        "name": "app",
        "image": f"{REGISTRY}/web:v1",
        "taskArn": arn,
    }
    detail: dict[str, Any] = {
        "attachments": [
            {
                "type": "eni",
                "status": "DELETED" if status == "STOPPED" else "ATTACHED",
                "details": [{"name": "subnetId", "value": subnet}],
            }
        ],
        "availabilityZone": AZ,
        "clusterArn": CLUSTER_ARN,
        "containers": [container],
        "createdAt": created,
        "desiredStatus": "STOPPED" if status == "STOPPED" else "RUNNING",
        "group": f"service:{service}",
        "launchType": "FARGATE",
        "lastStatus": status,
        "overrides": {"containerOverrides": [{"name": "app"}]},
        "startedBy": "ecs-svc/1234567890123456789",
        "taskArn": arn,
        "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{definition}",
        "updatedAt": stamp,
        "version": 3 if status == "STOPPED" else 2,
    }
    if status == "STOPPED":
        detail.update(
            stopCode="TaskFailedToStart",
            stoppedAt=stamp,
            stoppingAt=stamp,
            stoppedReason=reason or "",
        )
        container["reason"] = reason
    elif status == "RUNNING":
        detail["startedAt"] = stamp
    return {
        "version": "0",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task_id}/{status}")),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": stamp,
        "region": REGION,
        "resources": [arn],
        "detail": detail,
    }


def restart_events(
    start: datetime, count: int, every: timedelta, reason: str, subnet: str
) -> list[dict[str, Any]]:
    """A service restarting a task that never starts: PENDING then STOPPED, `count` times."""
    events: list[dict[str, Any]] = []
    for index in range(count):
        task_id = uuid.uuid5(uuid.NAMESPACE_URL, f"seed-task-{index}").hex
        at = start + every * index
        events.append(task_event(task_id, "PENDING", at - timedelta(seconds=30), subnet=subnet))
        events.append(
            task_event(
                task_id, "STOPPED", at, reason=reason.format(registry=REGISTRY), subnet=subnet
            )
        )
    return events


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    """Archived events as JSON lines, the form an export of a log group takes."""
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in events), "utf-8")
    return path


# -- the three incidents -------------------------------------------------------------------------


def build_seed(session: boto3.session.Session) -> dict[str, str]:
    """The seed incident: a private subnet without NAT, every ECR endpoint but ecr.dkr; the
    service has kept restarting its task for two hours, so ECS holds none of the stopped tasks."""
    built_at = datetime.now(UTC)
    built = build_service(
        session,
        ServiceSpec(
            account=AccountSpec(interface_endpoints=ALL_ENDPOINTS - {"ecr.dkr"}),
            load_balanced=False,
            running=0,
            desired=1,
            circuit_breaker=(False, False),
            rollout="IN_PROGRESS",
            events=(START_IMPAIRED,),
        ),
    )
    backend = _ecs_backend()
    service = backend._get_service(CLUSTER, "web")
    service.events = [{**service.events[0], "createdAt": built_at - timedelta(minutes=75)}]
    service.deployments[0]["createdAt"] = built_at - timedelta(hours=2, minutes=5)
    # The healthy task build_account starts is not part of this story.
    for tasks in backend.tasks.values():
        tasks.clear()
    pin_clock(built_at)
    return built.ids


def seed_events(ids: dict[str, str]) -> list[dict[str, Any]]:
    """Two hours of restarts, every five minutes, up to T0 (24 failed tasks)."""
    return restart_events(
        T0 - timedelta(hours=2), 24, timedelta(minutes=5), SEED_TIMEOUT, ids.get("subnet", "")
    )


def build_rollback(session: boto3.session.Session) -> dict[str, str]:
    """A deployment rolled back by the circuit breaker: its tasks could not reach ECR."""
    built_at = datetime.now(UTC)
    scenario = SERVICE_SCENARIOS["service-rollback-no-endpoint"].build(session)
    pin_clock(built_at)
    return dict(scenario.ids)


def build_shared(session: boto3.session.Session) -> dict[str, str]:
    """Three services broken by one missing log group, two healthy ones beside them."""
    built_at = datetime.now(UTC)
    ids = build_cluster(
        session, ClusterMix(healthy=2, unreachable=3, wrong_port=0, typo=0, stopped_per_service=2)
    )
    pin_clock(built_at)
    return ids


INCIDENTS: dict[str, Incident] = {
    "seed-incident": Incident("seed-incident", build_seed, "web", seed_events),
    "rollback": Incident("rollback", build_rollback, "web"),
    "shared-cause": Incident("shared-cause", build_shared, None),
}


# -- recording -----------------------------------------------------------------------------------


def record(name: str, directory: Path) -> tuple[Path, Path | None]:
    """Build incident `name` in moto, report on it while recording; (recording, events file)."""
    from moto import mock_aws

    from ecsdoctor.aws.recording import RecordingReader
    from ecsdoctor.aws.session import AwsAccess, open_reader
    from ecsdoctor.incident import build_report

    incident = INCIDENTS[name]
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        ids = incident.build(session)
        events_file = None
        if incident.events is not None:
            events_file = write_events(directory / f"{name}.events.jsonl", incident.events(ids))
        reader = RecordingReader(open_reader(AwsAccess(session=session)))
        build_report(
            cluster=CLUSTER,
            service=incident.service,
            reader=reader,
            archives=[str(events_file)] if events_file else [],
            now=T0,
            generated_at=GENERATED,
        )
        path = reader.save(directory / f"{name}.json")
    return path, events_file


def replayed(name: str, directory: Path = RECORDINGS) -> Any:
    """The report of incident `name` regenerated from its stored recording, no AWS access."""
    from ecsdoctor.aws.recording import ReplayReader
    from ecsdoctor.incident import build_report

    incident = INCIDENTS[name]
    events = directory / f"{name}.events.jsonl"
    return build_report(
        cluster=CLUSTER,
        service=incident.service,
        reader=ReplayReader.load(directory / f"{name}.json"),
        archives=[str(events)] if events.exists() else [],
        generated_at=GENERATED,
    )


# -- whole diagnoses, for fast regression tests ---------------------------------------------------

#: name -> (kind, demo scenario): each recorded once, replayed by test_recordings.py in ~0.1 s.
DIAGNOSES: dict[str, tuple[str, str]] = {
    "diagnose-task-seed": ("task", "seed-incident"),
    "diagnose-service-targets-blocked": ("service", "service-targets-blocked"),
    "scan-shared-cause": ("scan", "shared-cause"),
}


def diagnose(kind: str, subject: str, reader: Any) -> Any:
    """Run the library entry point `kind` on `subject` through `reader`."""
    from ecsdoctor.diagnose import diagnose_task
    from ecsdoctor.scan import diagnose_service, scan_cluster

    if kind == "task":
        return diagnose_task(subject, cluster=CLUSTER, reader=reader)
    if kind == "service":
        return diagnose_service(subject, cluster=CLUSTER, reader=reader)
    return scan_cluster(CLUSTER, reader=reader)


def build_for_diagnosis(kind: str, scenario: str, session: boto3.session.Session) -> str:
    """Build the scenario; the subject to diagnose (task ARN, service name or cluster)."""
    from ecsdoctor.demo import SCENARIOS

    if kind == "task":
        return str(SCENARIOS[scenario].build(session).task_arn)
    if kind == "service":
        return str(SERVICE_SCENARIOS[scenario].build(session).service)
    build_shared(session)
    return CLUSTER


def record_diagnosis(name: str, directory: Path) -> tuple[str, str]:
    """Record diagnosis `name` in moto; (its subject, the live diagnosis as JSON)."""
    from moto import mock_aws

    from ecsdoctor.aws.recording import RecordingReader
    from ecsdoctor.aws.session import AwsAccess, open_reader
    from ecsdoctor.report import Format, render

    kind, scenario = DIAGNOSES[name]
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        subject = build_for_diagnosis(kind, scenario, session)
        reader = RecordingReader(open_reader(AwsAccess(session=session)))
        live = render(Format.JSON, diagnose(kind, subject, reader))
        reader.notes["subject"] = subject
        reader.save(directory / f"{name}.json")
    return subject, live


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    from ecsdoctor.incident import render_report

    RECORDINGS.mkdir(exist_ok=True)
    GOLDEN.mkdir(exist_ok=True)
    for incident_name in [n for n in sys.argv[1:] if n in INCIDENTS] or list(INCIDENTS):
        record(incident_name, RECORDINGS)
        markdown = render_report("markdown", replayed(incident_name))
        (GOLDEN / f"{incident_name}.md").write_text(markdown, "utf-8")
        print(f"recorded {incident_name}")
    for diagnosis_name in DIAGNOSES:
        _, live_json = record_diagnosis(diagnosis_name, RECORDINGS)
        (GOLDEN / f"{diagnosis_name}.json").write_text(live_json + "\n", "utf-8")
        print(f"recorded {diagnosis_name}")
