"""The Lambda handler: EventBridge ECS event -> triage -> dedup -> live diagnosis -> one message.

`handle_event` is the whole behaviour with its collaborators passed in (tests give it a moto
account, a local receiver and either dedup store); `lambda_entry` builds them once per container
from the environment.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ecsdoctor.chatops.config import NotifyFormat, Settings, read_config_secret
from ecsdoctor.chatops.dedup import (
    DedupKey,
    DedupStore,
    DedupTableWriter,
    DynamoDedupStore,
    MemoryDedupStore,
    Sighting,
    StoredResult,
    announces,
)
from ecsdoctor.chatops.live import ReaderFactory, diagnose_saved_event, reader_factory
from ecsdoctor.chatops.messages import (
    Occurrence,
    headline_of,
    json_message,
    slack_message,
    slack_update,
    teams_message,
    teams_update,
)
from ecsdoctor.chatops.notify import NotifyError, SlackBot, post_json
from ecsdoctor.chatops.triage import Incident, Skip, triage
from ecsdoctor.errors import EcsDoctorError
from ecsdoctor.kb import KnowledgeBase

log = logging.getLogger("ecsdoctor.chatops")


@dataclass(frozen=True, slots=True)
class Bot:
    """Everything one handler invocation needs besides the event."""

    settings: Settings
    store: DedupStore
    readers: ReaderFactory | None  # None: offline (no AWS reads at all)
    knowledge: KnowledgeBase
    clock: Callable[[], float] = time.time


def _key(incident: Incident) -> DedupKey:
    return DedupKey(
        incident.account, incident.region, incident.cluster, incident.group, incident.cause
    )


def _diagnose(bot: Bot, incident: Incident, event: Mapping[str, Any]) -> dict[str, Any]:
    from ecsdoctor.report.document import diagnosis_document

    reader = None
    if bot.readers is not None:
        try:
            reader = bot.readers(incident.account, incident.region)
        except EcsDoctorError as err:
            log.warning("no AWS access for account %s: %s", incident.account, str(err)[:200])
    try:
        diagnosis = diagnose_saved_event(
            event, reader=reader, region=incident.region, knowledge=bot.knowledge
        )
    finally:
        if reader is not None:
            reader.close()
    doc = diagnosis_document(diagnosis)
    # An offline reading of an event knows no subject; the event itself names it.
    subject = doc["subject"]
    known = {
        "arn": incident.task_arn or incident.service_arn,
        "cluster": incident.cluster,
        "service": incident.service,
        "region": incident.region,
        "account": incident.account,
    }
    for name, value in known.items():
        if not subject.get(name):
            subject[name] = value
    if subject.get("type") == "events":
        subject["type"] = "task" if incident.task_arn else "service"
    return doc


def _occurrence(key: DedupKey, state: Sighting) -> Occurrence:
    return Occurrence(key.label, state.count, state.first_seen, state.last_seen)


def _post_first(settings: Settings, doc: Mapping[str, Any], occ: Occurrence) -> str | None:
    if settings.slack_bot_token and settings.slack_channel:
        bot = SlackBot(settings.slack_bot_token, settings.slack_channel, settings.slack_api_url)
        return bot.post(slack_message(doc, occ))
    if settings.notify_url:
        payload = {
            NotifyFormat.SLACK: lambda: slack_message(doc, occ),
            NotifyFormat.TEAMS: lambda: teams_message(doc, occ),
            NotifyFormat.JSON: lambda: json_message(doc, occ),
        }[settings.notify_format]()
        post_json(settings.notify_url, payload)
    return None


def edits(count: int) -> bool:
    """Whether a repeat edits the Slack message's count: each of the first ten, then every tenth
    (Slack rate-limits chat.update; a burst of tasks must not exhaust it)."""
    return count <= 10 or count % 10 == 0


def _post_repeat(settings: Settings, incident: Incident, state: Sighting, occ: Occurrence) -> bool:
    """Tell the channel about a repeat, cheaply; True when something was posted."""
    stored = state.result
    headline = stored.headline if stored else incident.title
    if settings.slack_bot_token and settings.slack_channel:
        bot = SlackBot(settings.slack_bot_token, settings.slack_channel, settings.slack_api_url)
        if stored is None or stored.thread is None:
            return False  # the first message is still being written; its count will be current
        posted = False
        if edits(occ.count):
            bot.update(stored.thread, slack_message(json.loads(stored.document), occ))
            posted = True
        if occ.count == 2 or announces(occ.count):
            bot.post(slack_update(headline, occ), thread=stored.thread)
            posted = True
        return posted
    if not settings.notify_url or not announces(occ.count):
        return False
    if settings.notify_format is NotifyFormat.JSON:
        doc = json.loads(stored.document) if stored else {"headline": headline}
        post_json(settings.notify_url, json_message(doc, occ, repeat=True))
    elif settings.notify_format is NotifyFormat.TEAMS:
        post_json(settings.notify_url, teams_update(headline, occ))
    else:
        post_json(settings.notify_url, slack_update(headline, occ))
    return True


def handle_event(event: Mapping[str, Any], bot: Bot) -> dict[str, Any]:
    """Handle one event; the answer says what happened (no diagnosis text, safe to log)."""
    verdict = triage(event, bot.knowledge)
    if isinstance(verdict, Skip):
        return {"action": "ignored", "reason": verdict.reason}
    incident = verdict
    key = _key(incident)
    state = bot.store.sight(key, bot.clock(), bot.settings.dedup_window)
    if not state.first:
        try:
            posted = _post_repeat(bot.settings, incident, state, _occurrence(key, state))
        except NotifyError as err:
            # A lost count update is harmless; failing here would make Lambda retry the event
            # and count it twice.
            log.warning("ecsdoctor: repeat update not posted: %s", err)
            posted = False
        return {"action": "repeat", "dedup_key": key.label, "count": state.count, "posted": posted}
    doc = _diagnose(bot, incident, event)
    current = bot.store.peek(key) or state
    occ = _occurrence(key, current)
    try:
        thread = _post_first(bot.settings, doc, occ)
    except NotifyError:
        # Nobody was told: let the retry (Lambda retries failed async invocations) post it.
        bot.store.release(key, state.first_seen)
        raise
    bot.store.save(
        key,
        state.first_seen,
        StoredResult(headline_of(doc), json.dumps(doc, ensure_ascii=False), thread),
    )
    return {
        "action": "notified",
        "posted": bot.settings.notifies,
        "dedup_key": key.label,
        "count": occ.count,
        "root_cause": bool(doc.get("root_causes")),
        "api_calls": doc.get("api_calls", 0),
    }


_BOT: Bot | None = None


def config_secret(env: Mapping[str, str]) -> dict[str, str]:
    """The bot's own configuration secret (ECSDOCTOR_CONFIG_SECRET), or nothing."""
    if not env.get("ECSDOCTOR_CONFIG_SECRET"):
        return {}
    import boto3

    # The bot's own configuration: a client of its own, never the inspection reader.
    client = boto3.session.Session().client("secretsmanager")
    return read_config_secret(env["ECSDOCTOR_CONFIG_SECRET"], client)


def bot_from_env(env: Mapping[str, str]) -> Bot:
    """Settings, dedup store and readers from the environment (what a Lambda container holds)."""
    from ecsdoctor.pipeline import load_knowledge

    settings = Settings.from_env(env, config_secret(env))
    if not settings.notifies:
        log.warning("ecsdoctor: no ECSDOCTOR_NOTIFY_URL or SLACK_BOT_TOKEN: messages go nowhere")
    store: DedupStore
    if settings.dedup_table:
        store = DynamoDedupStore(DedupTableWriter.open(settings.dedup_table))
    else:
        store = MemoryDedupStore()
    offline = env.get("ECSDOCTOR_OFFLINE", "").lower() in ("1", "true", "yes")
    return Bot(
        settings=settings,
        store=store,
        readers=None if offline else reader_factory(settings.role_for),
        knowledge=load_knowledge(),
    )


def lambda_entry(event: Mapping[str, Any], context: object = None) -> dict[str, Any]:
    """AWS Lambda entry point (`ecsdoctor.chatops.handler`)."""
    global _BOT
    if _BOT is None:
        _BOT = bot_from_env(os.environ)
    try:
        outcome = handle_event(event, _BOT)
    except NotifyError as err:
        log.error("ecsdoctor: notification failed: %s", err)
        raise
    except EcsDoctorError as err:
        log.warning("ecsdoctor: event not handled: %s", str(err)[:300])
        return {"action": "rejected", "reason": str(err)[:300]}
    log.info("ecsdoctor: %s", json.dumps(outcome))
    return outcome
