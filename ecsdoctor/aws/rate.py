"""A client-side cap on the rate of AWS requests, so a large scan never throttles the account.

ECS throttles every account per Region with a token bucket: the bucket's capacity is the burst
rate, its refill rate the sustained rate, and a request past either fails with
ThrottlingException (for cluster read actions such as DescribeClusters the bucket holds 50
tokens). The quotas are shared with every other client of the account — deploy pipelines, the
console, autoscalers — so ecsdoctor stays well below them with a bucket of its own:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html

One bucket covers every request of a reader (ECS, EC2, IAM, ... and every retry): one diagnosis
(about 35 requests) fits in the burst and never waits; a scan of hundreds of services is paced.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

from ecsdoctor.errors import InputError

DEFAULT_MAX_RPS = 10.0  # sustained requests a second: below ECS's describe/list sustained rates
DEFAULT_BURST = 40  # requests sent at once before pacing starts: one whole diagnosis
MAX_RPS_ENV = "ECSDOCTOR_MAX_RPS"  # overrides DEFAULT_MAX_RPS (0: no cap)


class RateLimit:
    """A token bucket: `rate` tokens a second, at most `burst` saved up, one per request.

    `acquire` waits for a token. A caller that must not wait past a moment (the diagnosis
    deadline) passes it as `until`: if the token would only come later, nothing is taken and
    False comes back at once. `clock` and `sleep` are injectable so tests never sleep for real.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"the rate must be a positive number of requests a second: {rate}")
        self.rate = float(rate)
        self.burst = float(max(1.0, burst if burst is not None else rate))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for tokens, all callers together

    def _reserve(self, until: float | None) -> float | None:
        """Take the next token (possibly not yet refilled); the wait it needs, or None."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = max(0.0, (1.0 - self._tokens) / self.rate)
            if until is not None and now + wait > until:
                return None
            # Taken now even if it is still owed: later callers queue behind this one.
            self._tokens -= 1.0
            self.waited += wait
            return wait

    def acquire(self, until: float | None = None) -> bool:
        """Wait for one token; False (nothing taken) if it would come after `until`."""
        wait = self._reserve(until)
        if wait is None:
            return False
        if wait > 0:
            self._sleep(wait)
        return True


def max_rps(explicit: float | None = None) -> float | None:
    """The cap in requests a second: `explicit`, else $ECSDOCTOR_MAX_RPS, else 10; 0 means none."""
    value: float | None = explicit
    if value is None:
        text = os.environ.get(MAX_RPS_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_RPS
        try:
            value = float(text)
        except ValueError:
            raise InputError(
                f"{MAX_RPS_ENV} must be a number of requests a second, not {text!r}"
            ) from None
    if math.isnan(value) or value < 0:
        raise InputError(f"the request rate must be 0 (no cap) or a positive number: {value}")
    return None if value == 0 or math.isinf(value) else value


#: Actions whose own documented quota is far below the account-wide ECS rates: each gets a bucket
#: of its own next to the reader's, so a wave of them is paced instead of throttled and retried.
#: LookupEvents: "limited to two per second, per account, per Region"
#: (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
OPERATION_RATES: dict[str, float] = {"cloudtrail:LookupEvents": 2.0}


def operation_limits() -> dict[str, RateLimit]:
    """One bucket per action of OPERATION_RATES, bursting to its documented rate."""
    return {action: RateLimit(rps, rps) for action, rps in OPERATION_RATES.items()}


def rate_limit(rps: float | None) -> RateLimit | None:
    """The bucket for a cap of `rps` (None: uncapped), bursting up to one diagnosis."""
    if rps is None:
        return None
    return RateLimit(rps, max(DEFAULT_BURST, rps))


__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_MAX_RPS",
    "MAX_RPS_ENV",
    "OPERATION_RATES",
    "RateLimit",
    "max_rps",
    "operation_limits",
    "rate_limit",
]
