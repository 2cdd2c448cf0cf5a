"""What every AWS reader offers: live boto3, a recording, a replay, or a test double.

Entry points and checks depend on this protocol, not on boto3, so a bot or a report writer can
hand in a replay and be certain no request leaves the machine: passing anything that does not
satisfy it is a type error, never a silent fallback to live AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from ecsdoctor.errors import ReadError

T = TypeVar("T")


@runtime_checkable
class Reader(Protocol):
    """Read-only, memoised access to one account and region for one diagnosis."""

    @property
    def region(self) -> str:
        """The default region of every call."""
        ...

    @property
    def api_calls(self) -> int:
        """How many requests were sent so far (0 for a replay)."""
        ...

    @property
    def account(self) -> str | None:
        """The caller's account id, or None when it cannot be read."""
        ...

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """One allow-listed read ("ec2", "DescribeRouteTables", ...); raises ReadError."""
        ...

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        """Every item under `key` across all pages of one allow-listed read."""
        ...

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        """Run independent reads concurrently; a ReadError becomes that item's result."""
        ...

    def close(self) -> None:
        """Release threads and connections; answers already read stay available."""
        ...
