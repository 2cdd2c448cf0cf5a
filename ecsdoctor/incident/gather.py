"""What happened, from every source that still remembers it.

ECS keeps a stopped task for about an hour and a service's last 100 events; an incident that
lasted two hours is only complete with the archived `ECS Task State Change` events, from saved
files or from the CloudWatch Logs group an EventBridge rule writes them to. Everything here reads
through the Reader (live, recording or replay) or from files, and normalises both into the same
records, with times as UTC datetimes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ecsdoctor.arn import parse_cluster_name, parse_service_ref
from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.recording import RecordingReader, ReplayReader, redact_text
from ecsdoctor.errors import CallDenied, InputError, ReadError
from ecsdoctor.ingest import Document, parse_document, read_source
from ecsdoctor.models import DataGap, Signal, SignalSource
from ecsdoctor.service import (
    describe_services,
    list_service_names,
    stopped_tasks,
    task_example,
    task_failure_key,
    timestamp,
)

Raw = Mapping[str, Any]

#: Files of a folder read as archives (saved EventBridge events, one or many per file).
ARCHIVE_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: A log group read without --since/--from reaches back this far (FilterLogEvents is paginated
#: and a busy cluster writes thousands of events a day).
LOG_GROUP_LOOKBACK = timedelta(hours=24)
#: The JSON filter pattern that keeps only ECS events of the log group.
ECS_FILTER = '{ $.source = "aws.ecs" }'
NOW_NOTE = "report.now"  # the recording note that pins "now" for a replay

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """The window as datetimes (UTC)."""

    start: datetime | None
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        """True when `moment` is inside the window (an unknown time is kept)."""
        if moment is None:
            return True
        return (self.start is None or moment >= self.start) and moment <= self.end


def parse_time(text: str, what: str) -> datetime:
    """An ISO-8601 time (a date alone is midnight UTC; no zone means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise InputError(f"{what}: not an ISO-8601 time: {text!r}") from err
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_window(since: str | None, start: str | None, end: str | None, now: datetime) -> TimeSpan:
    """`--since 6h` or `--from T [--to T]` as a span ending at `--to` or now."""
    if since and (start or end):
        raise InputError("give --since, or --from/--to, not both")
    if since:
        match = _DURATION.match(since)
        if not match:
            raise InputError(f"--since: expected a duration like 90m, 6h or 2d, got {since!r}")
        amount = int(match.group(1))
        delta = timedelta(**{_UNITS[match.group(2)]: amount})
        return TimeSpan(now - delta, now)
    stop = parse_time(end, "--to") if end else now
    begin = parse_time(start, "--from") if start else None
    if begin is not None and begin >= stop:
        raise InputError("--from must be before --to")
    return TimeSpan(begin, stop)


def reference_now(reader: Reader | None, default: datetime | None = None) -> datetime:
    """The report's "now": the recorded one in a replay, else `default` or the clock.

    A recording notes it, so `--since 6h` covers the same six hours when replayed next week.
    """
    if isinstance(reader, ReplayReader) and NOW_NOTE in reader.notes:
        return parse_time(reader.notes[NOW_NOTE], "recording note")
    now = (default or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if isinstance(reader, RecordingReader):
        reader.notes[NOW_NOTE] = now.isoformat()
    return now


def moment(value: object) -> datetime | None:
    """A UTC datetime from a boto3 datetime, epoch seconds or an ISO string."""
    seconds = timestamp(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


# -- records -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One state of one task: from ECS (stopped tasks it still holds) or an archived event."""

    arn: str
    at: datetime | None
    last_status: str
    service: str | None  # from `group` service:NAME
    cluster: str | None
    failure_key: str
    example: str  # redacted, most telling message
    task_definition: str | None
    raw: Raw = field(repr=False, default_factory=dict)
    source: str = "ecs"


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """One service event message (live, or a deployment/service-action event from an archive)."""

    at: datetime | None
    service: str | None
    message: str  # redacted
    source: str


@dataclass(frozen=True, slots=True)
class Gathered:
    """Every record the report is built from."""

    tasks: tuple[TaskRecord, ...] = ()
    events: tuple[ServiceEvent, ...] = ()
    services: tuple[Raw, ...] = ()  # describe-services objects read live
    signals: tuple[Signal, ...] = ()  # archive signals, for the offline diagnosis and appendix
    sources: tuple[str, ...] = ()
    gaps: tuple[DataGap, ...] = ()
    notes: tuple[str, ...] = ()


def cluster_name(cluster: str) -> str:
    """The bare cluster name of a name or an ARN (archived events carry ARNs)."""
    return parse_cluster_name(cluster).rsplit("/", 1)[-1]


def _service_name(group: object) -> str | None:
    if isinstance(group, str) and group.startswith("service:"):
        return group.split(":", 1)[1]
    return None


def _task_record(task: Raw, source: str) -> TaskRecord | None:
    arn = task.get("taskArn")
    if not isinstance(arn, str):
        return None
    status = str(task.get("lastStatus") or "")
    at = moment(
        task.get("stoppedAt")
        if status == "STOPPED"
        else task.get("startedAt") or task.get("updatedAt") or task.get("createdAt")
    ) or moment(task.get("stoppingAt") or task.get("updatedAt") or task.get("createdAt"))
    cluster = task.get("clusterArn")
    definition = task.get("taskDefinitionArn")
    return TaskRecord(
        arn=arn,
        at=at,
        last_status=status,
        service=_service_name(task.get("group")),
        cluster=cluster.rsplit("/", 1)[-1] if isinstance(cluster, str) else None,
        # Redacted before grouping: a replay sees the recorded (redacted) reasons, and must
        # group them exactly as the live run grouped the originals.
        failure_key=redact_text(task_failure_key(task)) if status == "STOPPED" else "",
        example=redact_text(task_example(task)) if status == "STOPPED" else "",
        task_definition=definition if isinstance(definition, str) else None,
        raw=task,
        source=source,
    )


def _records_of(document: Document, source: str) -> tuple[list[TaskRecord], list[ServiceEvent]]:
    tasks = [r for t in document.tasks if (r := _task_record(t.raw, source)) is not None]
    events = [
        ServiceEvent(
            at=moment(s.at) if s.at else None,
            service=_service_from_arn(s.subject),
            message=redact_text(s.text),
            source=source,
        )
        for s in document.signals
        if s.source is SignalSource.SERVICE_EVENT
    ]
    return tasks, events


def _service_from_arn(arn: str | None) -> str | None:
    if arn and ":service/" in arn:
        return arn.rsplit("/", 1)[-1]
    return None


# -- archives ------------------------------------------------------------------------------------


def archive_files(paths: Sequence[str]) -> list[Path]:
    """The files named, and the archive files under each folder named (sorted, recursive)."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARCHIVE_SUFFIXES
            )
            if not found:
                raise InputError(f"{name}: no {'/'.join(ARCHIVE_SUFFIXES)} files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{name}: no such file or folder")
    return files


def read_archives(paths: Sequence[str]) -> list[tuple[str, Document]]:
    """Each archive file parsed by ingest (any shape it accepts: events, describe-* output)."""
    return [(str(f), parse_document(read_source(str(f)), str(f))) for f in archive_files(paths)]


def read_log_group(
    reader: Reader, group: str, span: TimeSpan
) -> tuple[list[Document], list[DataGap], list[str]]:
    """The ECS events an EventBridge rule stored in log group `group`, inside the window.

    One logs:FilterLogEvents read (paginated). A message that is not an ECS event is skipped and
    counted, never fatal: a log group may hold other writers' lines.
    """
    start = span.start or span.end - LOG_GROUP_LOOKBACK
    try:
        events = reader.pages(
            "logs",
            "FilterLogEvents",
            "events",
            logGroupName=group,
            startTime=int(start.timestamp() * 1000),
            endTime=int(span.end.timestamp() * 1000),
            filterPattern=ECS_FILTER,
        )
    except ReadError as err:
        permission = err.permission if isinstance(err, CallDenied) else None
        reason = f"log group {group} could not be read ({err.code}: {err.message[:160]})"
        return [], [DataGap("report.log_group_archive", redact_text(reason), permission)], []
    documents: list[Document] = []
    skipped = 0
    for event in sorted(events, key=lambda e: (e.get("timestamp") or 0, str(e.get("eventId")))):
        message = str(event.get("message") or "")
        try:
            if not isinstance(json.loads(message), dict):
                raise InputError("not an event object")
            documents.append(parse_document(message, group))
        except (InputError, json.JSONDecodeError):
            skipped += 1
    notes = [f"{skipped} message(s) of log group {group} were not ECS events"] if skipped else []
    if start != span.start:
        notes.append(
            f"log group {group} was read from {start.isoformat()} (no --since/--from given)"
        )
    return documents, [], notes


# -- live ----------------------------------------------------------------------------------------


def read_live(
    reader: Reader, cluster: str, service: str | None
) -> tuple[list[Raw], list[TaskRecord], list[ServiceEvent]]:
    """The services (events, deployments) and the stopped tasks ECS still holds.

    The reads are the ones `diagnose_service` / `scan_cluster` make, with the same parameters,
    so the memoised reader answers them once for both.
    """
    if service:
        ref = parse_service_ref(service, cluster)
        services, _ = describe_services(reader, ref.cluster, [ref.name], ref.region)
        if not services:
            return [], [], []
        tasks = stopped_tasks(reader, str(services[0].get("clusterArn")), ref.region, ref.name)
        service = ref.name
    else:
        name = parse_cluster_name(cluster)
        names = list_service_names(reader, name)
        services = describe_services(reader, name, names)[0] if names else []
        tasks = stopped_tasks(reader, name)
    records = [r for t in tasks if (r := _task_record(t, "ecs:DescribeTasks")) is not None]
    if service:
        records = [r for r in records if r.service == service]
    events = [
        ServiceEvent(
            at=moment(e.get("createdAt")),
            service=str(svc.get("serviceName") or "") or None,
            message=redact_text(str(e.get("message") or "")),
            source="ecs:DescribeServices",
        )
        for svc in services
        for e in svc.get("events") or []
    ]
    return list(services), records, events


def gather(
    *,
    cluster: str | None,
    service: str | None,
    span: TimeSpan,
    reader: Reader | None,
    archives: Sequence[str] = (),
    log_group: str | None = None,
) -> Gathered:
    """Live records (when a reader is given) and archived ones, filtered to the subject/window."""
    tasks: list[TaskRecord] = []
    events: list[ServiceEvent] = []
    services: list[Raw] = []
    signals: list[Signal] = []
    sources: list[str] = []
    gaps: list[DataGap] = []
    notes: list[str] = []
    for name, document in read_archives(archives):
        found_tasks, found_events = _records_of(document, "archive")
        tasks += found_tasks
        events += found_events
        signals += document.signals
        sources.append(f"archived events: {Path(name).name} ({len(document.tasks)} task states)")
    if log_group:
        if reader is None:
            raise InputError("--log-group needs AWS access (drop --offline)")
        documents, group_gaps, group_notes = read_log_group(reader, log_group, span)
        for document in documents:
            found_tasks, found_events = _records_of(document, "logs:FilterLogEvents")
            tasks += found_tasks
            events += found_events
            signals += document.signals
        gaps += group_gaps
        notes += group_notes
        sources.append(f"CloudWatch Logs group {log_group} ({len(documents)} ECS event(s))")
    if reader is not None and cluster:
        services, live_tasks, live_events = read_live(reader, cluster, service)
        tasks += live_tasks
        events += live_events
        sources.append("ECS (live): service events, deployments, stopped tasks")
    wanted = cluster_name(cluster) if cluster else None
    tasks = [
        t
        for t in tasks
        if span.holds(t.at)
        and (wanted is None or t.cluster in (None, wanted))
        and (service is None or t.service == service)
    ]
    events = [
        e for e in events if span.holds(e.at) and (service is None or e.service in (None, service))
    ]
    kept = {t.arn for t in tasks}

    def relevant(signal: Signal) -> bool:
        subject = signal.subject
        if subject is None:
            return True
        if ":service/" in subject:
            return service is None or subject.rsplit("/", 1)[-1] == service
        return subject in kept

    return Gathered(
        tasks=tuple(tasks),
        events=tuple(events),
        services=tuple(services),
        signals=tuple(s for s in signals if relevant(s)),
        sources=tuple(sources),
        gaps=tuple(gaps),
        notes=tuple(notes),
    )


def group_failures(tasks: Sequence[TaskRecord]) -> list[list[TaskRecord]]:
    """Failed task states grouped by failure (ids, IPs, times stripped), each oldest first."""
    groups: dict[str, dict[str, TaskRecord]] = {}
    for task in tasks:
        if task.last_status == "STOPPED" and task.failure_key:
            groups.setdefault(task.failure_key, {}).setdefault(task.arn, task)
    ordered = [
        sorted(g.values(), key=lambda t: t.at or datetime.min.replace(tzinfo=UTC))
        for g in groups.values()
    ]
    ordered.sort(key=lambda g: (g[0].at or datetime.min.replace(tzinfo=UTC), -len(g)))
    return ordered


__all__ = [
    "ECS_FILTER",
    "NOW_NOTE",
    "Gathered",
    "ServiceEvent",
    "TaskRecord",
    "TimeSpan",
    "archive_files",
    "gather",
    "group_failures",
    "moment",
    "parse_time",
    "parse_window",
    "read_archives",
    "read_live",
    "read_log_group",
    "reference_now",
]
