"""The Lambda handler against broken moto accounts, posting to a local receiver."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.chatops.bot import Bot, handle_event
from ecsdoctor.chatops.config import NotifyFormat, Settings
from ecsdoctor.chatops.dedup import MemoryDedupStore
from ecsdoctor.chatops.live import reader_factory
from ecsdoctor.chatops.messages import texts
from ecsdoctor.demo import account as acct
from ecsdoctor.demo.scenarios import LOG_GROUP_MISSING, REPOSITORY_NOT_FOUND
from ecsdoctor.demo.services import ServiceSpec, add_service, build_service
from ecsdoctor.pipeline import load_knowledge

from .conftest import Receiver, load_event, stopped_tasks, task_event

TYPO_IMAGE = acct.REGISTRY + "/wbe:v1"
RESTART_FOREVER = ServiceSpec(
    account=acct.AccountSpec(nat=True, interface_endpoints=frozenset(), s3_endpoint=False),
    image=TYPO_IMAGE,
    circuit_breaker=(False, False),
    running=0,
    rollout="IN_PROGRESS",
    stopped=50,
    stopped_reason=REPOSITORY_NOT_FOUND.format(repository=acct.REGISTRY + "/wbe"),
)


class Clock:
    """A test clock: every reading one second later."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.ticks = itertools.count()
        self.start = start

    def __call__(self) -> float:
        return self.start + next(self.ticks)


class CountingReaders:
    """The real reader factory, counting how often a diagnosis opened a reader."""

    def __init__(self) -> None:
        self.opened = 0
        self._inner = reader_factory(lambda account: None)
        self.api_calls = 0

    def __call__(self, account: str | None, region: str | None) -> Any:
        self.opened += 1
        return self._inner(account, region)


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def _bot(receiver: Receiver, fmt: NotifyFormat = NotifyFormat.SLACK, **extra: Any) -> Bot:
    settings = Settings(notify_url=receiver.url + "/hook", notify_format=fmt, **extra)
    return Bot(settings, MemoryDedupStore(), CountingReaders(), load_knowledge(), clock=Clock())


def test_event_envelope_is_aws_published_shape(session: boto3.session.Session) -> None:
    built = acct.build_account(session, acct.AccountSpec(nat=True))
    acct.fail_task(built, LOG_GROUP_MISSING)
    (task,) = stopped_tasks(session, acct.CLUSTER)
    event = task_event(task)
    example = load_event("task_state_change_aws_doc.json")
    assert set(event) == set(example)
    assert event["detail"]["lastStatus"] == "STOPPED"
    assert isinstance(event["detail"]["stoppedAt"], str)  # ISO string, as in events


def test_fifty_stopped_tasks_of_one_service_make_one_message(
    session: boto3.session.Session, receiver: Receiver
) -> None:
    build_service(session, RESTART_FOREVER)
    tasks = stopped_tasks(session, acct.CLUSTER)
    assert len(tasks) == 50
    bot = _bot(receiver)
    outcomes = [handle_event(task_event(t), bot) for t in tasks]

    assert [o["action"] for o in outcomes].count("notified") == 1
    assert [o["action"] for o in outcomes].count("repeat") == 49
    assert outcomes[-1]["count"] == 50
    assert bot.readers.opened == 1  # type: ignore[union-attr]  # repeats read nothing from AWS
    assert outcomes[0]["api_calls"] > 0 and outcomes[0]["root_cause"] is True

    posts = receiver.wait_for(2)
    full = [b for _, b in posts if len(b.get("blocks", [])) > 2]
    updates = [b for _, b in posts if len(b.get("blocks", [])) == 2]
    assert len(full) == 1 and len(updates) == 1
    header = full[0]["blocks"][0]["text"]["text"]
    assert header.startswith("🚨 Root cause:") and "wbe" in header
    body = "\n".join(texts(full[0]))
    assert "```" in body and "AWS console:" in body
    assert "/ecs/v2/clusters/prod/services/web/health" in body
    assert "Seen 10 times" in "\n".join(texts(updates[0]))
    state = bot.store.peek(_key(outcomes[0]))
    assert state is not None and state.count == 50


def _key(outcome: dict[str, Any]) -> Any:
    from ecsdoctor.chatops.dedup import DedupKey

    return DedupKey(*outcome["dedup_key"].split("/", 4))


def test_two_different_failures_make_two_messages(
    session: boto3.session.Session, receiver: Receiver
) -> None:
    built = build_service(session, replace(RESTART_FOREVER, stopped=3))
    add_service(
        session,
        ServiceSpec(
            account=RESTART_FOREVER.account,
            log_group="/ecs/api-missing",
            running=0,
            stopped=3,
            stopped_reason=LOG_GROUP_MISSING,
        ),
        built.ids,
        "api",
    )
    tasks = stopped_tasks(session, acct.CLUSTER)
    bot = _bot(receiver)
    outcomes = [handle_event(task_event(t), bot) for t in sorted(tasks, key=lambda t: t["taskArn"])]
    notified = [o for o in outcomes if o["action"] == "notified"]
    assert len(notified) == 2
    assert {o["dedup_key"].split("/")[3] for o in notified} == {"service:web", "service:api"}
    posts = receiver.wait_for(2)
    assert len(posts) == 2
    headers = sorted(b["blocks"][0]["text"]["text"] for _, b in posts)
    assert any("wbe" in h for h in headers) and any("/ecs/api-missing" in h for h in headers)


@pytest.mark.parametrize(
    ("stop_code", "reason", "exit_code", "group"),
    [
        ("UserInitiated", "Task stopped by user", 143, "service:web"),
        (
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            0,
            "service:web",
        ),
        ("SpotInterruption", "Your Spot Task was interrupted.", 143, "service:web"),
        ("EssentialContainerExited", "Essential container in task exited", 0, "family:web"),
    ],
)
def test_normal_stops_send_nothing(
    session: boto3.session.Session,
    receiver: Receiver,
    stop_code: str,
    reason: str,
    exit_code: int,
    group: str,
) -> None:
    built = acct.build_account(session, acct.AccountSpec(nat=True))
    acct.fail_task(built, reason)
    (task,) = stopped_tasks(session, acct.CLUSTER)
    task["containers"][0]["exitCode"] = exit_code
    bot = _bot(receiver)
    outcome = handle_event(task_event(task, stopCode=stop_code, group=group), bot)
    assert outcome["action"] == "ignored", outcome
    assert bot.readers.opened == 0  # type: ignore[union-attr]
    assert receiver.wait_for(1, timeout=0.3) == []


def test_scheduler_stop_after_failed_health_checks_is_reported(receiver: Receiver) -> None:
    event = load_event("task_state_change_aws_doc.json")
    event["detail"].update(
        lastStatus="STOPPED",
        stopCode="ServiceSchedulerInitiated",
        stoppedReason="Task failed ELB health checks in (target-group "
        "arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/web-tg/0123456789abcdef)",
        group="service:web",
    )
    bot = replace(_bot(receiver), readers=None)
    assert handle_event(event, bot)["action"] == "notified"
    assert len(receiver.wait_for(1)) == 1


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("deployment_failed_aws_doc.json", "notified"),
        ("service_task_start_impaired_aws_doc.json", "notified"),
        ("service_task_placement_failure_aws_doc.json", "notified"),
        ("service_steady_state_aws_doc.json", "ignored"),
        ("spot_termination_notice_aws_doc.json", "ignored"),
    ],
)
def test_aws_example_events(receiver: Receiver, name: str, action: str) -> None:
    bot = replace(_bot(receiver), readers=None)
    outcome = handle_event(load_event(name), bot)
    assert outcome["action"] == action
    posts = receiver.wait_for(1, timeout=5 if action == "notified" else 0.3)
    assert len(posts) == (1 if action == "notified" else 0)
    if posts:
        body = "\n".join(texts(posts[0][1]))
        assert "servicetest" in body and "111122223333" in body


HOSTILE = (
    "CannotPullContainerError: <!channel> urgent, see <https://example.com|click> "
    "*bold* _it_ ~x~ `tick` ``` fence <@U123> &amp;"
)


def _hostile_event() -> dict[str, Any]:
    event = load_event("task_state_change_aws_doc.json")
    event["detail"].update(
        lastStatus="STOPPED",
        stopCode="TaskFailedToStart",
        stoppedReason=HOSTILE,
        group="service:web",
    )
    return event


def test_hostile_text_arrives_escaped_in_slack(receiver: Receiver) -> None:
    bot = replace(_bot(receiver), readers=None)
    handle_event(_hostile_event(), bot)
    ((_, payload),) = receiver.wait_for(1)
    raw = json.dumps(payload)
    assert "<!channel>" not in raw and "<@U123>" not in raw
    assert "<https://example.com|click>" not in raw
    assert "&lt;!channel&gt;" in raw and "&amp;amp;" in raw
    for block in payload["blocks"]:
        for element in [block.get("text"), *block.get("elements", [])]:
            if element and element["type"] == "mrkdwn":
                # Only our own words and links are formatted; the hostile text never is.
                assert "example.com" not in element["text"] and "bold" not in element["text"]
                assert "channel" not in element["text"]
    fix = [b for b in payload["blocks"] if "```" in (b.get("text") or {}).get("text", "")]
    for block in fix:
        inner = block["text"]["text"].split("```")[1]
        assert "`" not in inner


def test_hostile_text_is_never_markdown_in_teams(receiver: Receiver) -> None:
    bot = replace(_bot(receiver, NotifyFormat.TEAMS), readers=None)
    handle_event(_hostile_event(), bot)
    ((_, payload),) = receiver.wait_for(1)
    card = payload["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    nodes = list(walk(card))
    assert not [n for n in nodes if n.get("type") == "TextBlock"]  # TextBlocks render Markdown
    runs = [n["text"] for n in nodes if n.get("type") == "TextRun"]
    assert any("<!channel>" in r for r in runs)  # shown as typed, in a run that is not Markdown
    assert all(a["url"].startswith("https://") for a in card.get("actions", []))
    assert not any("example.com" in a["url"] for a in card.get("actions", []))


def test_json_format_carries_the_notification(receiver: Receiver) -> None:
    bot = replace(_bot(receiver, NotifyFormat.JSON), readers=None)
    event = load_event("deployment_failed_aws_doc.json")
    for _ in range(10):
        handle_event(event, bot)
    posts = receiver.wait_for(2)
    first, update = posts[0][1], posts[1][1]
    assert first["schema"] == "ecsdoctor.diagnosis/v1"
    note = first["notification"]
    assert note["count"] == 1 and note["repeat"] is False
    assert note["dedup_key"].endswith("service:servicetest/service_event.deployment_failed")
    assert update["notification"]["count"] == 10 and update["notification"]["repeat"] is True
    assert update["schema"] == "ecsdoctor.diagnosis/v1"  # the stored result, not a new read
    assert update["notification"]["first_seen"] <= update["notification"]["last_seen"]


def test_bot_token_posts_once_then_threads_and_updates(receiver: Receiver) -> None:
    settings = Settings(
        slack_bot_token="xoxb-test",
        slack_channel="C123",
        slack_api_url=receiver.url + "/api/",
    )
    bot = Bot(settings, MemoryDedupStore(), None, load_knowledge(), clock=Clock())
    event = load_event("service_task_start_impaired_aws_doc.json")
    for _ in range(3):
        handle_event(event, bot)
    posts = receiver.wait_for(4)
    paths = [p for p, _ in posts]
    assert paths == [
        "/api/chat.postMessage",
        "/api/chat.update",
        "/api/chat.postMessage",
        "/api/chat.update",
    ]
    first_ts = "1700000000.000001"
    assert posts[1][1]["ts"] == first_ts and posts[2][1]["thread_ts"] == first_ts
    assert "Seen 2 times" in json.dumps(posts[1][1]["blocks"])
    assert "Seen 3 times" in json.dumps(posts[3][1]["blocks"])


def test_a_failed_post_is_retried_as_a_first_message(receiver: Receiver) -> None:
    from ecsdoctor.chatops.notify import NotifyError

    event = load_event("deployment_failed_aws_doc.json")
    broken = replace(
        _bot(receiver),
        readers=None,
        settings=Settings(notify_url="http://127.0.0.1:9/unreachable"),
    )
    with pytest.raises(NotifyError):
        handle_event(event, broken)
    retry = replace(broken, settings=Settings(notify_url=receiver.url + "/hook"))
    assert handle_event(event, retry)["action"] == "notified"
    assert len(receiver.wait_for(1)) == 1


def test_crashes_with_different_exit_codes_are_different_failures(receiver: Receiver) -> None:
    bot = replace(_bot(receiver), readers=None)
    keys = []
    for code in (1, 139, 1):
        event = load_event("task_state_change_aws_doc.json")
        event["detail"].update(
            lastStatus="STOPPED",
            stopCode="EssentialContainerExited",
            stoppedReason="Essential container in task exited",
            group="service:web",
        )
        event["detail"]["containers"][0]["exitCode"] = code
        keys.append(handle_event(event, bot)["dedup_key"])
    assert keys[0].endswith("container_exit.exit_code_1") and keys[0] == keys[2]
    assert keys[1].endswith("container_exit.exit_code_139")
    assert len(receiver.wait_for(2)) == 2


def test_role_template_is_assumed_in_the_events_account(
    session: boto3.session.Session, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecsdoctor.aws.session as aws_session

    assumed: list[str] = []
    real = aws_session.assume_role_session

    def recording(base: Any, role_arn: str, *args: Any, **kwargs: Any) -> Any:
        assumed.append(role_arn)
        return real(base, role_arn, *args, **kwargs)

    monkeypatch.setattr(aws_session, "assume_role_session", recording)
    build_service(session, replace(RESTART_FOREVER, stopped=2))
    settings = Settings(
        notify_url=receiver.url + "/hook",
        role_template="arn:aws:iam::{account}:role/ecsdoctor-readonly",
    )
    bot = Bot(
        settings, MemoryDedupStore(), reader_factory(settings.role_for), load_knowledge(), Clock()
    )
    outcomes = [handle_event(task_event(t), bot) for t in stopped_tasks(session, acct.CLUSTER)]
    assert assumed == [
        "arn:aws:iam::123456789012:role/ecsdoctor-readonly"
    ]  # once: repeats read nothing
    assert outcomes[0]["root_cause"] is True


def test_a_lost_count_update_does_not_fail_the_event(receiver: Receiver) -> None:
    event = load_event("deployment_failed_aws_doc.json")
    bot = replace(_bot(receiver), readers=None)
    assert handle_event(event, bot)["action"] == "notified"
    down = replace(bot, settings=Settings(notify_url="http://127.0.0.1:9/unreachable"))
    outcomes = [handle_event(event, down) for _ in range(9)]
    assert outcomes[-1] == {
        "action": "repeat",
        "dedup_key": outcomes[-1]["dedup_key"],
        "count": 10,
        "posted": False,
    }
