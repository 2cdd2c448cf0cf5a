"""Real messages never used as samples: all recognised, few on a catch-all, no info as failure.

The holdout (tests/kb/holdout*.txt, one file per area so they grow independently) was gathered
from public issue threads separately from sample_events/: none of its lines is a sample or a
pattern example. It measures how the knowledge base generalises to what on-call engineers paste,
wrappers and truncation included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ecsdoctor.ingest import plain_signal
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kb.matcher import is_generic
from ecsdoctor.models import Severity

SAMPLES = Path(__file__).resolve().parents[2] / "sample_events"
HOLDOUT = sorted(Path(__file__).parent.glob("holdout*.txt"))


def _holdout(paths: list[Path]) -> list[tuple[str, str]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                source, message = line.split("\t", 1)
                rows.append((source, message))
    return rows


ROWS = _holdout(HOLDOUT)
#: Informational events held out (holdout_info*.txt): they must be recognised as info.
INFO_ROWS = _holdout([p for p in HOLDOUT if p.name.startswith("holdout_info")])
#: The runtime holdout (stopped reasons, container reasons, service events) of issue 12.
RUNTIME = [p for p in HOLDOUT if p.name in ("holdout.txt", "holdout_info.txt")]
#: Threads a few lines gathered before issue 12 share with a sample (other messages of the thread
#: are samples); every later line comes from a thread no sample cites.
SHARED_WITH_SAMPLES = {
    "https://github.com/hackforla/CivicTechJobs/issues/436",
    "https://github.com/aws/copilot-cli/issues/2584",
    "https://github.com/oranmoshai/ecsServiceRestart/issues/2",
}


def _sample_lines() -> set[str]:
    lines: set[str] = set()
    for path in SAMPLES.rglob("*"):
        if path.suffix in (".txt", ".json", ".jsonl"):
            lines.update(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return lines


def _sample_sources() -> set[str]:
    sources: set[str] = set()
    for path in SAMPLES.rglob("sources.toml"):
        sources.update(u.rstrip("/") for u in re.findall(r"https?://[^\s\"']+", path.read_text()))
    return sources


def test_the_runtime_holdout_comes_from_threads_no_sample_cites() -> None:
    rows = _holdout(RUNTIME)
    assert len(rows) >= 100
    shared = {s for s, _ in rows if s.rstrip("/") in _sample_sources()} - SHARED_WITH_SAMPLES
    assert shared == set()


def test_the_holdout_is_large_sourced_and_kept_apart_from_the_samples(kb: KnowledgeBase) -> None:
    assert len(ROWS) >= 100
    assert all(source.startswith("https://") for source, _ in ROWS)
    examples = {x for e in kb.entries for p in e.patterns for x in p.examples}
    used = _sample_lines() | examples
    reused = [message for _, message in ROWS if message in used]
    assert reused == []
    assert not any(message in line for _, message in ROWS for line in used if len(message) > 60)


@pytest.mark.parametrize(("source", "message"), ROWS, ids=[f"h{i}" for i in range(len(ROWS))])
def test_every_held_out_message_is_recognised(source: str, message: str, kb: KnowledgeBase) -> None:
    found = kb.recognize(plain_signal(message))
    assert found is not None, f"{source}: {message}"


def test_fewer_than_one_in_six_held_out_messages_land_on_a_catch_all(kb: KnowledgeBase) -> None:
    found = [kb.recognize(plain_signal(message)) for _, message in ROWS]
    recognised = [f for f in found if f is not None]
    generic = [f.entry.id for f in recognised if is_generic(f.entry)]
    assert len(generic) * 6 < len(recognised), generic


# Informational service events (real, from the holdout threads and AWS's templates): never failures.
INFO = [
    "(service civictechjobs-fullstack-stage) has stopped 1 running tasks: (task ca675154981d4ebd81b7a97747141a2e).",
    "(service civictechjobs-fullstack-stage) registered 1 targets in (target-group arn:aws:"
    "elasticloadbalancing:us-west-2:035866691871:targetgroup/civictechjobs-fullstack-stage/"
    "555a47e25c5a1850)",
    "service (service-name) is not AZ balanced with number-tasks tasks in Availability Zone 1, "
    "number-tasks in Availability Zone 2, and number-tasks in Availability Zone 3. AZ Rebalancing "
    "in progress.",
    "service my-service has started 2 tasks in Availability Zone to AZ Rebalance: task-ids.",
]


@pytest.mark.parametrize("message", INFO)
def test_informational_events_are_info(message: str, kb: KnowledgeBase) -> None:
    found = kb.recognize(plain_signal(message))
    assert found is not None and found.entry.severity is Severity.INFO, message


def test_every_held_out_info_message_is_info_and_every_failure_a_failure(
    kb: KnowledgeBase,
) -> None:
    """No held-out failure lands on an info entry (an outage must never read as normal)."""
    info_messages = set(INFO) | {message for _, message in INFO_ROWS}
    assert len(INFO_ROWS) >= 10
    for _, message in ROWS:
        found = kb.recognize(plain_signal(message))
        assert found is not None
        expected = Severity.INFO if message in info_messages else Severity.FAILURE
        assert found.entry.severity is expected, message
