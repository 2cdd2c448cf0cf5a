"""The incident report as a value: what the renderers show, already redacted, never raw AWS data.

The report writer gathers and diagnoses; Markdown, HTML and JSON are pure functions of this value,
so the three formats cannot disagree about a figure or a cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecsdoctor.models import DataGap, Diagnosis, Finding

SCHEMA = "ecsdoctor.report/v1"


@dataclass(frozen=True, slots=True)
class Window:
    """The time span the report covers; `start` None means "as far back as the sources go"."""

    start: str | None  # ISO-8601 UTC
    end: str  # ISO-8601 UTC: the report's "now" unless --to was given


@dataclass(frozen=True, slots=True)
class Summary:
    """The first paragraph of a post-mortem: what failed, how badly, how long, and why."""

    title: str
    what_failed: str
    services: tuple[str, ...]
    failed_tasks: int
    first_failure: str | None  # ISO-8601 UTC
    recovered_at: str | None  # None: still failing at the end of the window
    ended: str | None  # recovery, or the end of the window ("now")
    duration_seconds: float | None
    root_cause: str  # one sentence


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One moment of the incident; repeated messages are one entry with a count."""

    at: str  # ISO-8601 UTC
    kind: str  # deployment | failure | rollback | recovery | event | change
    text: str
    count: int = 1
    last_at: str | None = None  # last repetition, when count > 1
    source: str = ""  # "ecs:DescribeServices", "archive", "logs:FilterLogEvents", ...


@dataclass(frozen=True, slots=True)
class PathNode:
    """One resource on the dependency path from the failing subject to the root cause."""

    id: str  # the ARN or AWS id
    label: str  # short form for diagrams
    failing: bool = False


@dataclass(frozen=True, slots=True)
class RootCause:
    """A confirmed root cause, its evidence (in `finding`) and the path the failure travelled."""

    finding: Finding
    path: tuple[PathNode, ...]
    # Other failing subjects whose own path joins this one at path[1] (services sharing a cause).
    joining: tuple[PathNode, ...] = ()


@dataclass(frozen=True, slots=True)
class RawSignal:
    """One distinct raw message of the appendix (redacted), with how often it was seen."""

    source: str
    text: str
    at: str | None = None
    count: int = 1
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """Everything `ecsdoctor report` found, in the shape of `ecsdoctor.report/v1`."""

    generated_at: str
    cluster: str | None
    service: str | None
    region: str | None
    account: str | None
    window: Window
    sources: tuple[str, ...]  # where the facts came from: "ecs (live)", "archive: PATH", ...
    summary: Summary
    timeline: tuple[TimelineEntry, ...]
    root_causes: tuple[RootCause, ...]
    consequences: tuple[Finding, ...]
    ruled_out: tuple[Finding, ...]
    data_gaps: tuple[DataGap, ...]
    remediation: tuple[str, ...]
    prevention: tuple[str, ...]
    appendix: tuple[RawSignal, ...]
    diagnosis: Diagnosis
    offline: bool
    api_calls: int = 0
    notes: tuple[str, ...] = ()
    appendix_omitted: int = 0  # distinct signals left out of the appendix


__all__ = [
    "SCHEMA",
    "IncidentReport",
    "PathNode",
    "RawSignal",
    "RootCause",
    "Summary",
    "TimelineEntry",
    "Window",
]
