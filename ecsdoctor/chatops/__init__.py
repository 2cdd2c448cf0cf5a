"""ChatOps: the Lambda handler for EventBridge ECS events and the `ecsdoctor serve` HTTP backend.

`ecsdoctor.chatops.handler` is the Lambda handler name (kept import-light: the work happens in
`ecsdoctor.chatops.bot` and friends, loaded on the first event). The HTTP server and Slack
need the `chatops` extra (`pip install 'ecsdoctor-cli[chatops]'`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """AWS Lambda handler for `ECS Task State Change`, `ECS Deployment State Change` and
    `ECS Service Action` events: one message per failure and window, with the proven root cause."""
    from ecsdoctor.chatops.bot import lambda_entry

    return lambda_entry(event, context)


def http_handler(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """AWS Lambda handler behind a function URL: the Slack slash command and the JSON API of
    `ecsdoctor serve` (slash commands are answered by an asynchronous second invocation)."""
    from ecsdoctor.chatops.function_url import lambda_http

    return lambda_http(event, context)


__all__ = ["handler", "http_handler"]
