"""The one way ecsdoctor talks to AWS: guarded, memoised, concurrent, read-only.

A diagnosis asks the same questions many times (every hypothesis wants the task's subnets), so
answers — and errors — are memoised per request. Every client carries a guard hook, so even code
that reaches for the raw boto3 client cannot send anything outside the allow-list.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeVar
from xml.etree import ElementTree

import boto3.session
import botocore.exceptions
import botocore.loaders
from botocore.config import Config
from botocore.exceptions import NoCredentialsError
from botocore.parsers import ResponseParserError

from ecsdoctor.aws.operations import is_allowed, permission_name
from ecsdoctor.aws.rate import RateLimit, operation_limits
from ecsdoctor.aws.rounds import RoundClock
from ecsdoctor.errors import (
    ApiError,
    AwsSetupError,
    CallDenied,
    CallUnavailable,
    ForbiddenOperation,
    InputError,
    MalformedResponse,
    ReadError,
)

T = TypeVar("T")

DEFAULT_DEADLINE = 60.0  # seconds for a whole diagnosis: an on-call engineer will not wait longer
DEADLINE_ENV = "ECSDOCTOR_DEADLINE"  # overrides DEFAULT_DEADLINE for live readers (0: none)
DEADLINE_EXCEEDED = "DeadlineExceeded"
CALL_LIMIT = 30.0  # seconds one call may take, retries included: 5 attempts fit with backoff
CALL_TIMED_OUT = "CallTimedOut"
# Requests in flight at once: a task diagnosis' widest wave of independent reads is about 20
# (ecsdoctor.snapshot), and each wave should cost one round trip, not three.
MAX_WORKERS = 24

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthorizationErrorException",
        "UnauthorizedException",
        "UnauthorizedAccess",
        "Forbidden",
        "ForbiddenException",
    }
)
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
UNAVAILABLE_CODES = frozenset(
    {
        "NotImplemented",
        "InvalidAction",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "UnknownOperationException",
        "UnknownOperation",
    }
)
# ClientError codes that mean the credentials, not the permission, are wrong: nothing will work.
CREDENTIAL_CODES: dict[str, str] = {
    "InvalidClientTokenId": "AWS rejected the access key (InvalidClientTokenId): check AWS_PROFILE "
    "or the configured keys",
    "UnrecognizedClientException": "AWS rejected the access key (UnrecognizedClientException): "
    "check AWS_PROFILE or the configured keys",
    "ExpiredToken": "AWS credentials have expired (ExpiredToken): refresh them "
    "(e.g. `aws sso login`) and retry",
    "ExpiredTokenException": "AWS credentials have expired (ExpiredTokenException): refresh them "
    "(e.g. `aws sso login`) and retry",
    "SignatureDoesNotMatch": "AWS rejected the request signature (SignatureDoesNotMatch): check "
    "the secret access key and the machine clock",
    "InvalidAccessKeyId": "AWS does not know this access key (InvalidAccessKeyId): check "
    "AWS_PROFILE or the configured keys",
    "RequestExpired": "AWS rejected the request as expired (RequestExpired): check the machine "
    "clock",
}
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE or run `aws configure`, or use `ecsdoctor demo`"
)
_REGION_SHAPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def translate_error(exc: BaseException, permission: str) -> BaseException:
    """Map a boto/moto exception to ReadError (one check fails) or AwsSetupError (all would).

    Anything unrecognised is returned unchanged, so genuine bugs still surface.
    """
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or type(exc).__name__)
        message = _one_line(str(error.get("Message") or ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in CREDENTIAL_CODES:
            return AwsSetupError(CREDENTIAL_CODES[code])
        if code in DENIED_CODES:
            return CallDenied(permission, code, message)
        if code in THROTTLED_CODES or code in UNAVAILABLE_CODES or status >= 500:
            return CallUnavailable(permission, code, message)
        return ApiError(permission, code, message)
    if isinstance(exc, NoCredentialsError | botocore.exceptions.NoAuthTokenError):
        return AwsSetupError(NO_CREDENTIALS)
    if isinstance(exc, botocore.exceptions.PartialCredentialsError):
        return AwsSetupError(f"incomplete AWS credentials ({exc}): fix the profile or environment")
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return AwsSetupError("no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, botocore.exceptions.ProfileNotFound):
        return AwsSetupError(f"{exc}: check AWS_PROFILE / --profile")
    if isinstance(
        exc,
        botocore.exceptions.TokenRetrievalError
        | botocore.exceptions.SSOError
        | botocore.exceptions.CredentialRetrievalError,
    ):
        return AwsSetupError(f"cannot obtain AWS credentials: {exc}")
    if isinstance(exc, NotImplementedError):
        return CallUnavailable(permission, "NotImplemented", "not implemented by this endpoint")
    if isinstance(
        exc,
        ResponseParserError
        | botocore.exceptions.ConnectionError
        | botocore.exceptions.HTTPClientError,
    ):
        return CallUnavailable(permission, type(exc).__name__, _one_line(str(exc)))
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        return ApiError(permission, "ParamValidationError", _one_line(str(exc)))
    if _raised_by_parser(exc):
        # A 200 whose body does not fit the operation's shape (a list where a structure belongs).
        return MalformedResponse(
            permission, f"the response does not fit the API ({type(exc).__name__}: {exc})"[:300]
        )
    if type(exc).__module__.startswith("urllib3"):
        # The connection broke while the body was read (urllib3 raises these unwrapped).
        return CallUnavailable(permission, type(exc).__name__, _one_line(str(exc)))
    return exc


def _raised_by_parser(exc: BaseException) -> bool:
    """True when botocore's response parser raised `exc`: bad data, not an ecsdoctor bug."""
    trace: TracebackType | None = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__") == "botocore.parsers":
            return True
        trace = trace.tb_next
    return False


def _one_line(text: str, limit: int = 300) -> str:
    """First line of an error text, bounded: errors are printed on one line, never as a dump."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    """Every region botocore knows in any partition (both of its data files, whichever is newer)."""
    loader = botocore.loaders.create_loader()
    regions: set[str] = set()
    for partition in loader.load_data("endpoints").get("partitions", []):
        regions.update(partition.get("regions", {}))
    try:
        for partition in loader.load_data("partitions").get("partitions", []):
            regions.update(partition.get("regions", {}))
    except botocore.exceptions.DataNotFoundError:  # pragma: no cover - older botocore
        pass
    return frozenset(regions)


def _custom_endpoint(session: boto3.session.Session, endpoint_url: str | None) -> bool:
    """True when requests go to a non-AWS endpoint (moto, LocalStack), which accept any region."""
    if endpoint_url:
        return True
    if any(name.startswith("AWS_ENDPOINT_URL") and value for name, value in os.environ.items()):
        return True
    try:
        scoped = session._session.get_scoped_config()
    except botocore.exceptions.BotoCoreError:
        return False
    return bool(scoped.get("endpoint_url"))


def validate_region(
    session: boto3.session.Session, region: str, *, endpoint_url: str | None = None
) -> str:
    """Reject a misspelt region up front, so the user sees "unknown region", not a DNS error."""
    if region in _known_regions():
        return region
    if _REGION_SHAPE.match(region) and _custom_endpoint(session, endpoint_url):
        return region
    raise InputError(f"unknown region {region!r}")


def open_session(profile: str | None = None, region: str | None = None) -> boto3.session.Session:
    """A boto3 Session for --profile/--region, with a missing profile reported as AwsSetupError."""
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.BotoCoreError as exc:
        translated = translate_error(exc, "session")
        if isinstance(translated, AwsSetupError):
            raise translated from None
        raise AwsSetupError(f"cannot open an AWS session: {exc}") from None


def _version() -> str:
    # Imported late: ecsdoctor/__init__ may import this module before defining __version__.
    try:
        from ecsdoctor import __version__

        return __version__
    except ImportError:  # pragma: no cover - partially initialised package
        return "0"


class _Ticket(Generic[T]):
    """One request on its I/O thread: its answer, or the fact that nobody waits for it any more.

    The slot of the concurrency bound is given back exactly once, by whichever comes first: the
    answer, or the caller giving up (an abandoned thread may still be blocked on a socket).
    """

    def __init__(self, permission: str, slots: threading.BoundedSemaphore) -> None:
        self.permission = permission
        self.done = threading.Event()
        self.abandoned = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self.attempts = 0  # requests sent for it, retries included
        self.round = 0  # its sequential round (ecsdoctor.aws.rounds), counted once it is sent
        self.sent = False
        self._slots = slots
        self._held = True
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._slots.release()

    def abandon(self) -> None:
        self.abandoned = True
        self.release()


class AwsReader:
    """All AWS reads of one diagnosis: allow-listed, memoised, counted, bounded, run concurrently.

    Faults cannot hold a diagnosis hostage: botocore's standard retry mode bounds the attempts,
    connect and read timeouts bound each socket wait, every call has a wall-clock cap (a server
    that dribbles a byte every few seconds never trips a read timeout), and past the `deadline`
    (seconds from construction, None for none) no request is sent and every read that would need
    one raises CallUnavailable(DeadlineExceeded), so the checks that wanted it become data gaps.
    """

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_workers: int = MAX_WORKERS,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_attempts: int = 5,
        call_limit: float | None = None,
        deadline: float | None = DEFAULT_DEADLINE,
        rate: RateLimit | None = None,
        action_rates: Mapping[str, RateLimit] | None = None,
    ) -> None:
        """`max_attempts` counts the first try; `call_limit` caps one call, retries included
        (by default 30 s, and at most half the deadline: one hung call must leave time for the
        reads that come after it). `rate` paces every attempt (ecsdoctor/aws/rate.py), and
        `action_rates` (by default rate.OPERATION_RATES while `rate` is set) single actions."""
        try:
            self.session = session or boto3.session.Session()
            chosen = region or self.session.region_name
        except botocore.exceptions.BotoCoreError as exc:
            translated = translate_error(exc, "session")
            raise (
                translated if isinstance(translated, AwsSetupError) else AwsSetupError(str(exc))
            ) from None
        if not chosen:
            raise AwsSetupError("no AWS region: pass --region or set AWS_REGION")
        self.endpoint_url = endpoint_url
        self.region: str = validate_region(self.session, chosen, endpoint_url=endpoint_url)
        self.api_calls = 0
        self.max_workers = max(1, max_workers)
        if call_limit is None:
            call_limit = CALL_LIMIT if deadline is None else min(CALL_LIMIT, max(deadline, 0) / 2)
        self.call_limit = call_limit
        self.deadline = deadline
        self.rate = rate
        # actions with a lower documented quota of their own (CloudTrail), paced while capped
        if action_rates is None:
            action_rates = operation_limits() if rate is not None else {}
        self._action_rates = dict(action_rates)
        self._expires = None if deadline is None else time.monotonic() + max(0.0, deadline)
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max(10, self.max_workers),
            user_agent_extra=f"ecsdoctor/{_version()}",
        )
        # The client-side bound on requests in flight, whichever thread sends them.
        self._slots = threading.BoundedSemaphore(self.max_workers)
        # Threads for `parallel` called from a worker (a service's task runs, each with waves).
        self._spare = threading.BoundedSemaphore(4 * self.max_workers)
        self._clients: dict[tuple[str, str], Any] = {}
        self._client_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._memo: dict[tuple[str, ...], Future[Any]] = {}
        self._memo_rounds: dict[tuple[str, ...], int] = {}  # the round each answer came in
        self._memo_lock = threading.Lock()
        self.clock = RoundClock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._local = threading.local()

    # -- clients ---------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None) -> Any:
        """The cached boto3 client for (service, region), with the allow-list guard attached."""
        region = self._region(region)
        key = (service, region)
        with self._client_lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            try:
                client = self.session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self.endpoint_url,
                    config=self._config,
                )
            except botocore.exceptions.BotoCoreError as exc:
                translated = translate_error(exc, service)
                if isinstance(translated, AwsSetupError):
                    raise translated from None
                raise
            events = client.meta.events
            events.register("provide-client-params", _guard(service), "ecsdoctor-guard")
            events.register_first("before-send", self._before_send, "ecsdoctor-count")
            events.register("before-parse", _check_body, "ecsdoctor-body")
            self._clients[key] = client
            return client

    def _before_send(self, **_: Any) -> None:
        """Runs before every attempt, retries included: refuse past the deadline, else count."""
        ticket: _Ticket[Any] | None = getattr(self._local, "ticket", None)
        permission = ticket.permission if ticket else "request"
        if ticket is not None and ticket.abandoned:
            raise CallUnavailable(permission, CALL_TIMED_OUT, "abandoned: nobody waits for it")
        if self.expired:
            raise self._deadline_error(permission)
        # The first attempt of a bounded call paid its token before its thread started; a retry
        # (or a request from a raw client, outside any call) pays here.
        if ticket is not None:
            ticket.attempts += 1
        if (ticket is None or ticket.attempts > 1) and not self._paced(permission):
            raise self._deadline_error(permission)
        with self._count_lock:
            self.api_calls += 1
        if ticket is not None and not ticket.sent:
            ticket.sent = True
            self.clock.sent(ticket.round)

    def _paced(self, permission: str) -> bool:
        """Wait for the rate cap's next token (and the action's own, if it has one); False if it
        would only come after the deadline."""
        action = self._action_rates.get(permission)
        if action is not None and not action.acquire(self._expires):
            return False
        return self.rate is None or self.rate.acquire(self._expires)

    def _region(self, region: str | None) -> str:
        if region is None or region == self.region:
            return self.region
        return validate_region(self.session, region, endpoint_url=self.endpoint_url)

    # -- time ------------------------------------------------------------------------------

    @property
    def expired(self) -> bool:
        """True once the diagnosis deadline has passed: no request is sent any more."""
        return self._expires is not None and time.monotonic() >= self._expires

    def _deadline_error(self, permission: str) -> CallUnavailable:
        return CallUnavailable(
            permission,
            DEADLINE_EXCEEDED,
            f"not read: the diagnosis deadline ({self.deadline:.1f} s) had passed",
        )

    def _bounded(self, permission: str, work: Callable[[], T]) -> T:
        """Run one request (botocore's retries included) on a daemon thread, and wait for it
        no longer than `call_limit` or the deadline, whichever comes first.

        Daemon, not a pool thread: a call abandoned on a dribbling socket must not keep the
        process alive at exit (concurrent.futures joins its workers then).
        """
        if not self._paced(permission):
            raise self._deadline_error(permission)
        started = time.monotonic()  # after the wait for a token: pacing is not the call's time
        limit = self.call_limit
        code = CALL_TIMED_OUT
        if self._expires is not None:
            left = self._expires - started
            if left <= 0:
                raise self._deadline_error(permission)
            if left < limit:
                limit, code = left, DEADLINE_EXCEEDED
        if not self._slots.acquire(timeout=limit):
            raise self._gave_up(permission, code, limit)
        ticket: _Ticket[T] = _Ticket(permission, self._slots)

        def run() -> None:
            self._local.ticket = ticket
            try:
                ticket.result = work()
            except BaseException as exc:  # handed to the waiting caller
                ticket.error = exc
            finally:
                ticket.release()
                ticket.done.set()

        ticket.round = self.clock.next_round()
        threading.Thread(target=run, name="ecsdoctor-call", daemon=True).start()
        waited = ticket.done.wait(max(0.0, limit - (time.monotonic() - started)))
        if ticket.sent:  # a last empty page asks nothing: no round
            self.clock.seen(ticket.round)
        if not waited:
            ticket.abandon()
            raise self._gave_up(permission, code, limit)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def _gave_up(self, permission: str, code: str, limit: float) -> CallUnavailable:
        if code == DEADLINE_EXCEEDED:
            return CallUnavailable(
                permission,
                code,
                f"no answer before the diagnosis deadline ({self.deadline:.1f} s)",
            )
        return CallUnavailable(permission, code, f"no answer within {limit:.1f} s")

    # -- reads -----------------------------------------------------------------------------

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """One API call ("ec2", "DescribeRouteTables", Filters=[...]); None-valued params dropped.

        Raises ReadError for a failed read, AwsSetupError when credentials are unusable.
        """
        permission = _check(service, operation)
        region = self._region(region)
        params = {k: v for k, v in params.items() if v is not None}
        key = ("call", service, region, operation, _canonical(params))
        # Built here, not on the I/O thread: loading a service model is not the network's time.
        method = getattr(self.client(service, region), _method_name(operation))

        def send() -> dict[str, Any]:
            try:
                result: dict[str, Any] = method(**params)
            except Exception as exc:
                _reraise(exc, permission)
            return result

        result: dict[str, Any] = self._memoised(key, lambda: self._bounded(permission, send))
        return result

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        """Every item under `key` across all pages; one call when the operation cannot paginate.

        Each page is one bounded request, so a long listing is not cut short by `call_limit`.
        """
        permission = _check(service, operation)
        region = self._region(region)
        params = {k: v for k, v in params.items() if v is not None}
        memo_key = ("pages", service, region, operation, key, _canonical(params))

        def gather() -> list[Any]:
            client = self.client(service, region)
            method = _method_name(operation)
            if not client.can_paginate(method):
                return list(self.call(service, operation, region=region, **params).get(key, []))
            pager = iter(client.get_paginator(method).paginate(**params))

            def next_page() -> dict[str, Any] | None:
                try:
                    page: dict[str, Any] | None = next(pager, None)
                except Exception as exc:
                    _reraise(exc, permission)
                return page

            items: list[Any] = []
            while (page := self._bounded(permission, next_page)) is not None:
                found = page.get(key) or []
                if not isinstance(found, list):
                    raise MalformedResponse(permission, f"{key} is not a list")
                items.extend(found)
            return items

        result: list[Any] = self._memoised(memo_key, gather)
        return result

    def _memoised(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """Single-flight memo: the first asker sends, concurrent askers wait for its answer.

        Answers read before the deadline are still returned after it: no request is needed.
        """
        with self._memo_lock:
            future = self._memo.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._memo[key] = future
        if owner:
            try:
                answer = compute()
            except Exception as exc:
                self._memo_rounds[key] = self.clock.depth()
                future.set_exception(exc)
            except BaseException:
                with self._memo_lock:  # an interrupt is not an answer; let a retry ask again
                    self._memo.pop(key, None)
                future.cancel()
                raise
            else:
                self._memo_rounds[key] = self.clock.depth()
                future.set_result(answer)
        try:
            # Copies, so a caller that edits a response cannot change what the next caller sees.
            return copy.deepcopy(future.result())
        finally:
            self.clock.seen(self._memo_rounds.get(key, 0))

    @property
    def rounds(self) -> int:
        """Sequential rounds of requests so far (see `ecsdoctor.aws.rounds`)."""
        return self.clock.rounds

    @property
    def account(self) -> str | None:
        """The caller's account id (sts GetCallerIdentity), or None if it cannot be read."""
        try:
            account = self.call("sts", "GetCallerIdentity").get("Account")
        except (ReadError, AwsSetupError):
            return None
        return str(account) if account else None

    # -- concurrency -----------------------------------------------------------------------

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        """Run independent reads concurrently; a ReadError becomes that item, others propagate.

        Called from inside a worker, the thunks run on threads of their own (waiting on the same
        bounded pool from one of its own threads could deadlock), as many as a spare budget
        allows and the rest in line; requests stay bounded by the same slots either way.
        """
        if len(thunks) <= 1:
            return [self._capture(thunk) for thunk in thunks]
        depth = self.clock.depth()
        if getattr(self._local, "in_worker", False):
            return self._nested(thunks, depth)
        pool = self._executor()
        futures = [pool.submit(self._in_worker, thunk, depth) for thunk in thunks]
        results: list[T | ReadError] = []
        for future in futures:
            result, reached = future.result()
            self.clock.seen(reached)
            results.append(result)
        return results

    def _nested(self, thunks: Sequence[Callable[[], T]], depth: int) -> list[T | ReadError]:
        """`parallel` from a worker: the last item in line, the others on spare threads."""
        outcomes: list[tuple[T | ReadError, int] | BaseException | None] = [None] * len(thunks)

        def run(index: int) -> None:
            try:
                outcomes[index] = self._in_worker(thunks[index], depth)
            except BaseException as exc:  # handed to the waiting caller
                outcomes[index] = exc
            finally:
                self._spare.release()

        threads: list[threading.Thread] = []
        for index in range(len(thunks) - 1):
            if not self._spare.acquire(blocking=False):
                break
            thread = threading.Thread(target=run, args=(index,), name="ecsdoctor-nested")
            thread.daemon = True
            thread.start()
            threads.append(thread)
        inline = thunks[len(threads) :]
        if len(inline) == 1:  # concurrent with the spawned ones: it starts at the caller's depth
            last, reached = self.clock.forked(depth, lambda: self._capture(inline[0]))
            tail: list[T | ReadError] = [last]
        else:  # the budget ran out: these run one after the other, and count so
            tail, reached = [self._capture(t) for t in inline], 0
        for thread in threads:
            thread.join()
        spawned: list[T | ReadError] = []
        for outcome in outcomes[: len(threads)]:
            if isinstance(outcome, BaseException):
                raise outcome
            assert outcome is not None
            result, deepest = outcome
            self.clock.seen(deepest)
            spawned.append(result)
        self.clock.seen(reached)
        return [*spawned, *tail]

    def _in_worker(self, thunk: Callable[[], T], depth: int) -> tuple[T | ReadError, int]:
        self._local.in_worker = True
        try:
            return self.clock.forked(depth, lambda: self._capture(thunk))
        finally:
            self._local.in_worker = False

    @staticmethod
    def _capture(thunk: Callable[[], T]) -> T | ReadError:
        try:
            return thunk()
        except ReadError as exc:
            return exc

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="ecsdoctor")
            return self._pool

    def close(self) -> None:
        """Stop the worker threads (each waits at most one bounded call); the memo stays."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def __enter__(self) -> AwsReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _guard(service: str) -> Callable[..., None]:
    """A provide-client-params hook refusing any operation outside the allow-list, unsent."""

    def guard(model: Any = None, **_: Any) -> None:
        operation = getattr(model, "name", "?")
        _check(service, operation)

    return guard


def _check_body(operation_model: Any = None, response_dict: Any = None, **_: Any) -> None:
    """A 2xx body must be a JSON object (JSON protocols) or well-formed XML (query protocols).

    botocore reads a truncated or non-JSON body as an empty answer, which a check would take for
    "nothing there" (no such repository); and its parse error for XML cannot tell a broken 200
    from a 5xx error page. Either way the read is a MalformedResponse, never a finding.
    """
    if operation_model is None or not isinstance(response_dict, dict):
        return
    if not 200 <= int(response_dict.get("status_code") or 0) < 300:
        return
    if operation_model.has_streaming_output:
        return
    body = response_dict.get("body") or b""
    protocol = operation_model.service_model.protocol
    problem: str | None = None
    if protocol in ("json", "rest-json"):
        try:
            # An operation with an output always answers at least "{}"; nothing at all is a cut.
            document = json.loads(body) if body or operation_model.output_shape else {}
        except ValueError:
            document = None
        if not isinstance(document, dict):
            problem = "is not a JSON object"
    elif protocol in ("query", "ec2") and body:
        try:
            ElementTree.fromstring(body)
        except ElementTree.ParseError:
            problem = "is not well-formed XML"
    if problem:
        permission = permission_name(
            operation_model.service_model.service_name, operation_model.name
        )
        raise MalformedResponse(permission, f"the body {problem}: {bytes(body[:60])!r}")


def _session_guard(model: Any = None, **_: Any) -> None:
    """The guard for every client of a session, whichever service it was built for."""
    service = getattr(getattr(model, "service_model", None), "service_name", "?")
    _check(str(service), getattr(model, "name", "?"))


def _check(service: str, operation: str) -> str:
    """The IAM permission for the call, or ForbiddenOperation before anything is built."""
    permission = permission_name(service, operation)
    if not is_allowed(permission):
        raise ForbiddenOperation(f"refusing {permission}: not on ecsdoctor's read-only allow-list")
    return permission


def _method_name(operation: str) -> str:
    return botocore.xform_name(operation)


def _reraise(exc: Exception, permission: str) -> NoReturn:
    """Raise the translated form of `exc`, keeping the original as the cause for debugging."""
    translated = translate_error(exc, permission)
    if translated is exc:
        raise exc
    raise translated from exc


def _canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def assume_role_session(
    base: boto3.session.Session,
    role_arn: str,
    region: str | None = None,
    *,
    endpoint_url: str | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
) -> boto3.session.Session:
    """A Session on `role_arn`'s temporary credentials (for --role-arn), guarded itself.

    The AssumeRole call goes through a guarded reader, and every client the returned session
    will ever build carries the allow-list guard: it cannot run a task or read a secret, even in
    code that bypasses AwsReader.
    """
    if not _ROLE_ARN.match(role_arn):
        raise InputError(f"not an IAM role ARN: {role_arn!r}")
    with AwsReader(base, region=region, endpoint_url=endpoint_url, deadline=deadline) as reader:
        try:
            response = reader.call(
                "sts", "AssumeRole", RoleArn=role_arn, RoleSessionName="ecsdoctor"
            )
        except ReadError as exc:
            reason = f"{exc.code}: {exc.message}" if exc.message else exc.code
            raise AwsSetupError(f"cannot assume role {role_arn}: {reason}") from None
        chosen_region = reader.region
    credentials = response.get("Credentials")
    if not isinstance(credentials, dict) or not credentials.get("AccessKeyId"):
        raise AwsSetupError(f"cannot assume role {role_arn}: AssumeRole returned no credentials")
    return guarded_session(
        boto3.session.Session(
            aws_access_key_id=credentials.get("AccessKeyId"),
            aws_secret_access_key=credentials.get("SecretAccessKey"),
            aws_session_token=credentials.get("SessionToken"),
            region_name=chosen_region,
        )
    )


def guarded_session(session: boto3.session.Session) -> boto3.session.Session:
    """`session`, with the allow-list guard on every client it builds from now on."""
    session.events.register("provide-client-params", _session_guard, "ecsdoctor-session-guard")
    return session
