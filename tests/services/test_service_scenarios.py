"""Every broken-service scenario, built in moto and diagnosed end to end, read-only."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.operations import FORBIDDEN, is_allowed
from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS
from ecsdoctor.errors import AwsSetupError, InputError
from ecsdoctor.models import Severity
from ecsdoctor.report import Format, render
from ecsdoctor.scan import diagnose_service

BUILD = boto3.session.Session(region_name="us-east-1")
LEAK = "SECRET_VALUE_SHOULD_NEVER_PRINT"


@pytest.fixture
def account() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.parametrize("name", list(SERVICE_SCENARIOS))
def test_service_scenario_diagnosed_to_its_root_cause(
    name: str, account: None, recorder: type
) -> None:
    scenario = SERVICE_SCENARIOS[name].build(BUILD)
    session = boto3.session.Session(region_name="us-east-1")
    calls = recorder(session)
    diagnosis = diagnose_service(scenario.service, cluster=scenario.cluster, session=session)

    assert diagnosis.subject.type == "service"
    assert diagnosis.subject.service == "web"
    if scenario.expected is None:
        assert diagnosis.root_causes == ()
        assert diagnosis.ruled_out, "a healthy service must show what was checked"
        # Informational events are recognised as such, never as a failure.
        assert diagnosis.matches
        assert all(m.severity is Severity.INFO for m in diagnosis.matches)
    else:
        top = diagnosis.root_causes[0]
        assert (top.check, top.kind, top.resource) == (
            scenario.expected.check,
            scenario.expected.kind,
            scenario.expected.resource,
        )
        assert top.evidence and top.remediation
        found = {(f.check, f.kind, f.resource) for f in diagnosis.root_causes}
        for also in scenario.also:
            assert (also.check, also.kind, also.resource) in found
        # Every planted service event is recognised by a service-event entry.
        events = [i for i, s in enumerate(diagnosis.signals) if s.source.value == "service_event"]
        matched = {m.signal: m.entry for m in diagnosis.matches}
        for index in events:
            assert index in matched, diagnosis.signals[index].text
    assert calls.calls
    assert all(is_allowed(op) for op in calls.calls), sorted(set(calls.calls))
    assert not set(calls.calls) & FORBIDDEN
    for fmt in Format:
        assert LEAK not in render(fmt, diagnosis)


def test_rollback_names_the_cause_beneath_the_deployment(account: None) -> None:
    scenario = SERVICE_SCENARIOS["service-rollback-no-endpoint"].build(BUILD)
    diagnosis = diagnose_service("web", cluster="prod", session=BUILD)
    # Four stopped tasks, one failure: grouped, diagnosed once, tied to the root cause.
    assert len(diagnosis.failure_groups) == 1
    group = diagnosis.failure_groups[0]
    assert group.count == 4
    assert "<ip>" not in group.example and "dial tcp" in group.example
    # Issue 11 item 6: with interface endpoints and no NAT, the intent is endpoints, so the
    # missing ECR endpoints (on the VPC) are the cause, not "no route".
    assert group.causes == (f"vpc_endpoint:{scenario.ids['vpc']}",)
    assert group.first_seen and group.last_seen and group.first_seen <= group.last_seen
    # The rollback itself is a symptom, the circuit breaker was on: ruled out.
    ruled = {f.check for f in diagnosis.ruled_out}
    assert "deployment.circuit_breaker_disabled" in ruled
    document = json.loads(render(Format.JSON, diagnosis))
    assert document["subject"]["type"] == "service"
    assert document["failure_groups"][0]["count"] == 4
    assert document["root_causes"][0]["resource"] == scenario.ids["vpc"]


def test_events_alone_when_ecs_forgot_the_tasks(account: None) -> None:
    SERVICE_SCENARIOS["service-events-only"].build(BUILD)
    diagnosis = diagnose_service("web", cluster="prod", session=BUILD)
    assert diagnosis.failure_groups == ()
    assert any("forgets them about an hour" in n for n in diagnosis.notes)
    assert any("current task definition" in n for n in diagnosis.notes)


def test_restart_forever_recommends_the_circuit_breaker(account: None) -> None:
    SERVICE_SCENARIOS["service-restart-forever"].build(BUILD)
    diagnosis = diagnose_service("web", cluster="prod", session=BUILD)
    breaker = next(
        f for f in diagnosis.root_causes if f.check == "deployment.circuit_breaker_disabled"
    )
    assert "rollback=true" in (breaker.remediation or "")
    # The task failure is ranked first: the breaker keeps the outage going, it does not cause it.
    assert diagnosis.root_causes[0].check == "image.repository_not_found"


def test_missing_service_is_a_setup_error(account: None) -> None:
    SERVICE_SCENARIOS["service-healthy"].build(BUILD)
    with pytest.raises(AwsSetupError, match="not found"):
        diagnose_service("nope", cluster="prod", session=BUILD)


@pytest.mark.parametrize(
    "bad",
    ["", "arn:aws:ecs:us-east-1:123456789012:task/prod/x", "web; rm -rf /", "x" * 3000],
)
def test_malformed_service_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        diagnose_service(bad, cluster="prod", session=BUILD)


def test_service_arn_names_its_cluster(account: None) -> None:
    SERVICE_SCENARIOS["service-healthy"].build(BUILD)
    diagnosis = diagnose_service(
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web", session=BUILD
    )
    assert diagnosis.subject.cluster == "prod"
    assert diagnosis.root_causes == ()
