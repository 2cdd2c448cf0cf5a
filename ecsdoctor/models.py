"""Value types shared by ingest, matching, checks, ranking and the renderers.

A Diagnosis is a plain value: the library builds it, the CLI, the ChatOps backend and the report
writer only render it. Every type is a frozen dataclass so a renderer cannot change what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ecsdoctor.kinds import Kind


class SignalSource(StrEnum):
    """Which field of an ECS record a signal was read from."""

    STOPPED_REASON = "stopped_reason"
    CONTAINER_REASON = "container_reason"
    STOP_CODE = "stop_code"
    EXIT_CODE = "exit_code"
    SERVICE_EVENT = "service_event"
    RUN_TASK_FAILURE = "run_task_failure"  # `failures[].reason` of RunTask / StartTask


@dataclass(frozen=True, slots=True)
class Signal:
    """One failure string, normalised: what ECS said, where, and about which subject."""

    source: SignalSource
    text: str
    container: str | None = None
    at: str | None = None
    subject: str | None = None  # task or service ARN the signal belongs to, when known
    pasted: bool = False  # from plain text: its true source is unknown, so every pattern applies


class Severity(StrEnum):
    """Whether a knowledge entry describes a failure or a normal event."""

    FAILURE = "failure"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Match:
    """A signal recognised by a knowledge entry, with the values its regex captured."""

    entry: str
    signal: int  # index into Diagnosis.signals
    captures: Mapping[str, str]
    priority: int
    severity: Severity
    wrapper: str | None = None  # the tool whose error text carried the message (terraform, ...)


class Status(StrEnum):
    """What a check concluded about the problem it is named after."""

    CONFIRMED = "confirmed"  # looked, and the problem is there
    RULED_OUT = "ruled_out"  # looked, and it is not
    INCONCLUSIVE = "inconclusive"  # could not look: denied, throttled, offline, not implemented


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observed fact, phrased for a person, with the API call it came from."""

    resource: str
    source: str  # "ec2:DescribeRouteTables", or "stoppedReason"
    detail: str


@dataclass(frozen=True, slots=True)
class DataGap:
    """A check that could not run, and what would let it run."""

    check: str
    reason: str
    permission: str | None = None


@dataclass(frozen=True, slots=True)
class ResultRef:
    """A typed reference to another check's result on one resource (built by `ctx.ref`)."""

    check: str
    resource: str

    @property
    def key(self) -> str:
        """The `CheckResult.key` this reference points at."""
        return f"{self.check}:{self.resource}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict of one check on one resource, always with the evidence behind it.

    `depends_on` names other results whose failure would explain this one: the ranking step uses
    it, with the resource graph, to tell a root cause from a consequence.
    """

    check: str
    kind: Kind
    resource: str
    status: Status
    detail: str
    evidence: tuple[Evidence, ...] = ()
    remediation: str | None = None
    gap: DataGap | None = None
    depends_on: tuple[ResultRef, ...] = ()
    rank: int = 50  # lower is more likely when several independent root causes are confirmed

    @property
    def key(self) -> str:
        """Identity of this result inside one diagnosis."""
        return f"{self.check}:{self.resource}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A root cause, a consequence or a ruled-out hypothesis, as reported."""

    kind: Kind
    resource: str
    summary: str
    evidence: tuple[Evidence, ...] = ()
    remediation: str | None = None
    entry: str | None = None
    hypothesis: str | None = None
    check: str | None = None
    affected: tuple[str, ...] = ()  # services (scan) or failure groups sharing this cause

    @property
    def key(self) -> str:
        """`kind:resource`, how failure groups and services point at their causes."""
        return f"{self.kind}:{self.resource}"


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Stopped tasks that failed the same way (ids, IPs and times stripped), diagnosed once."""

    reason: str  # the normalised reason: the grouping key
    example: str  # one real (redacted) reason of the group
    count: int
    first_seen: str | None
    last_seen: str | None
    tasks: tuple[str, ...]  # a few task ARNs of the group, newest first
    service: str | None = None
    task_definitions: tuple[str, ...] = ()
    diagnosed_task: str | None = None  # the task the live checks ran on
    causes: tuple[str, ...] = ()  # Finding.key of the root causes found for it
    ran_for: float | None = (
        None  # seconds from start to stop of the shortest-lived task, if started
    )


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service as a scan saw it: healthy or not, the symptoms, and the causes found."""

    name: str
    arn: str
    healthy: bool
    desired: int
    running: int
    rollout_state: str | None
    problems: tuple[str, ...] = ()  # symptoms, e.g. "running 0 of 2", "deployment FAILED"
    causes: tuple[str, ...] = ()  # Finding.key of its root causes
    failed_tasks: int = 0


class SubjectType(StrEnum):
    """What kind of thing a diagnosis is about."""

    TASK = "task"
    SERVICE = "service"
    CLUSTER = "cluster"
    EVENTS = "events"


@dataclass(frozen=True, slots=True)
class Subject:
    """What was diagnosed."""

    type: SubjectType
    arn: str | None = None
    cluster: str | None = None
    service: str | None = None
    region: str | None = None
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A knowledge hypothesis as it applies to this diagnosis (remediation already rendered)."""

    entry: str
    id: str
    claim: str
    kinds: tuple[Kind, ...]
    remediation: str
    status: Status | None = None  # None when no live check ran (offline)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Everything one diagnosis found, in the shape of DESIGN.md's `ecsdoctor.diagnosis/v1`."""

    subject: Subject
    signals: tuple[Signal, ...]
    matches: tuple[Match, ...]
    root_causes: tuple[Finding, ...] = ()
    consequences: tuple[Finding, ...] = ()
    ruled_out: tuple[Finding, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    data_gaps: tuple[DataGap, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    api_calls: int = 0
    rounds: int | None = None  # sequential rounds of those requests (None: not counted)
    offline: bool = True
    failure_groups: tuple[FailureGroup, ...] = ()
    services: tuple[ServiceStatus, ...] = ()  # a cluster scan's services, unhealthy first
    notes: tuple[str, ...] = field(default=())
    # Confirmed failures off the failure's dependency path: real, but not why this failed.
    other_problems: tuple[Finding, ...] = ()
