"""The fault proxy itself: it names requests as IAM does, answers in each protocol's error
format, picks its victims reproducibly, and forwards everything else untouched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.faults import proxy as fp

ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=5)


@pytest.fixture(scope="module")
def proxy(moto_server: str) -> Iterator[fp.FaultProxy]:
    with fp.FaultProxy(moto_server) as running:
        yield running


def _client(proxy: fp.FaultProxy, service: str) -> Any:
    session = boto3.session.Session(region_name="us-east-1")
    return session.client(service, endpoint_url=proxy.url, config=ONE_TRY)  # type: ignore[call-overload]


CALLS = [
    ("ecs", "ecs:ListClusters", lambda c: c.list_clusters()),
    ("ec2", "ec2:DescribeVpcs", lambda c: c.describe_vpcs()),
    ("iam", "iam:ListRoles", lambda c: c.list_roles()),
    ("elbv2", "elasticloadbalancing:DescribeLoadBalancers", lambda c: c.describe_load_balancers()),
]


@pytest.mark.parametrize(("service", "action", "call"), CALLS, ids=[c[1] for c in CALLS])
def test_errors_come_in_each_protocols_own_format(
    proxy: fp.FaultProxy, service: str, action: str, call: Any
) -> None:
    client = _client(proxy, service)
    proxy.set_faults([])
    call(client)  # forwarded to moto untouched
    assert proxy.outcomes() == ["forwarded"] and proxy.log[0].action == action
    expected = {
        "ecs": ("ThrottlingException", "AccessDeniedException", "UnknownOperationException"),
        "ec2": ("RequestLimitExceeded", "UnauthorizedOperation", "InvalidAction"),
    }.get(service, ("Throttling", "AccessDenied", "InvalidAction"))
    faults = (fp.THROTTLING, fp.access_denied(action), fp.UNKNOWN_OPERATION)
    for fault, code in zip(faults, expected, strict=True):
        proxy.set_faults([fp.Fault(fault, targets=(action,))])
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            call(client)
        assert caught.value.response["Error"]["Code"] == code
    assert f"is not authorized to perform: {action}" in fp.access_denied(action).message


def test_victims_are_drawn_by_request_not_by_arrival() -> None:
    def requests(attempt: int) -> list[fp.Request]:
        return [fp.Request("ecs", "DescribeTasks", "json", b"%d" % i, attempt) for i in range(400)]

    first = fp.Fault(fp.THROTTLING, rate=0.3, seed=7)
    again = fp.Fault(fp.THROTTLING, rate=0.3, seed=7)
    hits = [first.hits(r) for r in requests(1)]
    assert hits == [again.hits(r) for r in reversed(requests(1))][::-1]
    assert 0.24 < sum(hits) / len(hits) < 0.36
    assert hits != [first.hits(r) for r in requests(2)]  # a retry gets a fresh draw
    once = fp.Fault(fp.THROTTLING, attempts=1)
    assert once.hits(requests(1)[0]) and not once.hits(requests(2)[0])
    burst = fp.Fault(fp.SERVICE_UNAVAILABLE, first=3)
    assert [burst.hits(r) for r in requests(1)[:5]] == [True, True, True, False, False]
    only_ec2 = fp.Fault(fp.THROTTLING, targets=("ec2:*",))
    assert not only_ec2.hits(requests(1)[0])


def test_latency_resets_and_bodies(proxy: fp.FaultProxy) -> None:
    ecs = _client(proxy, "ecs")
    proxy.set_faults([], latency=0.3)
    started = time.monotonic()
    ecs.list_clusters()
    assert time.monotonic() - started >= 0.3
    proxy.set_faults([fp.Fault(fp.Reset())], latency=0)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        ecs.list_clusters()
    proxy.set_faults([fp.Fault(fp.Replace(b'{"clusterArns": ["arn:aws:ecs:x"]}'))])
    assert ecs.list_clusters()["clusterArns"] == ["arn:aws:ecs:x"]
    assert proxy.outcomes() == ["Replace"]
