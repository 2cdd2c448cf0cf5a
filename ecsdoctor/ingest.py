"""Turn saved ECS output, EventBridge events or pasted text into normalised signals.

The shape is detected from the content, never from a file name: `aws ecs describe-tasks` and
`describe-services` output, a task or service object alone, EventBridge "ECS Task State Change",
"ECS Deployment State Change" and "ECS Service Action" events (one, an array, or JSON lines), or
plain text with one message per line. Every string is redacted on the way in.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecsdoctor.errors import InputError
from ecsdoctor.kb.unwrap import paste_messages
from ecsdoctor.models import Signal, SignalSource
from ecsdoctor.redaction import redact

#: Largest document read (bytes); a saved describe-services of a big cluster stays far below it.
MAX_DOCUMENT = 32 * 1024 * 1024
#: Longest single message accepted; real ECS reasons and events are a few hundred characters.
MAX_MESSAGE = 16 * 1024
#: Most messages one input may hold: a stopped-task archive of a large cluster stays far below it,
#: and matching is linear in it, so a bigger input is refused rather than left to run for minutes.
MAX_SIGNALS = 20_000

STOP_CODES = frozenset(
    {
        "TaskFailedToStart",
        "EssentialContainerExited",
        "UserInitiated",
        "ServiceSchedulerInitiated",
        "SpotInterruption",
        "TerminationNotice",
        "InfrastructureHealth",
    }
)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """The parts of a task (as `describe-tasks` or an event shows it) that later steps need."""

    arn: str | None
    cluster: str | None
    group: str | None
    last_status: str | None
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class Document:
    """Everything read from one input: signals plus the records they came from."""

    signals: tuple[Signal, ...]
    tasks: tuple[TaskRecord, ...] = ()
    services: tuple[Mapping[str, Any], ...] = ()
    region: str | None = None
    account: str | None = None
    shape: str = "text"


def read_source(source: str) -> str:
    """Read a file path, or standard input for `-`, as UTF-8 text with a size limit."""
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_DOCUMENT + 1)
        else:
            path = Path(source)
            if not path.is_file():
                raise InputError(f"{source}: no such file")
            with path.open("rb") as handle:
                data = handle.read(MAX_DOCUMENT + 1)
    except OSError as err:
        raise InputError(f"{source}: cannot read: {err.strerror or err}") from err
    name = "standard input" if source == "-" else source
    if len(data) > MAX_DOCUMENT:
        raise InputError(f"{name}: larger than {MAX_DOCUMENT // (1024 * 1024)} MiB")
    return decode(data, name)


def decode(data: bytes, name: str = "input") -> str:
    """Decode bytes as UTF-8 text, refusing binary content."""
    if b"\x00" in data:
        raise InputError(f"{name}: binary data (NUL bytes), expected JSON or text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not UTF-8 text (invalid byte at offset {err.start})") from err


def parse_document(text: str, name: str = "input") -> Document:
    """Detect the shape of `text` and return its signals."""
    stripped = text.strip()
    if not stripped:
        raise InputError(f"{name}: empty, expected a JSON document or messages")
    if stripped[0] in "{[":
        return _parse_json(stripped, name)
    return parse_lines(paste_messages(stripped.splitlines()), name)


def parse_lines(lines: Iterable[str], name: str = "input") -> Document:
    """Plain text: one message per non-blank line."""
    signals: list[Signal] = []
    for number, line in enumerate(lines, start=1):
        message = line.strip()
        if not message:
            continue
        _check_length(message, f"{name}: line {number}")
        if len(signals) >= MAX_SIGNALS:
            raise InputError(f"{name}: more than {MAX_SIGNALS} messages; split the input")
        signals.append(plain_signal(message))
    if not signals:
        raise InputError(f"{name}: no messages")
    return Document(signals=tuple(signals))


def plain_signal(message: str) -> Signal:
    """A pasted message: its source is guessed for display, and every pattern applies to it."""
    if message in STOP_CODES:
        source = SignalSource.STOP_CODE
    elif message.isdigit() and len(message) <= 3:
        source = SignalSource.EXIT_CODE
    elif message.startswith("(service ") or message.startswith("service "):
        source = SignalSource.SERVICE_EVENT
    else:
        source = SignalSource.STOPPED_REASON
    return Signal(source=source, text=redact(message), pasted=True)


def _check_length(message: str, where: str) -> None:
    if len(message) > MAX_MESSAGE:
        raise InputError(
            f"{where}: a {len(message)}-character message; ECS messages are at most a few "
            f"hundred characters (limit {MAX_MESSAGE})"
        )


def _loads(text: str, name: str) -> Any:
    """`json.loads`, with nesting too deep for the parser turned into an input error."""
    try:
        return json.loads(text)
    except RecursionError as err:
        raise InputError(
            f"{name}: JSON nested too deeply (ECS documents are a few levels deep)"
        ) from err


def _parse_json(text: str, name: str) -> Document:
    try:
        data = _loads(text, name)
        docs: list[Any] = data if isinstance(data, list) else [data]
        shape = "array" if isinstance(data, list) else "json"
    except json.JSONDecodeError as first:
        if text[0] != "{":
            raise InputError(
                f"{name}: broken JSON at line {first.lineno} column {first.colno}: {first.msg}"
            ) from first
        docs = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                docs.append(_loads(line, f"{name}: line {number}"))
            except json.JSONDecodeError as err:
                raise InputError(
                    f"{name}: broken JSON at line {first.lineno} column {first.colno}: "
                    f"{first.msg} (not JSON lines either: line {number}: {err.msg})"
                ) from err
        shape = "jsonl"
    builder = SignalBuilder(name)
    for index, doc in enumerate(docs):
        builder.add(doc, f"{name}: item {index + 1}" if len(docs) > 1 else name)
    if not builder.signals and not builder.tasks and not builder.services:
        raise InputError(f"{name}: recognised no ECS tasks, services or events in the JSON")
    return Document(
        signals=tuple(builder.signals),
        tasks=tuple(builder.tasks),
        services=tuple(builder.services),
        region=builder.region,
        account=builder.account,
        shape=shape,
    )


class SignalBuilder:
    """Accumulates signals and records across the documents of one input."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.signals: list[Signal] = []
        self.tasks: list[TaskRecord] = []
        self.services: list[Mapping[str, Any]] = []
        self.region: str | None = None
        self.account: str | None = None

    def add(self, doc: Any, where: str) -> None:
        if not isinstance(doc, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        if "detail-type" in doc:
            self._event(doc, where)
        elif isinstance(doc.get("tasks"), list) or isinstance(doc.get("services"), list):
            for task in _objects(doc.get("tasks", []), f"{where}: tasks"):
                self._task(task, where)
            for service in _objects(doc.get("services", []), f"{where}: services"):
                self._service(service, where)
            for failure in _objects(doc.get("failures", []), f"{where}: failures"):
                self._failure(failure)
        elif "taskArn" in doc:
            self._task(doc, where)
        elif "serviceArn" in doc or ("events" in doc and "serviceName" in doc):
            self._service(doc, where)
        else:
            keys = ", ".join(sorted(doc)[:6]) or "none"
            raise InputError(
                f"{where}: not an ECS document (keys: {keys}); expected describe-tasks or "
                "describe-services output, an EventBridge ECS event, or plain text"
            )

    def _note_region(self, arn: Any) -> None:
        if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5:
            parts = arn.split(":")
            self.region = self.region or parts[3] or None
            self.account = self.account or parts[4] or None

    def _text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputError(f"{where}: expected a string, got {type(value).__name__}")
        value = value.strip()
        if not value:
            return None
        _check_length(value, where)
        return redact(value)

    def _emit(self, source: SignalSource, text: str | None, **extra: Any) -> None:
        if text:
            if len(self.signals) >= MAX_SIGNALS:
                raise InputError(f"{self.name}: more than {MAX_SIGNALS} messages; split the input")
            self.signals.append(Signal(source=source, text=text, **extra))

    def _task(self, task: Mapping[str, Any], where: str) -> None:
        arn = task.get("taskArn")
        arn = arn if isinstance(arn, str) else None
        self._note_region(arn)
        at = _when(task.get("stoppedAt") or task.get("stoppingAt"))
        self._emit(
            SignalSource.STOPPED_REASON,
            self._text(task.get("stoppedReason"), f"{where}: stoppedReason"),
            subject=arn,
            at=at,
        )
        self._emit(
            SignalSource.STOP_CODE,
            self._text(task.get("stopCode"), f"{where}: stopCode"),
            subject=arn,
            at=at,
        )
        for container in _objects(task.get("containers", []), f"{where}: containers"):
            name = container.get("name") if isinstance(container.get("name"), str) else None
            self._emit(
                SignalSource.CONTAINER_REASON,
                self._text(container.get("reason"), f"{where}: container reason"),
                container=name,
                subject=arn,
                at=at,
            )
            code = container.get("exitCode")
            if isinstance(code, int) and not isinstance(code, bool) and code != 0:
                self._emit(SignalSource.EXIT_CODE, str(code), container=name, subject=arn, at=at)
        cluster = task.get("clusterArn")
        group = task.get("group")
        status = task.get("lastStatus")
        self.tasks.append(
            TaskRecord(
                arn=arn,
                cluster=cluster if isinstance(cluster, str) else None,
                group=group if isinstance(group, str) else None,
                last_status=status if isinstance(status, str) else None,
                raw=task,
            )
        )

    def _service(self, service: Mapping[str, Any], where: str) -> None:
        arn = service.get("serviceArn")
        arn = arn if isinstance(arn, str) else None
        self._note_region(arn)
        events = _objects(service.get("events", []), f"{where}: events")
        # describe-services lists events newest first; signals read better oldest first.
        for event in reversed(events):
            self._emit(
                SignalSource.SERVICE_EVENT,
                self._text(event.get("message"), f"{where}: event message"),
                subject=arn,
                at=_when(event.get("createdAt")),
            )
        for deployment in _objects(service.get("deployments", []), f"{where}: deployments"):
            if deployment.get("rolloutState") == "FAILED":
                self._emit(
                    SignalSource.SERVICE_EVENT,
                    self._text(
                        deployment.get("rolloutStateReason"), f"{where}: rolloutStateReason"
                    ),
                    subject=arn,
                    at=_when(deployment.get("updatedAt")),
                )
        self.services.append(service)

    def _failure(self, failure: Mapping[str, Any]) -> None:
        # describe-* "failures" with MISSING say a subject could not be read: not a task failure.
        # Any other reason is RunTask/StartTask refusing to place a task (RESOURCE:MEMORY, ...).
        self._note_region(failure.get("arn"))
        reason = self._text(failure.get("reason"), f"{self.name}: failures reason")
        if not reason or reason == "MISSING":
            return
        detail = self._text(failure.get("detail"), f"{self.name}: failures detail")
        text = f"{reason} (detail: {detail})" if detail else reason
        arn = failure.get("arn")
        self._emit(
            SignalSource.RUN_TASK_FAILURE, text, subject=arn if isinstance(arn, str) else None
        )

    def _event(self, event: Mapping[str, Any], where: str) -> None:
        if event.get("source") not in (None, "aws.ecs"):
            raise InputError(f"{where}: an EventBridge event from {event.get('source')!r}, not ECS")
        kind = event.get("detail-type")
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise InputError(f"{where}: EventBridge event without a detail object")
        region = event.get("region")
        if isinstance(region, str):
            self.region = self.region or region
        account = event.get("account")
        if isinstance(account, str):
            self.account = self.account or account
        if kind == "ECS Task State Change":
            self._task(detail, where)
        elif kind in ("ECS Deployment State Change", "ECS Service Action"):
            resources = event.get("resources")
            subject = resources[0] if isinstance(resources, list) and resources else None
            subject = subject if isinstance(subject, str) else None
            self._note_region(subject)
            name = self._text(detail.get("eventName"), f"{where}: eventName")
            reason = self._text(detail.get("reason"), f"{where}: reason")
            text = f"{name}: {reason}" if name and reason else name or reason
            self._emit(
                SignalSource.SERVICE_EVENT,
                text,
                subject=subject,
                at=_when(detail.get("updatedAt") or detail.get("createdAt") or event.get("time")),
            )
        elif kind == "ECS Container Instance State Change":
            return
        else:
            raise InputError(f"{where}: unsupported EventBridge detail-type {kind!r}")


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{where}: expected a list of objects")
    return value


def _when(value: Any) -> str | None:
    """Timestamps arrive as ISO strings (CLI, events) or epoch seconds (some SDK dumps)."""
    if isinstance(value, str) and value:
        return value[:40]
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import UTC, datetime

        try:
            return datetime.fromtimestamp(float(value), tz=UTC).isoformat()
        except (OverflowError, ValueError, OSError):
            return None
    return None


def iter_messages(messages: Sequence[str]) -> Iterator[Signal]:
    """Signals for messages given on the command line."""
    for number, message in enumerate(messages, start=1):
        stripped = message.strip()
        if not stripped:
            raise InputError(f"message {number} is empty")
        _check_length(stripped, f"message {number}")
        yield plain_signal(stripped)
