"""Triage of every EventBridge sample in sample_events/, and of malformed events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecsdoctor.chatops.triage import Incident, Skip, triage
from ecsdoctor.errors import InputError
from ecsdoctor.pipeline import load_knowledge

SAMPLES = Path(__file__).resolve().parents[2] / "sample_events"
EVENTS = sorted(SAMPLES.rglob("eventbridge*.json"))


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_event_is_classified(path: Path) -> None:
    data: Any = json.loads(path.read_text())
    for event in data if isinstance(data, list) else [data]:
        verdict = triage(event, load_knowledge())
        assert isinstance(verdict, Incident | Skip)
        if isinstance(verdict, Incident):
            assert verdict.account and verdict.region and verdict.cluster
            assert verdict.group.startswith(("service:", "family:"))
            assert verdict.cause in load_knowledge().by_id or verdict.cause.startswith(
                "unrecognised:"
            )


def test_informational_samples_are_skipped() -> None:
    kb = load_knowledge()
    skipped = {
        p.parent.name for p in EVENTS if isinstance(triage(json.loads(p.read_text()), kb), Skip)
    }
    assert {"steady_state", "deployment_completed", "deployment_in_progress"} <= skipped


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"detail-type": "ECS Task State Change"},
        {"detail-type": "ECS Service Action", "detail": {"eventType": "ERROR"}, "resources": [1]},
        {
            "detail-type": "ECS Task State Change",
            "detail": {"lastStatus": "STOPPED", "stoppedReason": ["not", "text"]},
            "region": "us-east-1",
            "account": "123456789012",
        },
    ],
)
def test_malformed_events_are_input_errors(event: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        triage(event, load_knowledge())


def test_a_stop_without_any_message_sends_nothing() -> None:
    event = {"detail-type": "ECS Task State Change", "detail": {"lastStatus": "STOPPED"}}
    assert isinstance(triage(event, load_knowledge()), Skip)


def test_unknown_messages_group_by_shape() -> None:
    kb = load_knowledge()

    def cause(reason: str) -> str:
        event = {
            "detail-type": "ECS Task State Change",
            "region": "us-east-1",
            "account": "123456789012",
            "detail": {"lastStatus": "STOPPED", "stoppedReason": reason, "group": "service:w"},
        }
        verdict = triage(event, kb)
        assert isinstance(verdict, Incident)
        return verdict.cause

    first = cause("Frobnicator 10.0.3.7 refused after 42 tries (id 9f8e7d6c5b4a)")
    assert first.startswith("unrecognised:")
    assert first == cause("Frobnicator 10.0.9.1 refused after 7 tries (id 0a1b2c3d4e5f)")
    assert first != cause("Something else entirely")
