"""The same Slack app and API on AWS Lambda behind a function URL (`ecsdoctor.chatops.http_handler`).

A function stops running when it answers, and Slack wants its answer within 3 seconds, so a slash
command is verified and acknowledged by one invocation, which hands the command to a second,
asynchronous invocation of the same function (Slack Bolt's "lazy listener" pattern); that one
diagnoses and posts to the command's response_url. The API and the health check are answered in
the first invocation, as `ecsdoctor serve` answers them.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Mapping
from typing import Any

from ecsdoctor.chatops.config import Settings
from ecsdoctor.chatops.server import Backend, Command, make_backend

#: Key of the asynchronous self-invocation's payload.
DEFERRED = "ecsdoctor_slash_command"


class SelfInvoker:
    """Invokes this very function asynchronously, and nothing else: a client of its own."""

    def __init__(self, function_name: str, client: Any = None) -> None:
        import boto3

        self.function_name = function_name
        self._client = client or boto3.session.Session().client("lambda")

    def __call__(self, command: Command, response_url: str) -> None:
        payload = {
            DEFERRED: {
                "verb": command.verb,
                "argument": command.argument,
                "response_url": response_url,
            }
        }
        self._client.invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )


def wsgi_environ(event: Mapping[str, Any]) -> dict[str, Any]:
    """A WSGI environ from a function URL (payload format 2.0) request."""
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    http = (event.get("requestContext") or {}).get("http") or {}
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(http.get("method", "GET")).upper(),
        "PATH_INFO": str(event.get("rawPath") or http.get("path") or "/"),
        "QUERY_STRING": str(event.get("rawQueryString") or ""),
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    for name, value in (event.get("headers") or {}).items():
        key = str(name).upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = str(value)
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = str(value)
    return environ


def handle_http(event: Mapping[str, Any], backend: Backend) -> dict[str, Any]:
    """One function URL request, or one deferred slash command."""
    deferred = event.get(DEFERRED)
    if isinstance(deferred, Mapping):
        command = Command(str(deferred.get("verb", "")), str(deferred.get("argument", "")))
        backend.answer(command, str(deferred.get("response_url", "")))
        return {"deferred": command.verb}
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["statusCode"] = int(status.split(" ", 1)[0])
        answer["headers"] = dict(headers)

    body = b"".join(backend(wsgi_environ(event), start_response))
    return {**answer, "body": body.decode()}


_BACKEND: Backend | None = None


def lambda_http(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """Lambda entry point of the function URL (`ecsdoctor.chatops.http_handler`)."""
    global _BACKEND
    if _BACKEND is None:
        from ecsdoctor.chatops.bot import config_secret

        settings = Settings.from_env(os.environ, config_secret(os.environ))
        invoker = SelfInvoker(os.environ["AWS_LAMBDA_FUNCTION_NAME"])
        _BACKEND = make_backend(settings, dispatch=invoker)
    return handle_http(event, _BACKEND)
