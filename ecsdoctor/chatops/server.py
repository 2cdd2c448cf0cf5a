"""`ecsdoctor serve`: Slack slash commands, a bearer-token JSON API and a health check over WSGI.

Every request is authenticated before anything else happens: Slack's signature (slack_sdk's
SignatureVerifier, which also refuses timestamps older than five minutes) or the API token. A
refused request costs no AWS call. Bodies are bounded, each diagnosis has a deadline, requests run
on their own threads, and the log holds method, path and status only, never a diagnosis.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ecsdoctor.chatops.config import Settings
from ecsdoctor.chatops.live import ReaderFactory, diagnose_saved_event
from ecsdoctor.chatops.messages import slack_escape, slack_message
from ecsdoctor.errors import AwsSetupError, EcsDoctorError, InputError, ReadError
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Diagnosis

log = logging.getLogger("ecsdoctor.serve")

#: A slash command payload is a few hundred bytes; an API request may carry one saved event.
MAX_SLACK_BODY = 16 * 1024
MAX_API_BODY = 1024 * 1024
#: Diagnoses running at once; further slash commands are told to retry instead of queueing.
MAX_RUNNING = 8
HELP = (
    "Usage: `/ecsdoctor diagnose <task-arn | cluster/service>` · "
    "`/ecsdoctor explain <message>` · `/ecsdoctor scan <cluster>` · `/ecsdoctor help`"
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class HttpError(Exception):
    """An answer other than 200, with a one-line reason."""

    def __init__(self, status: str, reason: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = list(headers)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed slash command."""

    verb: str  # diagnose | explain | scan | help
    argument: str


def parse_command(text: str) -> Command:
    """`diagnose X`, `explain MESSAGE`, `scan CLUSTER` or `help`; InputError otherwise."""
    verb, _, argument = text.strip().partition(" ")
    verb = verb.lower()
    argument = argument.strip()
    if verb in ("", "help"):
        return Command("help", "")
    if verb not in ("diagnose", "explain", "scan"):
        raise InputError(f"unknown command {verb[:30]!r}")
    if not argument:
        raise InputError(f"{verb} needs an argument")
    return Command(verb, argument)


class Backend:
    """The WSGI application and the diagnoses it runs."""

    def __init__(
        self,
        settings: Settings,
        knowledge: KnowledgeBase,
        readers: ReaderFactory | None,
        dispatch: Callable[[Command, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        self.readers = readers
        # Where an acknowledged slash command goes: a thread here (serve), or another invocation
        # of the same Lambda function behind a function URL (which stops when it answers).
        self.dispatch = dispatch
        # Diagnoses run on one pool; slash-command answers wait for them on another, so a full
        # pool of waiting answers can never starve the diagnoses they wait for.
        self._pool = ThreadPoolExecutor(max_workers=MAX_RUNNING, thread_name_prefix="diagnosis")
        self._answers = ThreadPoolExecutor(max_workers=MAX_RUNNING, thread_name_prefix="answer")
        self._slots = threading.BoundedSemaphore(MAX_RUNNING)
        self._verifier: Any = None
        if settings.slack_signing_secret:
            from slack_sdk.signature import SignatureVerifier

            self._verifier = SignatureVerifier(settings.slack_signing_secret)

    def close(self) -> None:
        """Stop taking diagnoses (those running finish on their own)."""
        self._answers.shutdown(wait=False, cancel_futures=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            status, body = self._route(environ)
            headers: list[tuple[str, str]] = []
        except HttpError as err:
            status, body, headers = err.status, {"error": err.reason}, err.headers
        data = json.dumps(body, ensure_ascii=False).encode()
        start_response(
            status,
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
                *headers,
            ],
        )
        return [data]

    def _route(self, environ: Mapping[str, Any]) -> tuple[str, Any]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        routes: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[str, Any]]]] = {
            "/healthz": ("GET", lambda _: ("200 OK", {"status": "ok"})),
            "/slack/commands": ("POST", self._slack),
            "/v1/diagnose": ("POST", self._api),
        }
        if path not in routes:
            raise HttpError("404 Not Found", "no such path")
        wanted, handler = routes[path]
        if method != wanted:
            raise HttpError("405 Method Not Allowed", f"use {wanted}", [("Allow", wanted)])
        return handler(environ)

    @staticmethod
    def _body(environ: Mapping[str, Any], limit: int) -> bytes:
        text = environ.get("CONTENT_LENGTH") or ""
        if not text.isdigit():
            raise HttpError("411 Length Required", "a Content-Length header is required")
        length = int(text)
        if length > limit:
            raise HttpError("413 Content Too Large", f"body larger than {limit} bytes")
        data: bytes = environ["wsgi.input"].read(length)
        if len(data) != length:
            raise HttpError("400 Bad Request", "body shorter than its Content-Length")
        return data

    # -- Slack -----------------------------------------------------------------------------

    def _slack(self, environ: Mapping[str, Any]) -> tuple[str, Any]:
        if self._verifier is None:
            raise HttpError("503 Service Unavailable", "SLACK_SIGNING_SECRET is not configured")
        body = self._body(environ, MAX_SLACK_BODY)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        try:
            valid = bool(self._verifier.is_valid(body, timestamp, signature))
        except (ValueError, TypeError, UnicodeDecodeError):
            valid = False
        if not valid:
            raise HttpError("401 Unauthorized", "missing, invalid or stale Slack signature")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
        settings = self.settings
        if settings.slack_teams and form.get("team_id") not in settings.slack_teams:
            return "200 OK", _ephemeral("ecsdoctor is not enabled for this workspace.")
        if settings.slack_channels and form.get("channel_id") not in settings.slack_channels:
            return "200 OK", _ephemeral("ecsdoctor is not enabled in this channel.")
        try:
            command = parse_command(form.get("text", ""))
        except InputError as err:
            return "200 OK", _ephemeral(f"{slack_escape(str(err))}. {HELP}")
        if command.verb == "help":
            return "200 OK", _ephemeral(HELP)
        url = form.get("response_url", "")
        if not url.startswith(settings.response_url_prefixes):
            raise HttpError("400 Bad Request", "response_url is not a Slack URL")
        try:
            job = self._job(command)
        except InputError as err:
            return "200 OK", _ephemeral(f"{slack_escape(str(err))}. {HELP}")
        shown = slack_escape(command.argument[:200])
        working = _ephemeral(f"Working on `{command.verb} {shown}`; the answer follows here.")
        if self.dispatch is not None:
            self.dispatch(command, url)
            return "200 OK", working
        if not self._slots.acquire(blocking=False):  # bounded: refuse rather than queue forever
            return "200 OK", _ephemeral("ecsdoctor is busy; try again in a minute.")
        try:
            self._answers.submit(self._answer_slack, job, url)
        except RuntimeError:
            self._slots.release()
            raise HttpError("503 Service Unavailable", "shutting down") from None
        return "200 OK", working

    def _answer_slack(self, job: Callable[[], Diagnosis], url: str) -> None:
        try:
            self._post_answer(job, url)
        except Exception as err:  # a worker thread must not die silently: say what, not what about
            log.error("slash command answer failed: %s", type(err).__name__)
        finally:
            self._slots.release()

    def answer(self, command: Command, url: str) -> None:
        """Run an acknowledged slash command now and post the answer to its response_url."""
        if not url.startswith(self.settings.response_url_prefixes):
            raise InputError("response_url is not a Slack URL")
        self._post_answer(self._job(command), url)

    def _post_answer(self, job: Callable[[], Diagnosis], url: str) -> None:
        """Run one slash command's diagnosis and post it to Slack's response_url."""
        from slack_sdk.webhook import WebhookClient

        from ecsdoctor.report.document import diagnosis_document

        try:
            diagnosis = self._within_deadline(job)
            payload: dict[str, Any] = {
                "response_type": "in_channel",
                **slack_message(diagnosis_document(diagnosis)),
            }
        except HttpError as err:
            payload = _ephemeral(slack_escape(err.reason))
        WebhookClient(url, timeout=10).send_dict(payload)

    def _within_deadline(self, job: Callable[[], Diagnosis]) -> Diagnosis:
        future: Future[Diagnosis] = self._pool.submit(job)
        try:
            return future.result(timeout=self.settings.deadline)
        except FutureTimeout:
            raise HttpError(
                "504 Gateway Timeout",
                f"the diagnosis took longer than {self.settings.deadline:.0f} s",
            ) from None
        except InputError as err:
            raise HttpError("400 Bad Request", str(err)[:300]) from None
        except (AwsSetupError, ReadError) as err:
            raise HttpError("502 Bad Gateway", f"AWS could not be read: {str(err)[:300]}") from None
        except EcsDoctorError as err:
            raise HttpError("500 Internal Server Error", str(err)[:300]) from None

    # -- the diagnoses ---------------------------------------------------------------------

    def _reader(self, account: str | None, region: str | None) -> Any:
        if self.readers is None:
            return None
        return self.readers(account, region)

    def _job(self, command: Command) -> Callable[[], Diagnosis]:
        """Validate the argument now (the user hears about a typo at once); run it later."""
        if command.verb == "explain":
            return self._explain(command.argument)
        if command.verb == "scan":
            from ecsdoctor.arn import parse_cluster_name

            return self._scan(parse_cluster_name(command.argument))
        target = command.argument
        if target.startswith("arn:") and ":task/" in target:
            return self._task(target)
        if target.startswith("arn:"):
            return self._service(target, None)
        cluster, slash, service = target.partition("/")
        if not slash:
            raise InputError("diagnose needs a task ARN or cluster/service")
        return self._service(service, cluster)

    def _explain(self, message: str) -> Callable[[], Diagnosis]:
        from ecsdoctor.ingest import parse_lines
        from ecsdoctor.offline import diagnose_document

        document = parse_lines([message[: 16 * 1024]], "message")
        return lambda: diagnose_document(document, self.knowledge)

    def _task(self, arn: str) -> Callable[[], Diagnosis]:
        from ecsdoctor.arn import parse_task_ref
        from ecsdoctor.diagnose import diagnose_task

        ref = parse_task_ref(arn)

        def run() -> Diagnosis:
            reader = self._reader(ref.account, ref.region)
            try:
                return diagnose_task(arn, reader=reader, knowledge=self.knowledge)
            finally:
                if reader is not None:
                    reader.close()

        return run

    def _service(self, service: str, cluster: str | None) -> Callable[[], Diagnosis]:
        from ecsdoctor.arn import parse_service_ref
        from ecsdoctor.scan import diagnose_service

        ref = parse_service_ref(service, cluster)

        def run() -> Diagnosis:
            reader = self._reader(ref.account, ref.region)
            try:
                return diagnose_service(
                    ref.name, cluster=ref.cluster, reader=reader, knowledge=self.knowledge
                )
            finally:
                if reader is not None:
                    reader.close()

        return run

    def _scan(self, cluster: str) -> Callable[[], Diagnosis]:
        from ecsdoctor.scan import scan_cluster

        def run() -> Diagnosis:
            reader = self._reader(None, None)
            try:
                return scan_cluster(cluster, reader=reader, knowledge=self.knowledge)
            finally:
                if reader is not None:
                    reader.close()

        return run

    def _event(self, event: Mapping[str, Any]) -> Callable[[], Diagnosis]:
        region = event.get("region") if isinstance(event.get("region"), str) else None
        account = event.get("account") if isinstance(event.get("account"), str) else None

        def run() -> Diagnosis:
            reader = self._reader(account, region)
            try:
                return diagnose_saved_event(
                    event, reader=reader, region=region, knowledge=self.knowledge
                )
            finally:
                if reader is not None:
                    reader.close()

        return run

    # -- JSON API --------------------------------------------------------------------------

    def _api(self, environ: Mapping[str, Any]) -> tuple[str, Any]:
        token = self.settings.api_token
        if not token:
            raise HttpError("404 Not Found", "the API is off: set ECSDOCTOR_API_TOKEN")
        given = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise HttpError(
                "401 Unauthorized",
                "missing or wrong bearer token",
                [("WWW-Authenticate", "Bearer")],
            )
        body = self._body(environ, MAX_API_BODY)
        try:
            request = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HttpError("400 Bad Request", "the body is not JSON") from None
        if not isinstance(request, dict):
            raise HttpError("400 Bad Request", "expected a JSON object")
        try:
            job = self._api_job(request)
        except InputError as err:
            raise HttpError("400 Bad Request", str(err)[:300]) from None
        from ecsdoctor.report.document import diagnosis_document

        return "200 OK", diagnosis_document(self._within_deadline(job))

    def _api_job(self, request: Mapping[str, Any]) -> Callable[[], Diagnosis]:
        if isinstance(request.get("task"), str):
            return self._task(request["task"])
        if isinstance(request.get("service"), str):
            cluster = request.get("cluster")
            return self._service(request["service"], cluster if isinstance(cluster, str) else None)
        if isinstance(request.get("event"), dict):
            return self._event(request["event"])
        if isinstance(request.get("message"), str):
            return self._explain(request["message"])
        raise InputError('expected {"task"}, {"service", "cluster"}, {"event"} or {"message"}')


def _ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow diagnosis never holds up a health check."""

    daemon_threads = True
    allow_reuse_address = True


class _Quiet(WSGIRequestHandler):
    """Log method, path and status only; time out clients that send too slowly."""

    timeout = 10

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.command, self.path.split("?", 1)[0][:200], code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: %s", (format % args)[:200])


def make_backend(
    settings: Settings,
    offline: bool = False,
    dispatch: Callable[[Command, str], None] | None = None,
) -> Backend:
    """The application with the shipped knowledge and live readers (role per account)."""
    from ecsdoctor.chatops.live import reader_factory
    from ecsdoctor.pipeline import load_knowledge

    readers = None if offline else reader_factory(settings.role_for)
    return Backend(settings, load_knowledge(), readers, dispatch)


def serve(
    backend: Backend, host: str, port: int, ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted."""
    server = make_server(host, port, backend, server_class=_Server, handler_class=_Quiet)
    try:
        if ready is not None:
            ready(f"http://{host}:{server.server_port}")
        server.serve_forever()
    finally:
        server.server_close()
        backend.close()
