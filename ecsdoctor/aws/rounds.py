"""Sequential rounds: how many requests of a diagnosis had to wait for another one's answer.

A diagnosis that sends 30 requests in 5 waves costs 5 network round trips of wall time, not 30;
the request count alone says nothing about that. A request's round is one more than the highest
round among the answers the code that issued it had already seen; the diagnosis' rounds are the
highest round of any request. "Seen" follows the code, not the clock (a Lamport-style depth per
thread): a request depends on the answers its own thread read before it, on the answers of the
thread that started it in `parallel`, and on a memoised answer it reused. So the count is the same
on a loaded laptop and in CI, at 0 ms and at 200 ms per request, and at a fixed latency per
request the wall time is about `rounds x latency` when each wave fits the concurrency bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class RoundClock:
    """The depth of every thread reading for one diagnosis, and the deepest request so far."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._rounds = 0

    @property
    def rounds(self) -> int:
        """The highest round of any request sent so far (0 before the first)."""
        return self._rounds

    def depth(self) -> int:
        """The round of the latest answer this thread's code depends on."""
        depth: int = getattr(self._local, "depth", 0)
        return depth

    def next_round(self) -> int:
        """The round of a request this thread is about to send."""
        return self.depth() + 1

    def sent(self, number: int) -> None:
        """A request of round `number` went out (from any thread)."""
        with self._lock:
            self._rounds = max(self._rounds, number)

    def seen(self, number: int) -> None:
        """This thread now depends on an answer of round `number` (its own, or a memoised one)."""
        if number > self.depth():
            self._local.depth = number

    def forked(self, depth: int, work: Callable[[], T]) -> tuple[T, int]:
        """Run `work` on this (worker) thread as a child of a caller at `depth`: its result and
        the depth it reached, for the caller to `seen` once it has waited for it."""
        saved = self.depth()
        self._local.depth = depth
        try:
            return work(), self.depth()
        finally:
            self._local.depth = saved


@runtime_checkable
class CountsRounds(Protocol):
    """A reader that counts sequential rounds (the live reader, a recording, a replay)."""

    @property
    def rounds(self) -> int:
        """The diagnosis' sequential rounds of requests so far."""
        ...


def rounds_of(reader: object) -> int | None:
    """The reader's sequential rounds, or None for a reader that does not count them."""
    if isinstance(reader, CountsRounds):
        return reader.rounds
    return None


__all__ = ["CountsRounds", "RoundClock", "rounds_of"]
