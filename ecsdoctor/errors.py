"""Errors ecsdoctor raises on purpose: the CLI prints them as one line, never a traceback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class EcsDoctorError(Exception):
    """Base for every deliberate error; `exit_code` is what the CLI exits with."""

    exit_code = 2


class InputError(EcsDoctorError):
    """An input document, message or argument is unreadable, malformed or hostile."""


class KnowledgeError(EcsDoctorError):
    """A knowledge file is invalid; the message names the file, the entry and the field."""

    def __init__(self, path: str, entry: str | None, field: str | None, reason: str) -> None:
        where = path
        if entry:
            where += f": entry {entry!r}"
        if field:
            where += f": field {field!r}"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.entry = entry
        self.field = field
        self.reason = reason


class AwsSetupError(EcsDoctorError):
    """AWS cannot be used at all: no credentials, no region, or the subject itself is unreadable."""

    exit_code = 3


class ForbiddenOperation(EcsDoctorError):
    """A caller asked for an AWS operation outside the read-only allow-list: a bug, never sent."""

    exit_code = 3


class ReadError(EcsDoctorError):
    """One AWS read failed; checks turn it into a data gap instead of aborting the diagnosis."""

    exit_code = 3

    def __init__(self, permission: str, code: str, message: str) -> None:
        super().__init__(f"{permission}: {code}: {message}" if message else f"{permission}: {code}")
        self.permission = permission
        self.code = code
        self.message = message


class CallDenied(ReadError):
    """The caller lacks the IAM permission for this read; the message names that permission."""

    def __init__(self, permission: str, code: str, message: str) -> None:
        super().__init__(permission, code, message)
        self.args = (f"access denied ({code}): missing permission {permission}",)


class CallUnavailable(ReadError):
    """The read got no answer: throttled, unreachable, or not implemented by the endpoint."""


class ApiError(ReadError):
    """AWS answered with an error about the request itself (e.g. the resource does not exist)."""


class MalformedResponse(ApiError):
    """AWS (or what stands in for it) answered 200 with a body missing or mistyping a field.

    An ApiError so a check reports it as a data gap; its code, never a resource-specific one,
    keeps a check from reading it as "the resource does not exist".
    """

    def __init__(self, permission: str, message: str) -> None:
        super().__init__(permission, "MalformedResponse", message)

    @classmethod
    def require(cls, response: Mapping[str, object], key: str, permission: str, kind: type[T]) -> T:
        """`response[key]` when it is a `kind`, else this error: a gap in the data, not a crash."""
        value = response.get(key) if isinstance(response, Mapping) else None
        if value is None or not isinstance(value, kind):
            found = "missing" if value is None else f"a {type(value).__name__}"
            raise cls(permission, f"{key} is {found}, not a {kind.__name__}")
        return value
