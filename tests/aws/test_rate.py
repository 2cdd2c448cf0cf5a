"""The client-side request rate cap: a token bucket on an injected clock, never a real sleep."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws

from ecsdoctor.aws.rate import (
    DEFAULT_BURST,
    DEFAULT_MAX_RPS,
    MAX_RPS_ENV,
    OPERATION_RATES,
    RateLimit,
    max_rps,
)
from ecsdoctor.aws.reader import DEADLINE_EXCEEDED, AwsReader
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.errors import CallUnavailable, InputError

SESSION = boto3.session.Session(region_name="us-east-1")


class FakeClock:
    """Time that only moves when someone sleeps: the bucket's waits add up exactly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def _bucket(rate: float, burst: float, clock: FakeClock) -> RateLimit:
    return RateLimit(rate, burst, clock=clock, sleep=clock.sleep)


def test_the_burst_goes_at_once_then_requests_are_paced() -> None:
    clock = FakeClock()
    bucket = _bucket(2.0, 3, clock)
    for _ in range(3):
        assert bucket.acquire()
    assert clock.sleeps == []
    assert bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.5)]
    for _ in range(6):
        bucket.acquire()
    # 10 requests at 2/s with 3 saved up: the last leaves (10 - 3) / 2 s after the first.
    assert clock.now - 1000.0 == pytest.approx(3.5)
    assert bucket.waited == pytest.approx(3.5)


def test_idle_time_refills_the_bucket_up_to_the_burst_only() -> None:
    clock = FakeClock()
    bucket = _bucket(1.0, 2, clock)
    bucket.acquire()
    bucket.acquire()
    clock.now += 60.0  # a minute idle saves up at most `burst` tokens, not 60
    for _ in range(2):
        bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(1.0)]


def test_a_token_due_after_until_is_refused_and_not_taken() -> None:
    clock = FakeClock()
    bucket = _bucket(1.0, 1, clock)
    assert bucket.acquire()
    assert not bucket.acquire(until=clock.now + 0.5)  # the next token is due in 1 s
    assert clock.sleeps == []
    assert bucket.acquire(until=clock.now + 1.0)  # nothing was taken: still due in 1 s
    assert clock.sleeps == [pytest.approx(1.0)]


def test_concurrent_callers_share_one_rate() -> None:
    clock = FakeClock()
    bucket = _bucket(5.0, 5, clock)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each waiter sleeps its own share; together they cover the 20 requests past the burst.
    assert bucket.waited >= (25 - 5) / 5.0 - 1e-9


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("inf"), 1)])
def test_a_bucket_needs_a_positive_finite_rate(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimit(rate, burst)


def test_max_rps_explicit_env_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_RPS_ENV, raising=False)
    assert max_rps() == DEFAULT_MAX_RPS
    assert max_rps(3) == 3
    assert max_rps(0) is None
    monkeypatch.setenv(MAX_RPS_ENV, "2.5")
    assert max_rps() == 2.5
    assert max_rps(7) == 7  # explicit wins over the environment
    monkeypatch.setenv(MAX_RPS_ENV, "0")
    assert max_rps() is None
    monkeypatch.setenv(MAX_RPS_ENV, "fast")
    with pytest.raises(InputError, match=MAX_RPS_ENV):
        max_rps()
    with pytest.raises(InputError):
        max_rps(-1)
    with pytest.raises(InputError):
        max_rps(float("nan"))


def test_open_reader_caps_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_RPS_ENV, raising=False)
    reader = open_reader(AwsAccess(session=SESSION, region="us-east-1"))
    assert isinstance(reader, AwsReader) and reader.rate is not None
    assert (reader.rate.rate, reader.rate.burst) == (DEFAULT_MAX_RPS, DEFAULT_BURST)
    # The default burst holds one whole task diagnosis (docs/performance.md: at most ~35).
    assert DEFAULT_BURST >= 35
    slow = open_reader(AwsAccess(session=SESSION, region="us-east-1", max_rps=2))
    assert isinstance(slow, AwsReader) and slow.rate is not None and slow.rate.rate == 2
    free = open_reader(AwsAccess(session=SESSION, region="us-east-1", max_rps=0))
    assert isinstance(free, AwsReader) and free.rate is None


def test_every_request_the_reader_sends_takes_a_token() -> None:
    clock = FakeClock()
    bucket = _bucket(4.0, 2, clock)
    with mock_aws():
        reader = AwsReader(SESSION, region="us-east-1", deadline=None, rate=bucket)
        names = [f"/ecs/app-{i}" for i in range(6)]
        for name in names:
            reader.call("logs", "DescribeLogGroups", logGroupNamePrefix=name)
        reader.call("logs", "DescribeLogGroups", logGroupNamePrefix=names[0])  # memoised: free
    assert reader.api_calls == 6
    # 6 requests, 2 saved up, 4 a second: one second of pacing, in four waits.
    assert len(clock.sleeps) == 4
    assert sum(clock.sleeps) == pytest.approx(1.0)


def test_a_turn_after_the_deadline_is_a_data_gap_not_a_request() -> None:
    clock = FakeClock()
    bucket = RateLimit(0.001, 1, sleep=clock.sleep)  # the real clock; one request per 1000 s
    with mock_aws():
        reader = AwsReader(SESSION, region="us-east-1", deadline=30.0, rate=bucket)
        reader.call("logs", "DescribeLogGroups", logGroupNamePrefix="/a")
        with pytest.raises(CallUnavailable) as caught:
            reader.call("logs", "DescribeLogGroups", logGroupNamePrefix="/b")
    assert caught.value.code == DEADLINE_EXCEEDED
    assert reader.api_calls == 1
    assert clock.sleeps == []


def test_the_wait_for_a_token_is_not_the_calls_time() -> None:
    """A call waits for its token before its I/O thread starts, so pacing never trips the
    per-call cap (CallTimedOut); a retry pays on the I/O thread, in botocore's retry loop."""
    waiters: list[str] = []
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        waiters.append(threading.current_thread().name)
        clock.sleep(seconds)

    bucket = RateLimit(1.0, 1, clock=clock, sleep=sleep)
    with mock_aws():
        reader = AwsReader(SESSION, region="us-east-1", deadline=None, call_limit=0.5, rate=bucket)
        for name in ("/a", "/b", "/c"):
            reader.call("logs", "DescribeLogGroups", logGroupNamePrefix=name)
    assert reader.api_calls == 3
    assert len(waiters) == 2 and "ecsdoctor-call" not in waiters
    assert clock.now - 1000.0 == pytest.approx(2.0)


def test_retries_pay_for_their_tokens_too() -> None:
    clock = FakeClock()
    bucket = _bucket(100.0, 100, clock)
    with mock_aws():
        reader = AwsReader(SESSION, region="us-east-1", deadline=None, max_attempts=3, rate=bucket)
        client = reader.client("logs")
        failures = iter([True, True, False])

        def throttle(**_: object) -> AWSResponse | None:
            if next(failures):
                return AWSResponse("https://logs", 400, {}, _Body(THROTTLED))
            return None

        client.meta.events.register("before-send.cloudwatch-logs.DescribeLogGroups", throttle)
        reader.call("logs", "DescribeLogGroups")
    assert reader.api_calls == 3
    assert bucket.burst - bucket._tokens == pytest.approx(3.0, abs=0.01)  # one token an attempt


THROTTLED = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'


class _Body:
    """The smallest raw body botocore's AWSResponse can read."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: object) -> list[bytes]:
        return [self._data]


def test_lookup_events_is_paced_at_its_own_documented_rate() -> None:
    """CloudTrail allows LookupEvents two a second per account and Region: a wave of them is
    paced by a bucket of its own, while other reads go on at the reader's rate."""
    assert OPERATION_RATES["cloudtrail:LookupEvents"] == 2.0
    clock = FakeClock()
    trail = _bucket(2.0, 2, clock)
    with mock_aws():
        reader = AwsReader(
            SESSION,
            region="us-east-1",
            deadline=None,
            rate=_bucket(100.0, 100, clock),
            action_rates={"cloudtrail:LookupEvents": trail},
        )
        names = ("vpc-1", "vpc-2", "vpc-3", "vpc-4")
        # moto does not implement LookupEvents: botocore's Stubber answers it
        with Stubber(reader.client("cloudtrail", "us-east-1")) as stub:
            for name in names:
                attributes = [{"AttributeKey": "ResourceName", "AttributeValue": name}]
                stub.add_response("lookup_events", {"Events": []}, {"LookupAttributes": attributes})
                reader.call("cloudtrail", "LookupEvents", LookupAttributes=attributes)
        paced = list(clock.sleeps)
        for prefix in ("/a", "/b", "/c", "/d"):
            reader.call("logs", "DescribeLogGroups", logGroupNamePrefix=prefix)
    # Four lookups, two saved up, two a second: two half-second waits; the log reads wait none.
    assert paced == pytest.approx([0.5, 0.5])
    assert clock.sleeps == paced


def test_an_uncapped_reader_does_not_pace_single_actions_either() -> None:
    reader = AwsReader(SESSION, region="us-east-1", deadline=None, rate=None)
    assert reader._action_rates == {}
    capped = AwsReader(SESSION, region="us-east-1", deadline=None, rate=RateLimit(10.0, 40))
    assert set(capped._action_rates) == set(OPERATION_RATES)
