"""An in-memory Reader for table tests: canned answers, and a loud failure for any other read.

Answers are keyed by (service, operation) and optionally narrowed by region and by parameters
(a rule matches when every parameter it names is sent with that value). A read no rule answers
is recorded in `unexpected` and raises AssertionError naming it, so a table test also pins what
each check reads; a check's runner turns that error into an internal-error verdict, which is why
the table helper asserts `unexpected == []` too. Like the live reader, a read outside the
read-only allow-list is refused before anything else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ecsdoctor.aws.operations import is_allowed, permission_name
from ecsdoctor.errors import CallDenied, ForbiddenOperation, ReadError

T = TypeVar("T")
Answer = Mapping[str, Any] | ReadError


@dataclass(frozen=True, slots=True)
class Rule:
    """One canned answer and what a request must carry to get it."""

    answer: Answer
    region: str | None
    params: Mapping[str, Any]

    def matches(self, region: str, params: Mapping[str, Any]) -> bool:
        if self.region is not None and self.region != region:
            return False
        return all(k in params and params[k] == v for k, v in self.params.items())


@dataclass
class FakeReader:
    """Satisfies ecsdoctor.aws.protocol.Reader without boto3, moto or a network."""

    default_region: str
    caller_account: str | None = None
    rules: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    # -- the canned answers ------------------------------------------------------------------
    def on(
        self,
        service: str,
        operation: str,
        answer: Answer,
        *,
        region: str | None = None,
        **params: Any,
    ) -> FakeReader:
        """Answer `service.operation` (sent with at least `params`, in `region`) with `answer`.

        The rule added last wins, so a row can build a working world and then break one read.
        """
        self.rules.setdefault((service, operation), []).insert(0, Rule(answer, region, params))
        return self

    def deny(self, service: str, operation: str, **params: Any) -> FakeReader:
        """The caller lacks the IAM permission for this read (AccessDenied)."""
        return self.on(service, operation, denied(service, operation), **params)

    # -- Reader -------------------------------------------------------------------------------
    @property
    def region(self) -> str:
        return self.default_region

    @property
    def api_calls(self) -> int:
        return len(self.calls)

    @property
    def account(self) -> str | None:
        return self.caller_account

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        permission = permission_name(service, operation)
        if not is_allowed(permission):
            self.unexpected.append(f"forbidden {permission}")
            raise ForbiddenOperation(f"refusing {permission}: not on the read-only allow-list")
        where = region or self.default_region
        sent = {k: v for k, v in params.items() if v is not None}
        self.calls.append(permission)
        for rule in self.rules.get((service, operation), []):
            if rule.matches(where, sent):
                if isinstance(rule.answer, ReadError):
                    raise rule.answer
                return copy.deepcopy(dict(rule.answer))
        shown = f"{permission} in {where} with {sent}"
        self.unexpected.append(shown)
        raise AssertionError(f"unexpected read: {shown}")

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        return list(self.call(service, operation, region=region, **params).get(key, []))

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        out: list[T | ReadError] = []
        for thunk in thunks:
            try:
                out.append(thunk())
            except ReadError as err:
                out.append(err)
        return out

    def close(self) -> None:
        return None


def denied(service: str, operation: str) -> CallDenied:
    """The error the live reader raises for a denied read.

    The message follows the documented AccessDenied form ("User: ARN is not authorized to perform:
    ACTION on resource: ... with an explicit deny in an identity-based policy: ..."), quoted from
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html
    """
    permission = permission_name(service, operation)
    return CallDenied(
        permission,
        "AccessDeniedException",
        "User: arn:aws:sts::111122223333:assumed-role/ecsdoctor-readonly/oncall is not authorized "
        f"to perform: {permission} on resource: * with an explicit deny in an identity-based "
        "policy: arn:aws:iam::111122223333:policy/DenyDiagnosticReads",
    )
