"""A fault-injecting HTTP proxy for moto's server: AWS misbehaving, on purpose and reproducibly.

Point `AWS_ENDPOINT_URL` at `FaultProxy(upstream).url` and every request passes through here on
its way to moto. Each request is named as IAM names it ("ecs:DescribeTasks": the SigV4 signing
name plus the X-Amz-Target or Action), and the first `Fault` whose targets match may answer in
its place: an AWS error in the protocol's own format (throttling, 5xx, AccessDenied, an unknown
operation), a delay (a slow call, or fixed latency for a benchmark), a reset connection, a
malformed or truncated body, or the real body dribbled one byte at a time.

Which requests a fault hits is decided by a seeded hash of the request itself and how many
times that request was seen, never by arrival order: a run with concurrent calls is
reproducible, and a retry of a throttled request gets a fresh draw, as against AWS.
"""

from __future__ import annotations

import fnmatch
import hashlib
import http.client
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# -- what a fault does ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Error:
    """Answer with an AWS error (code and message), formatted for the request's protocol."""

    status: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait, then forward: a slow call, a hung one (longer than any timeout), or fixed latency."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Reset:
    """Close the connection with a TCP reset before answering."""


@dataclass(frozen=True, slots=True)
class Replace:
    """Answer with this body instead of moto's (a wrongly typed or truncated document, or the
    HTML page moto's server sends for an operation it does not implement)."""

    body: bytes
    status: int = 200
    content_type: str | None = None  # None: the protocol's own


@dataclass(frozen=True, slots=True)
class CutShort:
    """Forward, announce the full Content-Length, send only `keep` bytes, then close."""

    keep: int = 20


@dataclass(frozen=True, slots=True)
class Dribble:
    """Forward, then send moto's body one byte every `interval` seconds (no read timeout fires)."""

    interval: float = 1.0


Action = Error | Delay | Reset | Replace | CutShort | Dribble


def access_denied(action: str) -> Error:
    """AccessDenied as AWS words it (format of the AccessDeniedException quoted in
    ministryofjustice/modernisation-platform-environments#10067 and, for EC2, the
    UnauthorizedOperation quoted in hashicorp/terraform-provider-aws#34234)."""
    service, _, _ = action.partition(":")
    user = "arn:aws:sts::123456789012:assumed-role/ecsdoctor-read/ecsdoctor"
    message = (
        f"User: {user} is not authorized to perform: {action} on resource: * because no "
        f"identity-based policy allows the {action} action"
    )
    if service == "ec2":
        return Error(403, "UnauthorizedOperation", f"You are not authorized to perform this "
                     f"operation. User: {user} is not authorized to perform: {action} because no "
                     f"identity-based policy allows the {action} action")  # fmt: skip
    if service in ("iam", "sts", "elasticloadbalancing"):
        return Error(403, "AccessDenied", message)
    return Error(400, "AccessDeniedException", message)


# Common errors of every AWS API, worded as in AWS's "Common Errors" reference
# (https://docs.aws.amazon.com/autoscaling/plans/APIReference/CommonErrors.html).
THROTTLING = Error(400, "ThrottlingException", "The request was denied due to request throttling.")
INTERNAL_FAILURE = Error(
    500,
    "InternalFailure",
    "The request processing has failed because of an unknown error, exception or failure.",
)
SERVICE_UNAVAILABLE = Error(
    503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
)
# What an endpoint answers for an operation it does not have (a JSON service; query: InvalidAction).
UNKNOWN_OPERATION = Error(400, "UnknownOperationException", "")


# -- which requests it hits -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """What the proxy knows of one request."""

    service: str  # SigV4 signing name: "ecs", "ec2", "elasticloadbalancing"...
    operation: str  # "DescribeTasks"
    protocol: str  # "json" | "ec2" | "query"
    body: bytes
    attempt: int  # 1 the first time this exact request is seen, 2 for its first retry...

    @property
    def action(self) -> str:
        """The IAM action: "ecs:DescribeTasks"."""
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour: what it does, to which actions ("ec2:*"), to how many requests."""

    action: Action
    targets: tuple[str, ...] = ("*",)
    rate: float = 1.0  # the fraction of matching requests hit, drawn by a seeded hash
    seed: int = 0
    first: int | None = None  # only the first N matching requests overall (a burst)
    attempts: int | None = None  # only the first N attempts of each request (retries pass)
    _hits: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    def hits_target(self, action: str) -> bool:
        """Whether `action` ("ecs:DescribeTasks") is one this fault may hit."""
        return any(fnmatch.fnmatchcase(action, t) for t in self.targets)

    def hits(self, request: Request) -> bool:
        """Whether this fault answers `request` (counts it toward `first` if so)."""
        if not self.hits_target(request.action):
            return False
        if self.attempts is not None and request.attempt > self.attempts:
            return False
        if self.rate < 1.0:
            digest = hashlib.sha256(
                f"{self.seed}|{request.action}|{request.attempt}|".encode() + request.body
            ).digest()
            if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
                return False
        if self.first is not None:
            if self._hits[0] >= self.first:
                return False
            self._hits[0] += 1
        return True


@dataclass(frozen=True, slots=True)
class Record:
    """One request the proxy saw, when, and what it did with it ("forwarded" or the fault)."""

    at: float  # time.monotonic()
    action: str
    attempt: int
    outcome: str


# -- the proxy --------------------------------------------------------------------------------------

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_SKIPPED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class _QuietServer(ThreadingHTTPServer):
    """Daemon threads, and no traceback when a client hangs up mid-answer: that is the test."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 in front of `upstream`, applying `faults` in order.

    `latency` is added to every request (a benchmark's fixed network delay). `log` lists what
    happened to each request. Faults can be swapped between runs with `set_faults`.
    """

    def __init__(
        self, upstream: str, faults: Sequence[Fault] = (), *, latency: float = 0.0
    ) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.latency = latency
        self.log: list[Record] = []
        self._faults: tuple[Fault, ...] = tuple(faults)
        self._seen: dict[bytes, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL to give the client."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def set_faults(self, faults: Sequence[Fault], *, latency: float | None = None) -> None:
        """Replace the faults (and the latency), and forget the requests seen so far."""
        with self._lock:
            self._faults = tuple(faults)
            self._seen.clear()
            self.log.clear()
            if latency is not None:
                self.latency = latency

    def start(self) -> FaultProxy:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; dribbling answers stop at their next byte."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def outcomes(self, action: str | None = None) -> list[str]:
        """What happened to each request (of one action), in arrival order."""
        with self._lock:
            return [r.outcome for r in self.log if action is None or r.action == action]

    # -- per request ---------------------------------------------------------------------------

    def _classify(self, method: str, headers: dict[str, str], body: bytes, path: str) -> Request:
        scope = _SCOPE.search(headers.get("authorization", ""))
        service = scope.group(1) if scope else "?"
        target = headers.get("x-amz-target", "")
        if target:
            operation, protocol = target.rsplit(".", 1)[-1], "json"
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            operation = (form.get("Action") or [f"{method} {path}"])[0]
            protocol = "ec2" if service == "ec2" else "query"
        key = hashlib.sha256(f"{service}|{operation}|".encode() + body).digest()
        with self._lock:
            attempt = self._seen.get(key, 0) + 1
            self._seen[key] = attempt
        return Request(service, operation, protocol, body, attempt)

    def _choose(self, request: Request) -> Action | None:
        with self._lock:
            faults = self._faults
        for fault in faults:
            if fault.hits(request):
                return fault.action
        return None

    def _record(self, request: Request, outcome: str) -> None:
        with self._lock:
            self.log.append(Record(time.monotonic(), request.action, request.attempt, outcome))

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k not in _SKIPPED}
            sent["Host"] = headers.get("host", "")
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            payload = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _SKIPPED]
            return answer.status, kept, payload
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # quiet
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def do_HEAD(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = proxy._classify(self.command, headers, body, self.path)
                if proxy.latency:
                    time.sleep(proxy.latency)
                action = proxy._choose(request)
                proxy._record(request, type(action).__name__ if action else "forwarded")
                if isinstance(action, Reset):
                    self._reset()
                    return
                if isinstance(action, Error):
                    self._error(request, action)
                    return
                if isinstance(action, Replace):
                    kind = action.content_type or _content_type(request)
                    self._send(action.status, [("Content-Type", kind)], action.body)
                    return
                if isinstance(action, Delay) and proxy._stopping.wait(action.seconds):
                    return
                status, kept, payload = proxy._forward(self.command, self.path, headers, body)
                if isinstance(action, CutShort):
                    self._send(status, kept, payload[: action.keep], announced=len(payload))
                    self.close_connection = True
                elif isinstance(action, Dribble):
                    self._dribble(status, kept, payload, action.interval)
                else:
                    self._send(status, kept, payload)

            def _send(
                self,
                status: int,
                headers: list[tuple[str, str]],
                payload: bytes,
                announced: int | None = None,
            ) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header(
                    "Content-Length", str(len(payload) if announced is None else announced)
                )
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

            def _dribble(
                self, status: int, headers: list[tuple[str, str]], payload: bytes, interval: float
            ) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.close_connection = True
                try:
                    for byte in _bytes(payload):
                        self.wfile.write(byte)
                        self.wfile.flush()
                        if proxy._stopping.wait(interval):
                            return
                except OSError:  # the client gave up: that is the point
                    return

            def _reset(self) -> None:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()

            def _error(self, request: Request, error: Error) -> None:
                payload, content_type = _error_body(request, error)
                self._send(error.status, [("Content-Type", content_type)], payload)

        return Handler


def _bytes(payload: bytes) -> Iterator[bytes]:
    for index in range(len(payload)):
        yield payload[index : index + 1]


def _content_type(request: Request) -> str:
    return "application/x-amz-json-1.1" if request.protocol == "json" else "text/xml"


def _error_body(request: Request, error: Error) -> tuple[bytes, str]:
    """The error document each protocol uses (JSON `__type`; EC2's and the query XML)."""
    code = error.code
    if request.protocol != "json":
        code = {
            "ThrottlingException": "RequestLimitExceeded" if request.protocol == "ec2" else "Throttling",
            "UnknownOperationException": "InvalidAction",
        }.get(code, code)  # fmt: skip
    message = error.message or (
        f"The action {request.operation} is not valid for this web service."
        if code == "InvalidAction"
        else ""
    )
    if request.protocol == "json":
        document = {"__type": code, "message": message} if message else {"__type": code}
        return json.dumps(document).encode(), "application/x-amz-json-1.1"
    text = _xml_escape(message)
    if request.protocol == "ec2":
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{text}</Message></Error></Errors><RequestID>fault-proxy</RequestID>"
            "</Response>"
        )
    else:
        kind = "Receiver" if error.status >= 500 else "Sender"
        xml = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{text}"
            "</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
        )
    return xml.encode(), "text/xml"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
