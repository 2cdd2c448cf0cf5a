"""ChatOps test kit: a local HTTP receiver for posted messages, and real-shaped ECS events."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """One of AWS's published example events (tests/chatops/events/sources.toml)."""
    return json.loads((EVENTS / name).read_text())


class Receiver:
    """Catches every POST (a webhook, a response_url or Slack's Web API) on 127.0.0.1."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/x-www-form"):
                    from urllib.parse import parse_qsl

                    body: dict[str, Any] = dict(parse_qsl(raw))
                    for key in ("blocks",):
                        if key in body:
                            body[key] = json.loads(body[key])
                else:
                    body = json.loads(raw) if raw else {}
                with receiver.arrived:
                    receiver.posts.append((self.path, body))
                    count = len(receiver.posts)
                    receiver.arrived.notify_all()
                answer = json.dumps({"ok": True, "ts": f"1700000000.{count:06d}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[tuple[str, dict[str, Any]]]:
        """The posts once at least `count` arrived (or whatever arrived by the timeout)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout=timeout)
            return list(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    yield rx
    rx.close()


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def task_event(task: Mapping[str, Any], **detail: Any) -> dict[str, Any]:
    """An `ECS Task State Change` event for a describe-tasks Task, in AWS's published envelope."""
    envelope = load_event("task_state_change_aws_doc.json")
    arn = str(task["taskArn"])
    _, _, _, region, account, _ = arn.split(":", 5)
    body = _iso({**task, **detail})
    envelope.update(
        id=str(uuid.uuid4()),
        account=account,
        region=region,
        time=body.get("stoppedAt") or envelope["time"],
        resources=[arn],
        detail=body,
    )
    return envelope


def stopped_tasks(session: Any, cluster: str) -> list[dict[str, Any]]:
    """Every stopped task of `cluster`, as describe-tasks returns it."""
    ecs = session.client("ecs", region_name="us-east-1")
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):
        tasks.extend(ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"])
    return tasks
