"""Record every AWS answer of a run, and replay it later with no AWS access at all.

ECS forgets a stopped task about an hour after it stops; a recording keeps what the diagnosis
saw, so the same diagnosis (or incident report) can be regenerated after the tasks are gone,
attached to a ticket, or turned into a regression test. Answers are keyed like the live reader's
memo, so a replay answers exactly the questions the recorded run asked, failed reads included (a
replay reproduces the data gaps too). A recording is written redacted: environment values,
container commands, secret-looking strings and credentials are replaced before anything reaches
the disk, and `mask_accounts` swaps account ids for consistent stand-ins.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.rounds import rounds_of
from ecsdoctor.errors import (
    ApiError,
    CallDenied,
    CallUnavailable,
    EcsDoctorError,
    InputError,
    ReadError,
)
from ecsdoctor.redaction import redact

T = TypeVar("T")

SCHEMA = "ecsdoctor.recording/v1"
REDACTED = "REDACTED"

_ERRORS: dict[str, type[ReadError]] = {
    "CallDenied": CallDenied,
    "CallUnavailable": CallUnavailable,
    "ApiError": ApiError,
    "ReadError": ReadError,
}


class ReplayMissing(EcsDoctorError):
    """The replayed run asked AWS something the recording does not hold."""

    exit_code = 3


# -- redaction -----------------------------------------------------------------------------------

# Token shapes that are secrets wherever they appear (vendor prefixes are documented formats).
# Keys whose string value is a secret by name (AssumeRole credentials, connection passwords...).
_SECRET_KEY = re.compile(
    r"(?i)^(?:.*password|passwd|secret|.*secretaccesskey|.*secretkey|.*sessiontoken|.*apikey"
    r"|api_key|.*privatekey|private_key|.*authtoken|.*accesstoken|access_token|token)$"
)
_HEALTH_FORMS = frozenset({"CMD", "CMD-SHELL", "NONE"})


def redact_text(text: str) -> str:
    """`text` with credentials (URLs, keys, key=value secrets) and secret-shaped tokens replaced."""
    return redact(text)


def _health_command(command: Sequence[Any]) -> list[Any]:
    """Keep the form (CMD, CMD-SHELL) and the program each string runs; drop the arguments."""
    out: list[Any] = []
    for index, part in enumerate(command):
        if not isinstance(part, str) or (index == 0 and part in _HEALTH_FORMS):
            out.append(part)
        else:
            words = part.split()
            program = redact_text(words[0][:40]) if words else ""
            out.append(f"{program} {REDACTED}".strip() if len(words) > 1 else program)
    return out


def sanitize(value: Any, mask: Callable[[str], str] | None = None) -> Any:
    """A redacted deep copy of an AWS answer or ECS event: values go, names and shape stay.

    Environment values and container commands/entryPoints are replaced (their names and list
    lengths stay, so checks still see what is set); health-check commands keep their form and
    program; secret-named keys and every string pass through `redact_text`; `mask` (if any)
    rewrites account ids in every string, dictionary keys included.
    """

    def text(s: str) -> str:
        s = redact_text(s)
        return mask(s) if mask else s

    def walk(node: Any, key: str | None = None) -> Any:
        if isinstance(node, str):
            if key is not None and _SECRET_KEY.match(key):
                return REDACTED
            return text(node)
        if isinstance(node, Mapping):
            out: dict[Any, Any] = {}
            for k, v in node.items():
                name = text(k) if isinstance(k, str) else k
                if k in ("environment", "Environment") and isinstance(v, list):
                    out[name] = [_env_item(item, walk) for item in v]
                elif (
                    k in ("command", "entryPoint") and isinstance(v, list) and key != "healthCheck"
                ):
                    out[name] = [REDACTED if isinstance(p, str) else p for p in v]
                elif k == "command" and key == "healthCheck" and isinstance(v, list):
                    out[name] = _health_command(v)
                else:
                    out[name] = walk(v, k if isinstance(k, str) else None)
            return out
        if isinstance(node, list | tuple):
            return [walk(v, key) for v in node]
        return copy.deepcopy(node)

    return walk(value)


def _env_item(item: Any, walk: Callable[[Any, str | None], Any]) -> Any:
    """One environment entry with its value replaced (ECS spells it `value`, others `Value`)."""
    if isinstance(item, Mapping):
        values = [k for k in ("value", "Value") if k in item]
        kept = walk({k: v for k, v in item.items() if k not in values}, None)
        return {**kept, **dict.fromkeys(values, REDACTED)}
    return walk(item, None)


# -- account masking -----------------------------------------------------------------------------

_ARN_ACCOUNT = re.compile(r"\barn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):")
_REGISTRY_ACCOUNT = re.compile(r"(?<![0-9A-Za-z])(\d{12})\.dkr\.ecr")
_WHOLE_ACCOUNT = re.compile(r"^\d{12}$")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def account_ids(value: Any) -> set[str]:
    """Account ids named anywhere in `value`: in ARNs, ECR registry hosts, or as whole strings."""
    found: set[str] = set()
    for s in _strings(value):
        found.update(_ARN_ACCOUNT.findall(s))
        found.update(_REGISTRY_ACCOUNT.findall(s))
        if _WHOLE_ACCOUNT.match(s):
            found.add(s)
    return found


@dataclass(frozen=True, slots=True)
class AccountMask:
    """Real account id -> stand-in, applied to every string; the same id always maps the same."""

    mapping: Mapping[str, str]

    @classmethod
    def for_ids(cls, ids: set[str]) -> AccountMask:
        """Stand-ins 000000000001, 000000000002... in sorted order (nothing to reverse)."""
        return cls({real: f"{n:012d}" for n, real in enumerate(sorted(ids), start=1)})

    def __call__(self, text: str) -> str:
        if not self.mapping:
            return text
        pattern = "|".join(re.escape(k) for k in sorted(self.mapping))
        return re.sub(
            rf"(?<![0-9A-Za-z])(?:{pattern})(?![0-9A-Za-z])",
            lambda m: self.mapping[m.group(0)],
            text,
        )


# -- the file format -----------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    """JSON-safe form of a boto3 answer: datetimes and bytes tagged so they come back typed."""
    if isinstance(value, datetime):
        return {"$type": "datetime", "value": value.isoformat()}
    if isinstance(value, bytes | bytearray):
        return {"$type": "bytes", "value": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        encoded = {str(k): _encode(v) for k, v in value.items()}
        return {"$type": "map", "value": encoded} if "$type" in encoded else encoded
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get("$type")
        if tag == "datetime":
            return datetime.fromisoformat(value["value"])
        if tag == "bytes":
            return base64.b64decode(value["value"])
        if tag == "map":
            return {k: _decode(v) for k, v in value["value"].items()}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _canonical(params: Mapping[str, Any]) -> str:
    """The same canonical form as the live reader's memo key."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def _memo_key(
    kind: str, service: str, region: str, operation: str, key: str | None, params: Mapping[str, Any]
) -> tuple[str, ...]:
    head = (kind, service, region, operation)
    return (*head, *((key,) if kind == "pages" and key is not None else ()), _canonical(params))


def _describe(
    kind: str, service: str, region: str, operation: str, params: Mapping[str, Any]
) -> str:
    shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in sorted(params.items()))
    return f"{service}:{operation}({shown}) in {region}" + (
        " [all pages]" if kind == "pages" else ""
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str  # "call" | "pages"
    service: str
    region: str
    operation: str
    key: str | None  # the item key of a "pages" read
    params: Mapping[str, Any]
    response: Any = None
    error: ReadError | None = None

    @property
    def memo_key(self) -> tuple[str, ...]:
        return _memo_key(
            self.kind, self.service, self.region, self.operation, self.key, self.params
        )


# -- recording -----------------------------------------------------------------------------------


class RecordingReader:
    """A Reader that forwards to `inner` and keeps every answer and every failed read."""

    def __init__(self, inner: Reader, *, mask_accounts: bool = False) -> None:
        self.inner = inner
        self.mask_accounts = mask_accounts
        self._entries: dict[tuple[str, ...], _Entry] = {}
        self._lock = threading.Lock()
        self._account: str | None = None
        self.account_mask = AccountMask({})  # the mask of the last document() (tests compare)
        self.notes: dict[str, str] = {}  # run facts a replay needs, e.g. the report's "now"

    @property
    def region(self) -> str:
        """The inner reader's default region."""
        return self.inner.region

    @property
    def api_calls(self) -> int:
        """Requests the inner reader sent."""
        return self.inner.api_calls

    @property
    def rounds(self) -> int:
        """Sequential rounds of the inner reader's requests (0 when it does not count them)."""
        return rounds_of(self.inner) or 0

    @property
    def account(self) -> str | None:
        """The caller's account, remembered for the replay."""
        account = self.inner.account
        if account is not None:
            self._account = account
        return account

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Forward one read and record its answer (or its ReadError)."""
        kept = {k: v for k, v in params.items() if v is not None}
        entry = _Entry("call", service, region or self.region, operation, None, kept)
        try:
            answer = self.inner.call(service, operation, region=region, **params)
        except ReadError as err:
            self._keep(_with(entry, error=err))
            raise
        self._keep(_with(entry, response=answer))
        return answer

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        """Forward a paginated read and record the items (or its ReadError)."""
        kept = {k: v for k, v in params.items() if v is not None}
        entry = _Entry("pages", service, region or self.region, operation, key, kept)
        try:
            items = self.inner.pages(service, operation, key, region=region, **params)
        except ReadError as err:
            self._keep(_with(entry, error=err))
            raise
        self._keep(_with(entry, response=items))
        return items

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        """The inner reader's concurrency; the thunks read through this recorder."""
        return self.inner.parallel(thunks)

    def close(self) -> None:
        """Close the inner reader; the recording stays savable."""
        self.inner.close()

    def _keep(self, entry: _Entry) -> None:
        snapshot = _with(entry, response=copy.deepcopy(entry.response))
        with self._lock:
            self._entries.setdefault(entry.memo_key, snapshot)

    def document(self) -> dict[str, Any]:
        """The recording as the JSON document `save` writes (redacted, accounts masked if asked)."""
        with self._lock:
            entries = sorted(self._entries.values(), key=lambda e: e.memo_key)
        account = self._account
        mask: AccountMask | None = None
        if self.mask_accounts:
            ids: set[str] = {account} if account else set()
            for e in entries:
                ids |= account_ids(e.params) | account_ids(e.response)
                if e.error is not None:
                    ids |= account_ids(e.error.message)
            mask = AccountMask.for_ids(ids)
        self.account_mask = mask or AccountMask({})

        def clean(value: Any) -> Any:
            return sanitize(value, mask)

        rows = []
        for e in entries:
            row: dict[str, Any] = {
                "kind": e.kind,
                "service": e.service,
                "region": e.region,
                "operation": e.operation,
                "params": _encode(clean(e.params)),
            }
            if e.key is not None:
                row["key"] = e.key
            if e.error is not None:
                row["error"] = {
                    "type": type(e.error).__name__
                    if type(e.error).__name__ in _ERRORS
                    else "ReadError",
                    "permission": e.error.permission,
                    "code": e.error.code,
                    "message": clean(e.error.message),
                }
            else:
                row["response"] = _encode(clean(e.response))
            rows.append(row)
        return {
            "schema": SCHEMA,
            "region": self.region,
            "account": clean(account) if account else None,
            "api_calls": self.api_calls,
            "rounds": self.rounds,
            "masked_accounts": self.mask_accounts,
            "notes": {k: clean(v) for k, v in sorted(self.notes.items())},
            "entries": rows,
        }

    def save(self, path: Path | str) -> Path:
        """Write the redacted recording as JSON; returns the path written."""
        target = Path(path)
        text = json.dumps(self.document(), indent=1, sort_keys=True, ensure_ascii=False)
        try:
            target.write_text(text + "\n", encoding="utf-8")
        except OSError as err:
            raise InputError(
                f"{target}: cannot write the recording: {err.strerror or err}"
            ) from err
        return target


def _with(entry: _Entry, **changes: Any) -> _Entry:
    from dataclasses import replace

    return replace(entry, **changes)


# -- replay --------------------------------------------------------------------------------------


class ReplayReader:
    """A Reader that answers from a recording and never opens a connection.

    `api_calls` is the recorded run's request count, so a replayed diagnosis is the recorded one
    byte for byte; a question the recording does not hold raises ReplayMissing naming it.
    """

    def __init__(
        self,
        entries: Sequence[_Entry],
        *,
        region: str,
        account: str | None = None,
        api_calls: int = 0,
        source: str = "recording",
        rounds: int = 0,
    ) -> None:
        self._entries = {e.memo_key: e for e in entries}
        self._region = region
        self._account = account
        self._api_calls = api_calls
        self._rounds = rounds
        self.source = source
        self.notes: dict[str, str] = {}  # what the recorded run noted (see RecordingReader.notes)
        self.missing: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str) -> ReplayReader:
        """Read a recording written by RecordingReader.save; InputError when it is not one."""
        name = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise InputError(f"{name}: cannot read the recording: {err.strerror or err}") from err
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"{name}: not a recording (not JSON: {err})") from err
        return cls.from_document(data, name)

    @classmethod
    def from_document(cls, data: Any, name: str = "recording") -> ReplayReader:
        """A replay of a recording document already parsed from JSON."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f"{name}: not an ecsdoctor recording (schema {SCHEMA} expected)")
        entries: list[_Entry] = []
        try:
            for row in data["entries"]:
                error = None
                if "error" in row:
                    spec = row["error"]
                    kind = _ERRORS.get(str(spec["type"]), ReadError)
                    error = kind(str(spec["permission"]), str(spec["code"]), str(spec["message"]))
                entries.append(
                    _Entry(
                        kind=str(row["kind"]),
                        service=str(row["service"]),
                        region=str(row["region"]),
                        operation=str(row["operation"]),
                        key=row.get("key"),
                        params=_decode(row["params"]),
                        response=_decode(row.get("response")),
                        error=error,
                    )
                )
            region = str(data["region"])
        except (KeyError, TypeError, AttributeError, ValueError) as err:
            raise InputError(f"{name}: a damaged recording ({type(err).__name__}: {err})") from err
        account = data.get("account")
        replay = cls(
            entries,
            region=region,
            account=str(account) if account else None,
            api_calls=int(data.get("api_calls") or 0),
            source=name,
            rounds=int(data.get("rounds") or 0),
        )
        notes = data.get("notes") or {}
        if isinstance(notes, dict):
            replay.notes = {str(k): str(v) for k, v in notes.items()}
        return replay

    @property
    def region(self) -> str:
        """The recorded run's default region."""
        return self._region

    @property
    def api_calls(self) -> int:
        """The recorded run's request count (nothing is sent by a replay)."""
        return self._api_calls

    @property
    def rounds(self) -> int:
        """The recorded run's sequential rounds of requests."""
        return self._rounds

    @property
    def account(self) -> str | None:
        """The recorded caller account (masked if the recording was)."""
        return self._account

    def _answer(
        self,
        kind: str,
        service: str,
        operation: str,
        key: str | None,
        region: str | None,
        params: Mapping[str, Any],
    ) -> Any:
        kept = {k: v for k, v in params.items() if v is not None}
        where = region or self._region
        entry = self._entries.get(_memo_key(kind, service, where, operation, key, kept))
        if entry is None:
            described = _describe(kind, service, where, operation, kept)
            with self._lock:
                self.missing.append(described)
            raise ReplayMissing(
                f"{self.source} holds no answer for {described}: the replayed run asked "
                "something the recorded run did not (record it again with this version)"
            )
        if entry.error is not None:
            err = entry.error  # a fresh instance: a raised exception carries its traceback
            raise type(err)(err.permission, err.code, err.message)
        return copy.deepcopy(entry.response)

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """The recorded answer, or the recorded ReadError raised again."""
        answer: dict[str, Any] = self._answer("call", service, operation, None, region, params)
        return answer

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        """The recorded items, or the recorded ReadError raised again."""
        items: list[Any] = self._answer("pages", service, operation, key, region, params)
        return items

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        """In line and in order: nothing waits on the network."""
        out: list[T | ReadError] = []
        for thunk in thunks:
            try:
                out.append(thunk())
            except ReadError as err:
                out.append(err)
        return out

    def close(self) -> None:
        """Nothing to release."""


# -- what the CLI calls --------------------------------------------------------------------------


def open_reader_for(
    *,
    live: Callable[[], Reader],
    record: Path | str | None = None,
    replay: Path | str | None = None,
    mask_accounts: bool = False,
) -> Reader:
    """The reader for `--record FILE` / `--replay FILE`: a replay, a recorder, or `live()` itself.

    `live` is called only when AWS is needed, so a replay never builds a session.
    """
    if record is not None and replay is not None:
        raise InputError("--record and --replay exclude each other")
    if replay is not None:
        return ReplayReader.load(replay)
    if mask_accounts and record is None:
        raise InputError("--mask-accounts applies to --record only")
    inner = live()
    return RecordingReader(inner, mask_accounts=mask_accounts) if record is not None else inner


def save_recording(reader: Reader, record: Path | str | None) -> Path | None:
    """Write `reader`'s recording to `record` when it is a RecordingReader (else nothing)."""
    if record is None or not isinstance(reader, RecordingReader):
        return None
    return reader.save(record)


@contextmanager
def reader_scope(
    *,
    live: Callable[[], Reader],
    record: Path | str | None = None,
    replay: Path | str | None = None,
    mask_accounts: bool = False,
) -> Iterator[Reader]:
    """`open_reader_for` as a context: the recording is saved on the way out, even after an error
    (what was read up to the failure is what a bug report needs); the reader is closed."""
    reader = open_reader_for(live=live, record=record, replay=replay, mask_accounts=mask_accounts)
    try:
        yield reader
    finally:
        try:
            save_recording(reader, record)
        finally:
            reader.close()


__all__ = [
    "REDACTED",
    "SCHEMA",
    "AccountMask",
    "RecordingReader",
    "ReplayMissing",
    "ReplayReader",
    "account_ids",
    "open_reader_for",
    "reader_scope",
    "redact_text",
    "sanitize",
    "save_recording",
]
