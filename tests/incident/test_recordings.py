"""Record and replay: a replayed diagnosis is the recorded one, byte for byte, with no AWS access.

The live half runs demo scenarios in moto through a RecordingReader; the replay half answers the
same library call from the saved file. The stored recordings under tests/recordings/ are whole
diagnoses replayed in a fraction of a second: a regression test of every check at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from moto import mock_aws

from ecsdoctor.aws.protocol import Reader
from ecsdoctor.aws.recording import (
    REDACTED,
    AccountMask,
    RecordingReader,
    ReplayMissing,
    ReplayReader,
    account_ids,
    open_reader_for,
    reader_scope,
    sanitize,
)
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.errors import CallDenied, InputError, ReadError
from ecsdoctor.report import Format, render
from tests.incident.incidents import (
    DIAGNOSES,
    GOLDEN,
    RECORDINGS,
    build_for_diagnosis,
    diagnose,
)

T = TypeVar("T")

LIVE_CASES = [
    ("task", "seed-incident"),
    ("task", "secret-missing"),
    ("service", "service-rollback-no-endpoint"),
    ("service", "service-grace-period"),
    ("scan", "shared-cause"),
]


def _live_then_replay(
    kind: str, scenario: str, tmp_path: Path, mask: bool = False
) -> tuple[str, str, RecordingReader, ReplayReader]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        subject = build_for_diagnosis(kind, scenario, session)
        recorder = RecordingReader(open_reader(AwsAccess(session=session)), mask_accounts=mask)
        live = render(Format.JSON, diagnose(kind, subject, recorder))
        recorder.save(tmp_path / "run.json")
    replay = ReplayReader.load(tmp_path / "run.json")
    replayed_subject = recorder.account_mask(subject)
    replayed = render(Format.JSON, diagnose(kind, replayed_subject, replay))
    return live, replayed, recorder, replay


@pytest.mark.parametrize(("kind", "scenario"), LIVE_CASES)
def test_replay_reproduces_the_live_diagnosis(kind: str, scenario: str, tmp_path: Path) -> None:
    live, replayed, recorder, replay = _live_then_replay(kind, scenario, tmp_path)
    assert replay.missing == []
    assert replayed == live  # byte for byte, api_calls included
    assert json.loads(live)["root_causes"], "the scenario must confirm something to compare"
    assert replay.api_calls == recorder.api_calls > 0


def test_masked_recording_holds_no_real_account_and_replays_consistently(tmp_path: Path) -> None:
    live, replayed, recorder, _ = _live_then_replay(
        "service", "service-rollback-no-endpoint", tmp_path, mask=True
    )
    text = (tmp_path / "run.json").read_text()
    assert not re.search(r"(?<![0-9A-Za-z])123456789012(?![0-9A-Za-z])", text)
    assert recorder.account_mask.mapping == {"123456789012": "000000000001"}
    assert "arn:aws:ecs:us-east-1:000000000001:service/prod/web" in text
    assert "000000000001.dkr.ecr.us-east-1.amazonaws.com" in text
    assert replayed == recorder.account_mask(live)
    assert not re.search(r"(?<!\d)123456789012(?!\d)", replayed)


@pytest.mark.parametrize("name", sorted(DIAGNOSES))
def test_stored_recording_replays_the_golden_diagnosis(name: str) -> None:
    """Whole-diagnosis regression: every check, ranking and renderer against a frozen account."""
    replay = ReplayReader.load(RECORDINGS / f"{name}.json")
    kind, _ = DIAGNOSES[name]
    diagnosis = diagnose(kind, replay.notes["subject"], replay)
    assert replay.missing == []
    assert render(Format.JSON, diagnosis) + "\n" == (GOLDEN / f"{name}.json").read_text()


def test_stored_recordings_hold_no_environment_value() -> None:
    from ecsdoctor.demo.account import FAKE_ENV_VALUE

    for path in RECORDINGS.iterdir():
        assert FAKE_ENV_VALUE not in path.read_text(), path


class _Canned:
    """A test double Reader: fixed answers and one denied read."""

    region = "eu-west-1"
    api_calls = 2
    account = "210987654321"

    def call(
        self, service: str, operation: str, *, region: str | None = None, **params: Any
    ) -> Any:
        if operation == "GetRole":
            raise CallDenied("iam:GetRole", "AccessDenied", "not authorized")
        return {"Echo": params, "Environment": [{"Name": "X", "Value": "secret-ish"}]}

    def pages(
        self, service: str, operation: str, key: str, *, region: str | None = None, **params: Any
    ) -> list[Any]:
        return [{"n": 1}]

    def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
        out: list[T | ReadError] = []
        for thunk in thunks:
            try:
                out.append(thunk())
            except ReadError as err:
                out.append(err)
        return out

    def close(self) -> None:
        pass


def test_failed_reads_replay_as_the_same_error_so_data_gaps_match(tmp_path: Path) -> None:
    recorder = RecordingReader(_Canned())
    assert isinstance(recorder, Reader)
    with pytest.raises(CallDenied):
        recorder.call("iam", "GetRole", RoleName="web")
    recorder.call("ecs", "DescribeClusters", clusters=["prod"], include=None)
    recorder.pages("ecs", "ListClusters", "clusterArns")
    assert recorder.account == "210987654321"
    recorder.save(tmp_path / "r.json")
    replay = ReplayReader.load(tmp_path / "r.json")
    assert isinstance(replay, Reader)
    with pytest.raises(CallDenied) as denied:
        replay.call("iam", "GetRole", RoleName="web")
    assert denied.value.permission == "iam:GetRole"
    assert str(denied.value) == "access denied (AccessDenied): missing permission iam:GetRole"
    # None-valued parameters are dropped, as the live reader drops them.
    answer = replay.call("ecs", "DescribeClusters", clusters=["prod"])
    assert answer["Echo"] == {"clusters": ["prod"], "include": None}
    assert answer["Environment"] == [{"Name": "X", "Value": REDACTED}]
    assert replay.pages("ecs", "ListClusters", "clusterArns") == [{"n": 1}]
    assert (replay.region, replay.account, replay.api_calls) == ("eu-west-1", "210987654321", 2)
    results = replay.parallel([lambda: 1, lambda: replay.call("iam", "GetRole", RoleName="web")])
    assert results[0] == 1 and isinstance(results[1], CallDenied)


def test_a_question_the_recording_lacks_names_the_exact_call(tmp_path: Path) -> None:
    recorder = RecordingReader(_Canned())
    recorder.call("ecs", "DescribeClusters", clusters=["prod"])
    recorder.save(tmp_path / "r.json")
    replay = ReplayReader.load(tmp_path / "r.json")
    with pytest.raises(ReplayMissing) as missing:
        replay.call("ecs", "DescribeServices", cluster="prod", services=["web"])
    message = str(missing.value)
    assert 'ecs:DescribeServices(cluster="prod", services=["web"]) in eu-west-1' in message
    assert missing.value.exit_code == 3
    assert replay.missing == ['ecs:DescribeServices(cluster="prod", services=["web"]) in eu-west-1']
    with pytest.raises(ReplayMissing, match="in us-east-1"):
        replay.call("ecs", "DescribeClusters", region="us-east-1", clusters=["prod"])


def test_datetimes_and_bytes_come_back_typed(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    class Typed(_Canned):
        def call(self, service: str, operation: str, **params: Any) -> Any:
            return {
                "at": datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
                "b": b"\x00\x01",
                "odd": {"$type": "datetime", "value": "not a date"},
            }

    recorder = RecordingReader(Typed())
    live = recorder.call("ecs", "DescribeTasks", tasks=["t"])
    recorder.save(tmp_path / "r.json")
    assert ReplayReader.load(tmp_path / "r.json").call("ecs", "DescribeTasks", tasks=["t"]) == live


def test_sanitize_replaces_values_and_keeps_names_and_shape() -> None:
    definition = {
        "containerDefinitions": [
            {
                "name": "app",
                "environment": [{"name": "DB_URL", "value": "postgres://u:p4ss@db:5432/x"}],
                "command": ["--token", "abc"],
                "entryPoint": ["/bin/sh", "-c"],
                "healthCheck": {
                    "command": ["CMD-SHELL", "curl -f http://localhost/?k=v || exit 1"]
                },
                "dockerLabels": {"build": "ghp_" + "a" * 36},
                "secrets": [{"name": "PW", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/pw"}],
            }
        ],
        "Credentials": {
            "AccessKeyId": "ASIA" + "B" * 16,
            "SecretAccessKey": "x" * 40,
            "SessionToken": "tok",
        },
        "nextToken": "keep-me",
        "reason": "pull https://deploy:hunter2@git.example.com/r.git password=swordfish",
    }
    clean = sanitize(definition)
    container = clean["containerDefinitions"][0]
    assert container["environment"] == [{"name": "DB_URL", "value": REDACTED}]
    assert container["command"] == [REDACTED, REDACTED]
    assert container["entryPoint"] == [REDACTED, REDACTED]
    assert container["healthCheck"]["command"] == ["CMD-SHELL", f"curl {REDACTED}"]
    assert container["dockerLabels"] == {"build": REDACTED}
    assert container["secrets"] == definition["containerDefinitions"][0]["secrets"]
    assert clean["Credentials"] == {
        "AccessKeyId": "REDACTED_ACCESS_KEY_ID",
        "SecretAccessKey": REDACTED,
        "SessionToken": REDACTED,
    }
    assert clean["nextToken"] == "keep-me"  # a pagination token is not a secret
    text = json.dumps(clean)
    for secret in ("p4ss", "hunter2", "swordfish", "ghp_", "abc", "k=v"):
        assert secret not in text, secret


def test_account_mask_is_consistent_and_leaves_look_alikes() -> None:
    value = {
        "arn": "arn:aws:iam::111122223333:role/r",
        "image": "444455556666.dkr.ecr.us-east-1.amazonaws.com/web:v1",
        "OwnerId": "111122223333",
        "deployment": "ecs-svc/1111222233334444",
        "task": "arn:aws:ecs:us-east-1:111122223333:task/prod/a111122223333b",
    }
    ids = account_ids(value)
    assert ids == {"111122223333", "444455556666"}
    mask = AccountMask.for_ids(ids)
    clean = sanitize(value, mask)
    assert clean["arn"] == "arn:aws:iam::000000000001:role/r"
    assert clean["image"].startswith("000000000002.dkr.ecr")
    assert clean["OwnerId"] == "000000000001"
    assert clean["deployment"] == "ecs-svc/1111222233334444"
    assert clean["task"].endswith("task/prod/a111122223333b")


def test_open_reader_for_never_builds_a_live_reader_for_a_replay(tmp_path: Path) -> None:
    recorder = RecordingReader(_Canned())
    recorder.save(tmp_path / "r.json")

    def live() -> Reader:
        raise AssertionError("a replay must not open AWS")

    assert isinstance(open_reader_for(live=live, replay=tmp_path / "r.json"), ReplayReader)
    with pytest.raises(InputError, match="exclude each other"):
        open_reader_for(live=live, record=tmp_path / "a", replay=tmp_path / "r.json")
    with reader_scope(live=_Canned, record=tmp_path / "new.json") as reader:
        reader.call("ecs", "ListClusters")
    assert json.loads((tmp_path / "new.json").read_text())["schema"] == "ecsdoctor.recording/v1"
    canned = _Canned()
    assert open_reader_for(live=lambda: canned) is canned


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not JSON"),
        ('{"schema": "other"}', "not an ecsdoctor recording"),
        ('{"schema": "ecsdoctor.recording/v1", "entries": [{}]}', "damaged"),
    ],
)
def test_a_bad_recording_is_one_clear_input_error(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=reason):
        ReplayReader.load(path)
    with pytest.raises(InputError, match="cannot read"):
        ReplayReader.load(tmp_path / "missing.json")
