"""Posting: an incoming webhook (Slack, Teams or any JSON receiver), or Slack's Web API.

With a bot token the first message goes to the channel and repeats go into its thread, while the
message itself is edited to show the current count; a webhook cannot edit, so it gets a short
count update at a few milestones instead of one post per task.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from ecsdoctor.errors import EcsDoctorError

#: Seconds to wait for a webhook or the Slack API.
POST_TIMEOUT = 10.0


class NotifyError(EcsDoctorError):
    """A message could not be delivered (the text says where, never what)."""


def post_json(url: str, payload: Mapping[str, Any], timeout: float = POST_TIMEOUT) -> None:
    """POST `payload` as JSON; NotifyError on a non-2xx answer or no answer."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(4096)
    except urllib.error.HTTPError as err:
        raise NotifyError(f"webhook answered HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise NotifyError(f"webhook unreachable: {str(reason)[:120]}") from None


class SlackBot:
    """Slack's Web API with a bot token (the `chatops` extra's slack_sdk)."""

    def __init__(self, token: str, channel: str, base_url: str = "https://slack.com/api/") -> None:
        try:
            from slack_sdk import WebClient
        except ImportError as err:  # pragma: no cover - the extra is installed in tests
            raise NotifyError(
                "SLACK_BOT_TOKEN needs the 'chatops' extra: pip install 'ecsdoctor-cli[chatops]'"
            ) from err
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
        )

        self.channel = channel
        self._client = WebClient(
            token=token,
            base_url=base_url,
            timeout=int(POST_TIMEOUT),
            retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(2)],
        )

    def _call(self, method: str, **params: Any) -> Mapping[str, Any]:
        from slack_sdk.errors import SlackApiError

        try:
            response = getattr(self._client, method)(channel=self.channel, **params)
        except SlackApiError as err:
            raise NotifyError(f"Slack {method} failed: {err.response.get('error')}") from None
        except OSError as err:
            raise NotifyError(f"Slack unreachable: {str(err)[:120]}") from None
        data: Mapping[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data

    def post(self, message: Mapping[str, Any], thread: str | None = None) -> str | None:
        """Post to the channel (or into `thread`); the message's ts."""
        extra = {"thread_ts": thread} if thread else {}
        data = self._call(
            "chat_postMessage", text=message["text"], blocks=message.get("blocks"), **extra
        )
        ts = data.get("ts")
        return ts if isinstance(ts, str) else None

    def update(self, ts: str, message: Mapping[str, Any]) -> None:
        """Edit a posted message (the count of a repeat)."""
        self._call("chat_update", ts=ts, text=message["text"], blocks=message.get("blocks"))
