"""The critical path: how many requests a diagnosis sends and in how many sequential rounds.

Counting, never timing: a round is a causal depth (ecsdoctor.aws.rounds), the same on a loaded CI
machine as on a laptop, so these bounds hold exactly. Wall time is the benchmark's business
(benchmarks/perf.py, docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.reader import AwsReader
from ecsdoctor.aws.recording import RecordingReader, ReplayReader
from ecsdoctor.aws.rounds import RoundClock, rounds_of
from ecsdoctor.demo import SCENARIOS
from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS
from ecsdoctor.diagnose import diagnose_task

#: Issue 15's target for a Fargate task with secrets, logs and a load balancer.
MAX_REQUESTS = 40
MAX_ROUNDS = 6


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def _reader(session: boto3.session.Session) -> AwsReader:
    return AwsReader(session, region="us-east-1", deadline=None)


def test_independent_reads_share_a_round_and_dependent_ones_add_one(
    session: boto3.session.Session,
) -> None:
    reader = _reader(session)
    regions = ["us-east-1", "us-west-2", "eu-west-1"]
    reader.parallel(
        [lambda r=r: reader.call("ec2", "DescribeVpcs", region=r) for r in regions]  # type: ignore[misc]
    )
    assert (reader.api_calls, reader.rounds) == (3, 1)
    # Read after those answers, from the same thread: one round later.
    reader.call("ec2", "DescribeSubnets")
    assert (reader.api_calls, reader.rounds) == (4, 2)
    # A memoised answer costs no request and no round, but what follows it depends on it.
    reader.call("ec2", "DescribeVpcs", region="us-west-2")
    assert (reader.api_calls, reader.rounds) == (4, 2)
    reader.call("ec2", "DescribeSecurityGroups")
    assert (reader.api_calls, reader.rounds) == (5, 3)
    reader.close()


def test_a_worker_starts_at_its_callers_depth_and_the_caller_waits_for_the_deepest(
    session: boto3.session.Session,
) -> None:
    reader = _reader(session)
    reader.call("ec2", "DescribeVpcs")  # round 1

    def chain() -> None:  # two dependent reads inside one parallel item: rounds 2 and 3
        reader.call("ec2", "DescribeSubnets")
        reader.call("ec2", "DescribeRouteTables")

    reader.parallel([chain, lambda: reader.call("ec2", "DescribeSecurityGroups")])
    assert reader.rounds == 3
    reader.call("ec2", "DescribeNetworkAcls")  # after the parallel: after its deepest item
    assert reader.rounds == 4
    reader.close()


def test_parallel_inside_a_worker_still_overlaps(session: boto3.session.Session) -> None:
    """A service diagnosis runs each task's waves inside a worker: they must not go serial."""
    reader = _reader(session)

    def fan(region: str) -> list[object]:
        return list(
            reader.parallel(
                [
                    lambda: reader.call("ec2", "DescribeVpcs", region=region),
                    lambda: reader.call("ec2", "DescribeSubnets", region=region),
                    lambda: reader.call("ec2", "DescribeRouteTables", region=region),
                ]
            )
        )

    results = reader.parallel([lambda: fan("us-east-1"), lambda: fan("us-west-2")])
    assert all(isinstance(r, list) and len(r) == 3 for r in results)
    assert (reader.api_calls, reader.rounds) == (6, 1)
    reader.close()


def test_an_error_in_a_nested_item_reaches_the_caller(session: boto3.session.Session) -> None:
    reader = _reader(session)

    def broken() -> None:
        raise LookupError("a bug, not a read error")

    def fan() -> list[object]:
        return list(reader.parallel([broken, lambda: reader.call("ec2", "DescribeVpcs")]))

    with pytest.raises(LookupError):
        reader.parallel([fan, fan])
    reader.close()


def test_a_last_empty_page_is_no_request_and_no_round(session: boto3.session.Session) -> None:
    reader = _reader(session)
    reader.pages("ec2", "DescribeSubnets", "Subnets")
    assert (reader.api_calls, reader.rounds) == (1, 1)
    reader.close()


def test_the_clock_keeps_each_threads_depth_apart() -> None:
    clock = RoundClock()
    clock.seen(3)
    seen_elsewhere: list[int] = []
    worker = threading.Thread(target=lambda: seen_elsewhere.append(clock.depth()))
    worker.start()
    worker.join()
    assert seen_elsewhere == [0]
    result, reached = clock.forked(5, lambda: clock.next_round())
    assert (result, reached, clock.depth()) == (6, 5, 3)
    assert clock.rounds == 0  # nothing was sent
    clock.sent(4)
    assert clock.rounds == 4


def test_recordings_keep_the_rounds_and_replays_report_them(
    session: boto3.session.Session, tmp_path: object
) -> None:
    from pathlib import Path

    recorder = RecordingReader(_reader(session))
    recorder.call("ec2", "DescribeVpcs")
    recorder.call("ec2", "DescribeSubnets")
    assert rounds_of(recorder) == 2
    path = recorder.save(Path(str(tmp_path)) / "run.json")
    assert rounds_of(ReplayReader.load(path)) == 2
    assert rounds_of(object()) is None


def _stopped_task(session: boto3.session.Session, name: str) -> tuple[str, str]:
    scenario = SERVICE_SCENARIOS[name].build(session)
    arns = session.client("ecs").list_tasks(
        cluster=scenario.cluster, serviceName=scenario.service, desiredStatus="STOPPED"
    )["taskArns"]
    return arns[0], scenario.cluster


def test_a_fargate_task_with_secrets_logs_and_a_load_balancer_fits_the_budget(
    session: boto3.session.Session,
) -> None:
    task, cluster = _stopped_task(session, "service-targets-blocked")
    definition = session.client("ecs").describe_task_definition(
        taskDefinition=session.client("ecs").describe_tasks(cluster=cluster, tasks=[task])["tasks"][
            0
        ]["taskDefinitionArn"]
    )["taskDefinition"]
    container = definition["containerDefinitions"][0]
    # The scenario is what the target names: Fargate, secrets, awslogs, a load balancer.
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert container["secrets"] and container["logConfiguration"]["logDriver"] == "awslogs"
    service = session.client("ecs").describe_services(cluster=cluster, services=["web"])
    assert service["services"][0]["loadBalancers"]

    reader = _reader(session)
    diagnosis = diagnose_task(task, cluster=cluster, reader=reader)
    reader.close()
    assert diagnosis.api_calls <= MAX_REQUESTS
    assert reader.rounds <= MAX_ROUNDS
    # Every check that wanted a read got it: prefetching changed when, not what, was read.
    assert not [g for g in diagnosis.data_gaps if g.check != "changes.recent_changes"]


def test_where_cloudtrail_answers_its_lookups_take_one_wave(
    session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real account LookupEvents answers (moto does not implement it): the what-changed
    check's lookups then go in one wave after the first, not one round each."""
    from moto.cloudtrail.responses import CloudTrailResponse

    monkeypatch.setattr(
        CloudTrailResponse, "lookup_events", lambda self: '{"Events": []}', raising=False
    )
    task, cluster = _stopped_task(session, "service-targets-blocked")
    reader = _reader(session)
    diagnosis = diagnose_task(task, cluster=cluster, reader=reader)
    reader.close()
    # Every lookup was answered (without the patch, changes.recent_changes is a data gap).
    assert diagnosis.data_gaps == ()
    assert reader.rounds <= MAX_ROUNDS
    # The CloudTrail lookups (one per watched resource: route table, security group, VPC,
    # network ACL, both roles, the family) come on top of the target's 40 other requests.
    assert diagnosis.api_calls <= MAX_REQUESTS + 8


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("kms-key-disabled", "secrets.kms_key_unusable"),
        ("execution-role-no-ecr", "iam.execution_role_denied_ecr"),
        ("no-route-no-endpoints", "network.ecr_unreachable"),
        ("log-group-missing", "logs.log_group_missing"),
    ],
)
def test_demo_failures_are_diagnosed_within_the_budget(
    session: boto3.session.Session, name: str, check: str
) -> None:
    scenario = SCENARIOS[name].build(session)
    reader = _reader(session)
    diagnosis = diagnose_task(scenario.task_arn, cluster=scenario.cluster, reader=reader)
    reader.close()
    assert diagnosis.root_causes and diagnosis.root_causes[0].check == check
    assert diagnosis.api_calls <= MAX_REQUESTS
    assert reader.rounds <= MAX_ROUNDS
