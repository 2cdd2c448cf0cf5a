"""The bot's configuration: the environment (DESIGN.md names every variable), nothing else.

A deployment may keep the webhook URL, the bot token and the signing secret in one Secrets Manager
secret (`ECSDOCTOR_CONFIG_SECRET`, a JSON object of the same variable names). The bot reads that
secret, its own configuration, with a client of its own: the inspection path never can.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ecsdoctor.errors import InputError

DEFAULT_WINDOW = 3600
#: Seconds one HTTP request (or one Lambda diagnosis) may take before it is answered as timed out.
DEFAULT_DEADLINE = 25.0
_ROLE_TEMPLATE = re.compile(r"^arn:aws[a-z-]*:iam::\{account\}:role/[\w+=,.@/-]{1,512}$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_ACCOUNT = re.compile(r"^\d{12}$")
#: Keys the configuration secret may fill in (anything else in it is ignored).
SECRET_KEYS = frozenset(
    {
        "ECSDOCTOR_NOTIFY_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "ECSDOCTOR_API_TOKEN",
    }
)

#: Every variable the bot and `ecsdoctor serve` read (docs/chatops.md describes each).
ENVIRONMENT = frozenset(
    {
        "ECSDOCTOR_NOTIFY_URL",
        "ECSDOCTOR_NOTIFY_FORMAT",
        "ECSDOCTOR_DEDUP_TABLE",
        "ECSDOCTOR_DEDUP_WINDOW",
        "ECSDOCTOR_ROLE_TEMPLATE",
        "SLACK_BOT_TOKEN",
        "ECSDOCTOR_SLACK_CHANNEL",
        "ECSDOCTOR_CONFIG_SECRET",
        "ECSDOCTOR_OFFLINE",
        "ECSDOCTOR_DEADLINE",
        "SLACK_SIGNING_SECRET",
        "ECSDOCTOR_SLACK_TEAMS",
        "ECSDOCTOR_SLACK_CHANNELS",
        "ECSDOCTOR_API_TOKEN",
        "ECSDOCTOR_RESPONSE_URL_PREFIXES",
        "ECSDOCTOR_SLACK_API_URL",
    }
)


class NotifyFormat(StrEnum):
    """What a webhook receives."""

    SLACK = "slack"
    TEAMS = "teams"
    JSON = "json"


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(p.strip() for p in (value or "").split(",") if p.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the Lambda handler and `ecsdoctor serve` are configured with."""

    notify_url: str | None = field(default=None, repr=False)
    notify_format: NotifyFormat = NotifyFormat.SLACK
    dedup_table: str | None = None
    dedup_window: int = DEFAULT_WINDOW
    role_template: str | None = None
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_teams: frozenset[str] = frozenset()
    slack_channels: frozenset[str] = frozenset()
    api_token: str | None = field(default=None, repr=False)
    deadline: float = DEFAULT_DEADLINE
    #: Where Slack's Web API lives (a test points it at a local receiver).
    slack_api_url: str = "https://slack.com/api/"
    #: response_url values accepted from slash commands: Slack's hosts only (no SSRF).
    response_url_prefixes: tuple[str, ...] = ("https://hooks.slack.com/",)

    @classmethod
    def from_env(cls, env: Mapping[str, str], secret: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; a bad value raises InputError naming the variable."""
        merged = {k: v for k, v in (secret or {}).items() if k in SECRET_KEYS}
        merged.update({k: v for k, v in env.items() if v != ""})
        fmt_text = merged.get("ECSDOCTOR_NOTIFY_FORMAT", "slack").strip().lower()
        try:
            fmt = NotifyFormat(fmt_text)
        except ValueError:
            raise InputError(
                f"ECSDOCTOR_NOTIFY_FORMAT={fmt_text[:20]!r}: expected slack, teams or json"
            ) from None
        window = _int(merged, "ECSDOCTOR_DEDUP_WINDOW", DEFAULT_WINDOW, 1, 7 * 24 * 3600)
        deadline = float(_int(merged, "ECSDOCTOR_DEADLINE", int(DEFAULT_DEADLINE), 1, 900))
        table = merged.get("ECSDOCTOR_DEDUP_TABLE")
        if table and not _TABLE.match(table):
            raise InputError("ECSDOCTOR_DEDUP_TABLE: not a DynamoDB table name")
        template = merged.get("ECSDOCTOR_ROLE_TEMPLATE")
        if template and not _ROLE_TEMPLATE.match(template):
            raise InputError(
                "ECSDOCTOR_ROLE_TEMPLATE: expected a role ARN with {account}, e.g. "
                "arn:aws:iam::{account}:role/ecsdoctor-readonly"
            )
        url = merged.get("ECSDOCTOR_NOTIFY_URL")
        if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise InputError("ECSDOCTOR_NOTIFY_URL: expected an https:// webhook URL")
        token = merged.get("SLACK_BOT_TOKEN")
        channel = merged.get("ECSDOCTOR_SLACK_CHANNEL")
        if token and not channel:
            raise InputError("SLACK_BOT_TOKEN is set but ECSDOCTOR_SLACK_CHANNEL is not")
        prefixes = tuple(sorted(_csv(merged.get("ECSDOCTOR_RESPONSE_URL_PREFIXES")))) or (
            "https://hooks.slack.com/",
        )
        return cls(
            notify_url=url,
            notify_format=fmt,
            dedup_table=table,
            dedup_window=window,
            role_template=template,
            slack_bot_token=token,
            slack_channel=channel,
            slack_signing_secret=merged.get("SLACK_SIGNING_SECRET"),
            slack_teams=_csv(merged.get("ECSDOCTOR_SLACK_TEAMS")),
            slack_channels=_csv(merged.get("ECSDOCTOR_SLACK_CHANNELS")),
            api_token=merged.get("ECSDOCTOR_API_TOKEN"),
            deadline=deadline,
            slack_api_url=merged.get("ECSDOCTOR_SLACK_API_URL", "https://slack.com/api/"),
            response_url_prefixes=prefixes,
        )

    def role_for(self, account: str | None) -> str | None:
        """The read-only role to assume for `account`, from ECSDOCTOR_ROLE_TEMPLATE."""
        if not self.role_template or not account:
            return None
        if not _ACCOUNT.match(account):
            raise InputError(f"not an AWS account id: {account[:20]!r}")
        return self.role_template.replace("{account}", account)

    @property
    def notifies(self) -> bool:
        """Whether the handler has anywhere to post."""
        return bool(self.notify_url or (self.slack_bot_token and self.slack_channel))


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name)
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"{name}={text[:20]!r}: expected a whole number of seconds") from None
    if not low <= value <= high:
        raise InputError(f"{name}={value}: expected {low} to {high}")
    return value


def read_config_secret(secret_arn: str, client: Any) -> dict[str, str]:
    """The bot's own configuration secret (JSON object), read with the bot's config client.

    `client` is a boto3 Secrets Manager client created for this one purpose: the guarded inspection
    reader forbids GetSecretValue, and it must stay that way.
    """
    response = client.get_secret_value(SecretId=secret_arn)
    try:
        data = json.loads(response.get("SecretString") or "{}")
    except json.JSONDecodeError:
        raise InputError("ECSDOCTOR_CONFIG_SECRET: the secret is not a JSON object") from None
    if not isinstance(data, dict):
        raise InputError("ECSDOCTOR_CONFIG_SECRET: the secret is not a JSON object")
    return {k: v for k, v in data.items() if k in SECRET_KEYS and isinstance(v, str)}
