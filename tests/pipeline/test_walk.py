"""The dependency graph decides: which checks run, what is a root cause, what a consequence."""

from __future__ import annotations

import boto3
from moto import mock_aws

from ecsdoctor.demo import SCENARIOS
from ecsdoctor.diagnose import diagnose_task
from ecsdoctor.graph import ResourceGraph
from ecsdoctor.kinds import Kind
from ecsdoctor.models import CheckResult, Diagnosis, ResultRef, Status
from ecsdoctor.pipeline import split_causes

BUILD = boto3.session.Session(region_name="us-east-1")


def _ran(name: str, *, thorough: bool = False) -> tuple[set[str], Diagnosis]:
    """Build the scenario in a fresh emulated account and diagnose its task."""
    with mock_aws():
        scenario = SCENARIOS[name].build(BUILD)
        session = boto3.session.Session(region_name="us-east-1")
        diagnosis = diagnose_task(
            scenario.task_arn, cluster=scenario.cluster, session=session, thorough=thorough
        )
    return {r.check for r in diagnosis.checks}, diagnosis


def test_an_image_pull_timeout_walks_the_network_path_only() -> None:
    ran, diagnosis = _ran("no-route-no-endpoints")
    assert "network.ecr_unreachable" in ran
    # Off the path of "i/o timeout pulling the image": no log group, secret or health check work,
    # and (a task diagnosis) no load balancer or placement check at all.
    assert not ran & {
        "logs.log_group_missing",
        "secrets.secret_not_found",
        "health.health_check_command",
    }
    assert not {c for c in ran if c.startswith(("load_balancer.", "placement."))}
    assert diagnosis.root_causes[0].kind == Kind.ROUTE_TABLE


def test_a_missing_log_group_walks_to_the_log_group() -> None:
    ran, diagnosis = _ran("log-group-missing")
    assert "logs.log_group_missing" in ran
    # The log group's hypotheses reach the route table (logs unreachable), not secrets or images.
    assert not ran & {
        "secrets.secret_not_found",
        "image.tag_not_found",
        "health.health_check_command",
    }
    assert diagnosis.root_causes[0].check == "logs.log_group_missing"


def test_thorough_runs_everything_but_keeps_off_path_findings_out_of_root_causes() -> None:
    focused, _ = _ran("log-group-missing")
    ran, diagnosis = _ran("log-group-missing", thorough=True)
    assert ran > focused
    roots = {f.check for f in diagnosis.root_causes}
    others = {f.check for f in diagnosis.other_problems}
    assert "logs.log_group_missing" in roots
    assert not roots & others


def _result(check: str, resource: str, *refs: ResultRef) -> CheckResult:
    return CheckResult(check, Kind.ROUTE_TABLE, resource, Status.CONFIRMED, "x", depends_on=refs)


def test_a_typed_reference_makes_a_consequence() -> None:
    cause = _result("image.registry_region_mismatch", "td")
    effect = _result(
        "network.ecr_unreachable", "rtb-1", ResultRef("image.registry_region_mismatch", "td")
    )
    roots, consequences = split_causes([cause, effect], None, frozenset())
    assert roots == [cause]
    assert consequences == [effect]
    # The reference to a result that was not confirmed explains nothing.
    roots, consequences = split_causes([effect], None, frozenset())
    assert roots == [effect] and consequences == []


def test_a_symptom_is_explained_by_a_failure_below_it_in_the_graph() -> None:
    graph = ResourceGraph("svc")
    graph.add("svc", Kind.SERVICE)
    graph.add("tg", Kind.TARGET_GROUP, "svc")
    graph.add("task", Kind.TASK, "svc")
    graph.add("sg-1", Kind.SECURITY_GROUP, "task")
    symptom = _result("load_balancer.target_health", "svc")
    below = _result("load_balancer.security_group_blocks", "sg-1")
    beside = _result("deployment.circuit_breaker_disabled", "tg")
    roots, consequences = split_causes(
        [symptom, below], graph, frozenset({"load_balancer.target_health"})
    )
    assert roots == [below] and consequences == [symptom]
    # A defect (not a symptom) is never demoted by what lies below it.
    roots, _ = split_causes([beside, below], graph, frozenset())
    assert {r.check for r in roots} == {beside.check, below.check}


def test_the_failure_path_follows_the_kinds_and_aggregates() -> None:
    graph = ResourceGraph("task")
    graph.add("task", Kind.TASK)
    graph.add("td", Kind.TASK_DEFINITION, "task")
    graph.add("role", Kind.EXECUTION_ROLE, "td")
    graph.add("subnet", Kind.SUBNET, "task")
    graph.add("rtb", Kind.ROUTE_TABLE, "subnet")
    path = graph.failure_path({Kind.ROUTE_TABLE})
    assert path.nodes == {"task", "subnet", "rtb"}
    assert path.covers(Kind.ROUTE_TABLE) and path.covers(Kind.SUBNET)
    assert not path.covers(Kind.EXECUTION_ROLE)
    # A kind with no node (the missing NAT gateway) is still on the path.
    assert graph.failure_path({Kind.NAT_GATEWAY}).covers(Kind.NAT_GATEWAY)
    # "The tasks failed to start" names the task: everything beneath it is on the path.
    assert graph.failure_path({Kind.TASK}).covers(Kind.EXECUTION_ROLE)
    # Nothing recognised: every dependency is suspect.
    assert graph.failure_path(set()).everything
