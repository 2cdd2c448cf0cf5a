"""One message per failure per window: the deduplication key, and where sightings are counted.

The key is (account, region, cluster, service or task family, cause), `cause` being the knowledge
entry the event's own messages match, so a repeat is known before any AWS read and reuses the
stored diagnosis. State lives in memory (one process) or in DynamoDB (every concurrent Lambda
invocation and cold start): a conditional put decides who is first, an atomic ADD counts repeats,
and a TTL attribute lets DynamoDB forget old windows.

The DynamoDB table is the bot's only write target. It is reached through `DedupTableWriter`, a
client made for that table alone; the inspection path keeps the read-only reader, whose allow-list
does not contain DynamoDB and never will.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

#: TTL slack after a window ends, so a late repeat still finds the stored result to compare with.
TTL_GRACE = 24 * 3600
#: Largest diagnosis document kept per key (DynamoDB items are limited to 400 KB).
MAX_STORED = 300_000


@dataclass(frozen=True, slots=True)
class DedupKey:
    """What makes two failures "the same" for the on-call channel."""

    account: str
    region: str
    cluster: str
    group: str  # service:NAME or family:NAME
    cause: str

    @property
    def label(self) -> str:
        """Readable form, shown in messages and the JSON notification."""
        return "/".join((self.account, self.region, self.cluster, self.group, self.cause))

    @property
    def digest(self) -> str:
        """The table's partition key: fixed length whatever the names are."""
        return hashlib.sha256(self.label.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResult:
    """The first diagnosis of a window, kept so repeats need no AWS reads."""

    headline: str
    document: str  # the ecsdoctor.diagnosis/v1 JSON
    thread: str | None = None  # Slack message ts when posted with the Web API


@dataclass(frozen=True, slots=True)
class Sighting:
    """One event's place in its window."""

    first: bool  # this event opened the window: diagnose and post
    count: int
    first_seen: float
    last_seen: float
    result: StoredResult | None = None


class DedupStore(Protocol):
    """Counts sightings per key and window; implementations must be safe under concurrency."""

    def sight(self, key: DedupKey, now: float, window: int) -> Sighting:
        """Record one event at `now`: the first of a new window, or a repeat."""
        ...

    def peek(self, key: DedupKey) -> Sighting | None:
        """The current window's state without counting anything."""
        ...

    def save(self, key: DedupKey, first_seen: float, result: StoredResult) -> None:
        """Attach the window opener's diagnosis (only to the window that `first_seen` opened)."""
        ...

    def release(self, key: DedupKey, first_seen: float) -> None:
        """Forget the window `first_seen` opened (its message could not be posted: a retry
        must post it, not count itself as a repeat)."""
        ...


class MemoryDedupStore:
    """Sightings in this process only: enough for `ecsdoctor serve` or a single Lambda container."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[Sighting, float]] = {}  # digest -> (state, window end)

    def sight(self, key: DedupKey, now: float, window: int) -> Sighting:
        with self._lock:
            held = self._items.get(key.digest)
            if held is None or held[1] < now:
                state = Sighting(True, 1, now, now)
                self._items[key.digest] = (state, now + window)
                return state
            state = replace(held[0], first=False, count=held[0].count + 1, last_seen=now)
            self._items[key.digest] = (state, held[1])
            return state

    def peek(self, key: DedupKey) -> Sighting | None:
        with self._lock:
            held = self._items.get(key.digest)
            return held[0] if held else None

    def save(self, key: DedupKey, first_seen: float, result: StoredResult) -> None:
        with self._lock:
            held = self._items.get(key.digest)
            if held and held[0].first_seen == first_seen:
                self._items[key.digest] = (replace(held[0], result=result), held[1])

    def release(self, key: DedupKey, first_seen: float) -> None:
        with self._lock:
            held = self._items.get(key.digest)
            if held and held[0].first_seen == first_seen:
                del self._items[key.digest]


class DedupTableWriter:
    """The bot's one writing client: conditional writes to its own dedup table, nothing else.

    Built from a boto3 session as a plain DynamoDB client named for this table; it offers exactly
    the three writes deduplication needs, so no other table or service can be written through it.
    """

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self._client = client

    @classmethod
    def open(
        cls, table: str, session: Any = None, *, endpoint_url: str | None = None
    ) -> DedupTableWriter:
        """A writer on `table` with its own client (`session`: a boto3 Session, default one)."""
        import boto3.session
        from botocore.config import Config

        session = session or boto3.session.Session()
        client = session.client(
            "dynamodb",
            endpoint_url=endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5),
        )
        return cls(table, client)

    def _conditional(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return bool(code == "ConditionalCheckFailedException")

    def open_window(self, key: DedupKey, now: float, window: int) -> bool:
        """Start a window for `key` unless a live one exists; True when this call started it."""
        end = now + window
        try:
            self._client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": key.digest},
                    "label": {"S": key.label[:1024]},
                    "first_seen": {"N": repr(now)},
                    "last_seen": {"N": repr(now)},
                    "sightings": {"N": "1"},
                    "window_end": {"N": repr(end)},
                    "expires_at": {"N": str(int(end + TTL_GRACE))},
                },
                ConditionExpression="attribute_not_exists(pk) OR window_end < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
            )
        except Exception as exc:
            if self._conditional(exc):
                return False
            raise
        return True

    def count_repeat(self, key: DedupKey, now: float) -> Mapping[str, Any] | None:
        """Add one sighting to the live window; None when the window ended meanwhile."""
        try:
            response = self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key.digest}},
                UpdateExpression="ADD sightings :one SET last_seen = :now",
                ConditionExpression="attribute_exists(pk) AND window_end >= :now",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": repr(now)}},
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if self._conditional(exc):
                return None
            raise
        attributes: Mapping[str, Any] = response.get("Attributes", {})
        return attributes

    def read(self, key: DedupKey) -> Mapping[str, Any] | None:
        """The item of `key` (consistent read), or None."""
        response = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": key.digest}}, ConsistentRead=True
        )
        item: Mapping[str, Any] | None = response.get("Item")
        return item

    def store_result(self, key: DedupKey, first_seen: float, result: StoredResult) -> None:
        """Attach the diagnosis to the window opened at `first_seen` (not to a later window)."""
        values: dict[str, Any] = {
            ":first": {"N": repr(first_seen)},
            ":headline": {"S": result.headline[:2000]},
            ":document": {"S": result.document[:MAX_STORED]},
        }
        expression = "SET headline = :headline, diagnosis = :document"
        if result.thread:
            values[":thread"] = {"S": result.thread}
            expression += ", thread = :thread"
        try:
            self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key.digest}},
                UpdateExpression=expression,
                ConditionExpression="first_seen = :first",
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if not self._conditional(exc):
                raise

    def close_window(self, key: DedupKey, first_seen: float) -> None:
        """Delete the window opened at `first_seen` (and no later one)."""
        try:
            self._client.delete_item(
                TableName=self.table,
                Key={"pk": {"S": key.digest}},
                ConditionExpression="first_seen = :first",
                ExpressionAttributeValues={":first": {"N": repr(first_seen)}},
            )
        except Exception as exc:
            if not self._conditional(exc):
                raise


def _number(item: Mapping[str, Any], name: str) -> float:
    return float(item.get(name, {}).get("N", "0"))


def _sighting(item: Mapping[str, Any], first: bool) -> Sighting:
    result = None
    if "diagnosis" in item:
        result = StoredResult(
            headline=item.get("headline", {}).get("S", ""),
            document=item["diagnosis"]["S"],
            thread=item.get("thread", {}).get("S"),
        )
    return Sighting(
        first=first,
        count=int(_number(item, "sightings")),
        first_seen=_number(item, "first_seen"),
        last_seen=_number(item, "last_seen"),
        result=result,
    )


class DynamoDedupStore:
    """Sightings in the DynamoDB table: correct across concurrent invocations and cold starts."""

    def __init__(self, writer: DedupTableWriter) -> None:
        self.writer = writer

    def sight(self, key: DedupKey, now: float, window: int) -> Sighting:
        for _ in range(5):  # a window can end between the two writes: then try to open a new one
            if self.writer.open_window(key, now, window):
                return Sighting(True, 1, now, now)
            item = self.writer.count_repeat(key, now)
            if item is not None:
                return _sighting(item, first=False)
        raise RuntimeError("dedup table: could neither open nor join a window")

    def peek(self, key: DedupKey) -> Sighting | None:
        item = self.writer.read(key)
        return _sighting(item, first=False) if item else None

    def save(self, key: DedupKey, first_seen: float, result: StoredResult) -> None:
        self.writer.store_result(key, first_seen, result)

    def release(self, key: DedupKey, first_seen: float) -> None:
        self.writer.close_window(key, first_seen)


#: Repeat counts at which a webhook (which cannot edit what it posted) gets a count update.
def announces(count: int) -> bool:
    """10, 100, 1000 ... and every further 1000: "still failing" without one post per task."""
    if count < 10:
        return False
    if count >= 1000:
        return count % 1000 == 0
    return count in (10, 100)
