"""A broken account (the image names repository wbe; the repository is web) diagnosed through the
real CLI while the proxy makes AWS misbehave. Wherever the data can still be read the root cause
must not change; where it cannot, the gap must name the read; never a traceback, never late."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.faults import proxy as fp
from tests.faults.conftest import (
    DEADLINE,
    Account,
    Run,
    assert_clean,
    assert_in_time,
    build_account,
    record,
)

EXPECTED = (
    "image.repository_not_found",
    "ecr_repository",
    "arn:aws:ecr:us-east-1:123456789012:repository/wbe",
)
ROOT_READ = "ecr:DescribeRepositories"  # the read the root cause comes from


@pytest.fixture(scope="module")
def account(moto_server: str) -> Iterator[Account]:
    built = build_account(moto_server, "repository-typo")
    assert built.scenario.expected is not None
    assert (
        built.scenario.expected.check,
        built.scenario.expected.kind,
        built.scenario.expected.resource,
    ) == EXPECTED
    yield built
    built.proxy.stop()


def _run(
    account: Account, faults: list[fp.Fault], deadline: float = DEADLINE, *, own: bool = False
) -> Run:
    account.proxy.set_faults(faults)
    run = account.diagnose(deadline, own_process=own)
    record(run, account.proxy)
    assert_clean(run)
    assert_in_time(run, deadline)
    return run


def _denied(*actions: str) -> list[fp.Fault]:
    return [fp.Fault(fp.access_denied(a), targets=(a,)) for a in actions]


def test_baseline_without_faults(account: Account) -> None:
    run = _run(account, [], own=True)
    assert run.code == 0 and run.root == EXPECTED and run.gaps == []


# Faults the retries absorb or that touch only reads the root cause does not need.
SAME_ROOT = {
    "bursts of 500 and 503": [
        fp.Fault(fp.INTERNAL_FAILURE, first=2),  # the very first requests (the task itself)
        fp.Fault(fp.SERVICE_UNAVAILABLE, first=2),
        fp.Fault(fp.SERVICE_UNAVAILABLE, rate=0.5, seed=3, attempts=1),  # half of all, once
    ],
    "connection resets on 30% of attempts": [fp.Fault(fp.Reset(), rate=0.3, seed=5, attempts=3)],
    "AccessDenied on all of EC2": _denied("ec2:*"),
    "AccessDenied on ec2:DescribeNetworkInterfaces": _denied("ec2:DescribeNetworkInterfaces"),
    "AccessDenied on all of IAM": _denied("iam:*"),
    "AccessDenied on the ENI and the service: the task attachment tells": _denied(
        "ec2:DescribeNetworkInterfaces", "ecs:DescribeServices"
    ),
    "operations the endpoint does not implement": [
        fp.Fault(fp.UNKNOWN_OPERATION, targets=("ec2:DescribeNetworkAcls",)),
        fp.Fault(  # what moto's server sends for an operation it lacks
            fp.Replace(b"<!doctype html><title>500 Internal Server Error</title>", 500, "text/html"),
            targets=("iam:GetRole",),
        ),
    ],
    "malformed bodies off the root-cause path": [
        fp.Fault(fp.Replace(b"<DescribeRouteTablesResponse><routeTableSet><item>"),
                 targets=("ec2:DescribeRouteTables",)),
        fp.Fault(fp.CutShort(keep=30), targets=("ec2:DescribeSecurityGroups",)),
        fp.Fault(fp.Replace(b"<DescribeNetworkAclsResponse><networkAclSet>"),
                 targets=("ec2:DescribeNetworkAcls",)),
    ],
    "a hung call and a dribbling one off the root-cause path": [
        fp.Fault(fp.Delay(300), targets=("ec2:DescribeRouteTables",)),
        fp.Fault(fp.Dribble(interval=1.0), targets=("ec2:DescribeVpcEndpoints",)),
    ],
}  # fmt: skip


@pytest.mark.parametrize("faults", list(SAME_ROOT.values()), ids=list(SAME_ROOT))
def test_the_root_cause_survives(account: Account, faults: list[fp.Fault]) -> None:
    run = _run(account, faults)
    assert run.code == 0 and run.root == EXPECTED, (run.stderr, run.gaps)
    hit = {r.action for r in account.proxy.log if r.outcome != "forwarded"}
    assert all(any(fault.hits_target(a) for a in hit) for fault in faults), hit  # all happened
    for gap in run.gaps:  # the reads lost are named, and never the root cause's own
        assert ":" in gap["reason"] and ROOT_READ not in gap["reason"], gap


def test_abandoned_calls_let_the_cli_process_exit_in_time(account: Account) -> None:
    """A read that never ends and one that dribbles, in a real `python -m ecsdoctor`."""
    faults = SAME_ROOT["a hung call and a dribbling one off the root-cause path"]
    run = _run(account, faults, own=True)
    assert run.code == 0 and run.root == EXPECTED
    assert {"ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints"} <= {
        r.action for r in account.proxy.log if r.outcome != "forwarded"
    }


def test_denied_reads_are_named_as_missing_permissions(account: Account) -> None:
    run = _run(account, _denied("ec2:*", "iam:*"))
    assert run.root == EXPECTED
    named = run.gap_permissions()
    assert named and all(p.startswith(("ec2:", "iam:")) for p in named), named
    assert "iam:GetRole" in named


def test_throttling_on_30_percent_is_reproducible(account: Account) -> None:
    """Seeded by request, not by arrival: two runs see the same throttling and the same answer."""
    # 30% of attempts, never a 4th in a row: the backoff (under 1 + 2 + 4 s) always fits the
    # per-call cap, so no timing can decide the answer. Resource ids (and so the draws) differ
    # from build to build; within one build they are fixed.
    faults = [fp.Fault(fp.THROTTLING, rate=0.3, seed=11, attempts=3)]
    deadline = 20.0
    first = _run(account, faults, deadline)
    decisions = sorted((r.action, r.attempt, r.outcome) for r in account.proxy.log)
    firsts = [d for d in decisions if d[1] == 1]
    assert 0.05 < sum(d[2] == "Error" for d in firsts) / len(firsts) < 0.6  # 30%, 32 draws
    second = _run(account, faults, deadline)
    assert first.root == second.root == EXPECTED
    assert first.gaps == second.gaps == []
    assert sorted((r.action, r.attempt, r.outcome) for r in account.proxy.log) == decisions


def test_a_10_second_call_is_waited_for(account: Account) -> None:
    run = _run(account, [fp.Fault(fp.Delay(10), targets=(ROOT_READ,), first=1)], deadline=25)
    assert run.code == 0 and run.root == EXPECTED
    assert run.seconds >= 10


LOST_ROOT = {
    "AccessDenied on the root cause's read": (_denied(ROOT_READ), "access denied for"),
    "its read hangs": ([fp.Fault(fp.Delay(300), targets=(ROOT_READ,))], "TimedOut|Deadline"),
    "its read dribbles": ([fp.Fault(fp.Dribble(1.0), targets=(ROOT_READ,))], "TimedOut|Deadline"),
    "its body is cut": (
        [fp.Fault(fp.Replace(b'{"repositories": [{"repositoryN'), targets=(ROOT_READ,))],
        "MalformedResponse",
    ),
}


@pytest.mark.parametrize(("faults", "reason"), list(LOST_ROOT.values()), ids=list(LOST_ROOT))
def test_an_unreadable_root_cause_is_a_named_gap(
    account: Account, faults: list[fp.Fault], reason: str
) -> None:
    run = _run(account, faults)
    assert run.code == 1 and run.root is None  # no guess: nothing confirmed without evidence
    lost = [g for g in run.gaps if g.get("check") == EXPECTED[0]]
    assert lost and ROOT_READ in lost[0]["reason"], run.gaps
    assert re.search(reason, lost[0]["reason"]), lost
    if reason.startswith("access denied"):
        assert lost[0]["permission"] == ROOT_READ


def test_a_wrongly_typed_task_definition_is_a_gap(account: Account) -> None:
    faults = [
        fp.Fault(fp.Replace(b'{"taskDefinition": []}'), targets=("ecs:DescribeTaskDefinition",))
    ]
    run = _run(account, faults)
    assert run.code in (0, 1) and run.document is not None, run.stderr
    assert "ecs:DescribeTaskDefinition" in run.gap_text()
