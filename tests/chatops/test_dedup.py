"""Deduplication: window semantics in memory and in DynamoDB, and DynamoDB across two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.chatops.dedup import (
    DedupKey,
    DedupTableWriter,
    DynamoDedupStore,
    MemoryDedupStore,
    StoredResult,
    announces,
)

from .conftest import EVENTS, Receiver

KEY = DedupKey("123456789012", "us-east-1", "prod", "service:web", "image_pull.image_not_found")
OTHER = DedupKey("123456789012", "us-east-1", "prod", "service:api", "image_pull.image_not_found")


def create_table(client: Any, name: str = "ecsdoctor-dedup") -> str:
    """The table as deploy/ecsdoctor-bot.yaml declares it: key pk, TTL on expires_at."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return name


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryDedupStore()
        return
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        table = create_table(session.client("dynamodb"))
        yield DynamoDedupStore(DedupTableWriter.open(table, session))


def test_first_then_repeats_then_a_new_window(store: Any) -> None:
    first = store.sight(KEY, 1000.0, 60)
    assert first.first and first.count == 1
    store.save(KEY, first.first_seen, StoredResult("Root cause: x", '{"schema": 1}', "ts.1"))
    repeat = store.sight(KEY, 1010.0, 60)
    assert not repeat.first and repeat.count == 2
    assert repeat.first_seen == 1000.0 and repeat.last_seen == 1010.0
    assert repeat.result == StoredResult("Root cause: x", '{"schema": 1}', "ts.1")
    assert store.sight(OTHER, 1011.0, 60).first  # another service is another failure
    later = store.sight(KEY, 1061.0, 60)  # the window ended: a new first message
    assert later.first and later.count == 1
    store.save(KEY, first.first_seen, StoredResult("stale", "{}"))  # the old window's writer
    assert store.peek(KEY).result is None


def test_announcements_are_rare() -> None:
    assert [n for n in range(1, 5001) if announces(n)] == [10, 100, 1000, 2000, 3000, 4000, 5000]


def test_the_writer_touches_only_its_table() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = session.client("dynamodb")
        create_table(client, "other-table")
        table = create_table(client)
        writer = DedupTableWriter.open(table, session)
        writer.open_window(KEY, 1.0, 60)
        assert client.scan(TableName="other-table")["Count"] == 0
        item = client.get_item(TableName=table, Key={"pk": {"S": KEY.digest}})["Item"]
        assert item["label"]["S"] == KEY.label
        assert int(item["expires_at"]["N"]) > 61  # TTL after the window, for DynamoDB to expire


def test_dynamodb_dedup_across_two_processes(receiver: Receiver) -> None:
    """Two "Lambda containers", 4 threads each, 25 events each, racing on one table."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    # DynamoDB applies each write to an item atomically; moto's threaded server does not (two
    # concurrent UpdateItem ADDs can read the same old value). Serialising requests restores what
    # DynamoDB guarantees, and the two processes still race on every conditional write.
    inner = server._server.app  # type: ignore[union-attr]
    atomic = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> Any:
        with atomic:
            return list(inner(environ, start_response))

    server._server.app = one_at_a_time  # type: ignore[union-attr]
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.session.Session(region_name="us-east-1").client(
            "dynamodb", endpoint_url=endpoint
        )
        table = create_table(client)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_REGION="us-east-1",
            ECSDOCTOR_DEDUP_TABLE=table,
            ECSDOCTOR_NOTIFY_URL=receiver.url + "/hook",
            ECSDOCTOR_NOTIFY_FORMAT="json",
            ECSDOCTOR_OFFLINE="1",
            PYTHONPATH=os.pathsep.join(sys.path),
        )
        event = EVENTS / "deployment_failed_aws_doc.json"
        worker = Path(__file__).with_name("dedup_worker.py")
        start_at = f"{time.time() + 8:.3f}"
        processes = [
            subprocess.Popen(
                [sys.executable, str(worker), str(event), "25", start_at],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        answers: list[dict[str, Any]] = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            answers.extend(json.loads(out))
        actions = [a["action"] for a in answers]
        assert actions.count("notified") == 1 and actions.count("repeat") == 49
        assert sorted(a["count"] for a in answers if a["action"] == "repeat") == list(
            range(2, 51)
        )  # every repeat got its own count: no lost or doubled update
        item = client.scan(TableName=table)["Items"]
        assert len(item) == 1 and item[0]["sightings"]["N"] == "50"
        assert "diagnosis" in item[0]  # the stored result repeats reuse
        posts = receiver.wait_for(2)
        firsts = [b for _, b in posts if not b["notification"]["repeat"]]
        assert len(firsts) == 1 and firsts[0]["schema"] == "ecsdoctor.diagnosis/v1"
        assert [b["notification"]["count"] for _, b in posts if b["notification"]["repeat"]] == [10]
    finally:
        server.stop()


def test_release_forgets_only_its_own_window(store: Any) -> None:
    first = store.sight(KEY, 1000.0, 60)
    store.release(KEY, 999.0)  # someone else's window: kept
    assert store.sight(KEY, 1001.0, 60).count == 2
    store.release(KEY, first.first_seen)
    assert store.sight(KEY, 1002.0, 60).first
