"""A network root cause (no ecr.dkr endpoint, no NAT) needs a dozen EC2 reads, so it is the
answer most exposed to throttling and resets; and when EC2 is denied it cannot be reached at
all, so the diagnosis must say which permissions would have let it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults import proxy as fp
from tests.faults.conftest import Account, assert_clean, assert_in_time, build_account, record


@pytest.fixture(scope="module")
def account(moto_server: str) -> Iterator[Account]:
    built = build_account(moto_server, "seed-incident")
    yield built
    built.proxy.stop()


def _expected(account: Account) -> tuple[str, str, str]:
    expected = account.scenario.expected
    assert expected is not None and expected.check == "network.ecr_unreachable"
    return (expected.check, expected.kind, expected.resource)


def test_throttling_resets_and_5xx_together(account: Account) -> None:
    account.proxy.set_faults(
        [
            fp.Fault(fp.THROTTLING, rate=0.3, seed=21, attempts=2),
            fp.Fault(fp.Reset(), rate=0.25, seed=22, attempts=2),
            fp.Fault(fp.SERVICE_UNAVAILABLE, rate=0.1, seed=23, attempts=2),
        ]
    )
    run = account.diagnose(20.0)
    record(run, account.proxy)
    assert_clean(run)
    assert_in_time(run, 20.0)
    assert run.code == 0 and run.root == _expected(account), run.gaps
    assert run.gaps == []
    assert {"Error", "Reset"} <= set(account.proxy.outcomes())


def test_denied_ec2_names_the_permissions_the_answer_needs(account: Account) -> None:
    account.proxy.set_faults([fp.Fault(fp.access_denied("ec2:*"), targets=("ec2:*",))])
    run = account.diagnose()
    record(run, account.proxy)
    assert_clean(run)
    assert_in_time(run)
    assert run.root is None and run.code == 1  # never a guessed network cause
    network = [g for g in run.gaps if str(g.get("check", "")).startswith("network.")]
    assert network and all(str(g["permission"]).startswith("ec2:") for g in network), run.gaps
    assert any(g["check"] == "network.ecr_unreachable" for g in network)
