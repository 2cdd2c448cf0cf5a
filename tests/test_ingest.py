"""Ingest: every input shape becomes the right signals, with region/account and no credentials."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ecsdoctor.errors import InputError
from ecsdoctor.ingest import (
    MAX_MESSAGE,
    decode,
    iter_messages,
    parse_document,
    parse_lines,
    plain_signal,
    read_source,
)
from ecsdoctor.models import SignalSource
from ecsdoctor.redaction import printable, redact

TASK_ARN = "arn:aws:ecs:eu-west-2:444455556666:task/prod/0123456789abcdef0123456789abcdef"
SERVICE_ARN = "arn:aws:ecs:ap-southeast-2:777788889999:service/prod/web"
PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 444455556666.dkr.ecr.eu-west-2.amazonaws.com/web:v1: failed to do request: Head "
    '"https://444455556666.dkr.ecr.eu-west-2.amazonaws.com/v2/web/manifests/v1": dial tcp '
    "10.0.1.2:443: i/o timeout"
)


def task(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "taskArn": TASK_ARN,
        "clusterArn": "arn:aws:ecs:eu-west-2:444455556666:cluster/prod",
        "group": "service:web",
        "lastStatus": "STOPPED",
        "stopCode": "TaskFailedToStart",
        "stoppedReason": PULL,
        "stoppedAt": "2024-05-01T10:00:00.000Z",
        "containers": [
            {"name": "app", "reason": PULL},
            {"name": "sidecar", "exitCode": 137, "reason": "OutOfMemoryError: Container killed"},
            {"name": "ok", "exitCode": 0},
        ],
    }
    doc.update(extra)
    return doc


def parse(doc: Any) -> Any:
    return parse_document(json.dumps(doc), "t.json")


def by_source(document: Any) -> dict[SignalSource, list[str]]:
    out: dict[SignalSource, list[str]] = {}
    for s in document.signals:
        out.setdefault(s.source, []).append(s.text)
    return out


# --------------------------------------------------------------------------- describe-tasks


def test_describe_tasks_output() -> None:
    doc = parse({"tasks": [task()], "failures": []})
    signals = by_source(doc)
    assert signals[SignalSource.STOPPED_REASON] == [PULL]
    assert signals[SignalSource.STOP_CODE] == ["TaskFailedToStart"]
    assert signals[SignalSource.CONTAINER_REASON] == [PULL, "OutOfMemoryError: Container killed"]
    assert signals[SignalSource.EXIT_CODE] == ["137"]  # exit code 0 is no signal
    assert doc.region == "eu-west-2"
    assert doc.account == "444455556666"
    assert len(doc.tasks) == 1
    record = doc.tasks[0]
    assert record.arn == TASK_ARN
    assert record.cluster and record.cluster.endswith("cluster/prod")
    assert record.group == "service:web"
    assert record.last_status == "STOPPED"
    containers = [(s.source, s.container) for s in doc.signals if s.container]
    assert (SignalSource.EXIT_CODE, "sidecar") in containers
    assert (SignalSource.CONTAINER_REASON, "app") in containers
    assert all(s.subject == TASK_ARN for s in doc.signals)
    assert all(s.at == "2024-05-01T10:00:00.000Z" for s in doc.signals)
    assert not any(s.pasted for s in doc.signals)


def test_exit_code_zero_and_booleans_give_no_signal() -> None:
    containers = [{"name": "a", "exitCode": 0}, {"name": "b", "exitCode": True}, {"name": "c"}]
    doc = parse({"tasks": [task(stoppedReason=None, stopCode=None, containers=containers)]})
    assert doc.signals == ()
    assert len(doc.tasks) == 1


def test_exit_codes_of_every_container() -> None:
    containers = [{"name": "a", "exitCode": 1}, {"name": "b", "exitCode": 143}]
    doc = parse({"tasks": [task(containers=containers)]})
    assert by_source(doc)[SignalSource.EXIT_CODE] == ["1", "143"]


def test_epoch_timestamps_are_iso() -> None:
    doc = parse({"tasks": [task(stoppedAt=1714557600.5)]})
    assert doc.signals[0].at is not None and doc.signals[0].at.startswith("2024-05-01T10:00:00")


def test_describe_tasks_failures_only_is_an_input_error() -> None:
    # describe-tasks "failures" (MISSING) mean the task could not be read: nothing to diagnose
    with pytest.raises(InputError, match="recognised no ECS"):
        parse({"tasks": [], "failures": [{"arn": TASK_ARN, "reason": "MISSING"}]})


def test_describe_tasks_failures_next_to_a_task() -> None:
    other = "arn:aws:ecs:eu-west-2:444455556666:task/prod/ffff"
    doc = parse({"tasks": [task()], "failures": [{"arn": other, "reason": "MISSING"}]})
    assert len(doc.tasks) == 1 and doc.region == "eu-west-2"


def test_bare_task_object() -> None:
    doc = parse(task())
    assert by_source(doc)[SignalSource.STOP_CODE] == ["TaskFailedToStart"]
    assert doc.shape == "json"
    assert doc.account == "444455556666"


# --------------------------------------------------------------------------- describe-services


def service(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "serviceArn": SERVICE_ARN,
        "serviceName": "web",
        "events": [
            {
                "message": "(service web) has reached a steady state.",
                "createdAt": "2024-05-01T10:05:00Z",
            },
            {"message": "(service web) was unable to place a task.", "createdAt": 1714557600},
        ],
        "deployments": [
            {
                "status": "PRIMARY",
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
                "updatedAt": "2024-05-01T10:06:00Z",
            },
            {"status": "ACTIVE", "rolloutState": "COMPLETED", "rolloutStateReason": "done"},
        ],
    }
    doc.update(extra)
    return doc


def test_describe_services_output() -> None:
    doc = parse({"services": [service()], "failures": []})
    texts = [s.text for s in doc.signals]
    assert all(s.source is SignalSource.SERVICE_EVENT for s in doc.signals)
    # events are read oldest first; then the failed deployment's reason; COMPLETED gives nothing
    assert texts == [
        "(service web) was unable to place a task.",
        "(service web) has reached a steady state.",
        "ECS deployment circuit breaker: tasks failed to start.",
    ]
    assert doc.region == "ap-southeast-2"
    assert doc.account == "777788889999"
    assert len(doc.services) == 1
    assert doc.signals[0].at is not None and doc.signals[0].at.startswith("2024-05-01")
    assert all(s.subject == SERVICE_ARN for s in doc.signals)


def test_bare_service_object() -> None:
    doc = parse(service(deployments=[]))
    assert len(doc.signals) == 2
    assert len(doc.services) == 1


def test_service_without_arn_but_with_name_and_events() -> None:
    doc = parse({"serviceName": "web", "events": [{"message": "hello"}]})
    assert [s.text for s in doc.signals] == ["hello"]
    assert doc.region is None


# --------------------------------------------------------------------------- EventBridge


def task_event(**detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": "111122223333",
        "time": "2024-05-01T10:00:00Z",
        "region": "us-west-2",
        "resources": [TASK_ARN],
        "detail": task(**detail),
    }


def deployment_event() -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs",
        "account": "111122223333",
        "time": "2024-05-01T10:00:00Z",
        "region": "us-west-2",
        "resources": ["arn:aws:ecs:us-west-2:111122223333:service/default/web"],
        "detail": {
            "eventType": "ERROR",
            "eventName": "SERVICE_DEPLOYMENT_FAILED",
            "deploymentId": "ecs-svc/123",
            "updatedAt": "2024-05-01T10:01:00Z",
            "reason": "ECS deployment circuit breaker: task failed to start.",
        },
    }


def action_event() -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "ECS Service Action",
        "source": "aws.ecs",
        "account": "111122223333",
        "region": "us-west-2",
        "resources": ["arn:aws:ecs:us-west-2:111122223333:service/default/web"],
        "detail": {
            "eventType": "WARN",
            "eventName": "SERVICE_TASK_PLACEMENT_FAILURE",
            "reason": "RESOURCE:MEMORY",
        },
    }


def test_eventbridge_task_state_change() -> None:
    doc = parse(task_event())
    signals = by_source(doc)
    assert signals[SignalSource.STOPPED_REASON] == [PULL]
    assert signals[SignalSource.EXIT_CODE] == ["137"]
    # the event envelope's region/account win over the task ARN's
    assert (doc.region, doc.account) == ("us-west-2", "111122223333")


def test_eventbridge_deployment_state_change() -> None:
    doc = parse(deployment_event())
    (signal,) = doc.signals
    assert signal.source is SignalSource.SERVICE_EVENT
    assert signal.text == (
        "SERVICE_DEPLOYMENT_FAILED: ECS deployment circuit breaker: task failed to start."
    )
    assert signal.subject == "arn:aws:ecs:us-west-2:111122223333:service/default/web"
    assert signal.at == "2024-05-01T10:01:00Z"


def test_eventbridge_service_action() -> None:
    doc = parse(action_event())
    assert [s.text for s in doc.signals] == ["SERVICE_TASK_PLACEMENT_FAILURE: RESOURCE:MEMORY"]


def test_eventbridge_array() -> None:
    doc = parse([task_event(), deployment_event(), action_event()])
    assert doc.shape == "array"
    assert len(doc.tasks) == 1
    assert [s.source for s in doc.signals][-2:] == [SignalSource.SERVICE_EVENT] * 2


def test_eventbridge_json_lines() -> None:
    text = "\n".join(json.dumps(e) for e in (task_event(), deployment_event(), action_event()))
    doc = parse_document(text + "\n\n", "events.jsonl")
    assert doc.shape == "jsonl"
    assert len(doc.signals) == 3 + 2 + 1 + 1  # reason, code, 2 container reasons, exit; 2 events
    assert doc.region == "us-west-2"


def test_container_instance_event_is_accepted_without_signals() -> None:
    event = {
        "detail-type": "ECS Container Instance State Change",
        "source": "aws.ecs",
        "detail": {"status": "ACTIVE"},
    }
    doc = parse([event, deployment_event()])
    assert len(doc.signals) == 1


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (
            {
                "detail-type": "EC2 Instance State-change Notification",
                "source": "aws.ec2",
                "detail": {},
            },
            "not ECS",
        ),
        ({"detail-type": "ECS Something New", "source": "aws.ecs", "detail": {}}, "unsupported"),
        ({"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": "x"}, "detail"),
        ({"foo": 1}, "not an ECS document"),
        ([1, 2], "expected a JSON object"),
        ({"tasks": ["x"]}, "list of objects"),
        ({"tasks": [{"taskArn": TASK_ARN, "stoppedReason": 5}]}, "expected a string"),
        ({"tasks": [{"taskArn": TASK_ARN, "containers": {"a": 1}}]}, "list of objects"),
        ({"tasks": []}, "recognised no ECS"),
        ([], "recognised no ECS"),
        ({"tasks": [task(stoppedReason="x" * (MAX_MESSAGE + 1))]}, "limit"),
    ],
)
def test_wrong_shapes_are_input_errors(doc: Any, words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse(doc)


def test_broken_json_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"broken JSON at line 2 column"):
        parse_document('{"tasks":\n [}', "bad.json")
    with pytest.raises(InputError, match="broken JSON"):
        parse_document('[{"a": 1}', "bad.json")
    with pytest.raises(InputError, match="not JSON lines either"):
        parse_document('{"a": 1}\n{"b": ', "bad.jsonl")


# --------------------------------------------------------------------------- plain text


def test_plain_text_skips_blank_lines() -> None:
    doc = parse_document(
        f"\n  {PULL}  \n\n\t\nUserInitiated\n137\n(service web) was unable to place a task.\n\n",
        "paste",
    )
    assert [s.text for s in doc.signals] == [
        PULL,
        "UserInitiated",
        "137",
        "(service web) was unable to place a task.",
    ]
    assert [s.source for s in doc.signals] == [
        SignalSource.STOPPED_REASON,
        SignalSource.STOP_CODE,
        SignalSource.EXIT_CODE,
        SignalSource.SERVICE_EVENT,
    ]
    assert all(s.pasted for s in doc.signals)
    assert doc.shape == "text" and doc.region is None


def test_plain_text_errors() -> None:
    with pytest.raises(InputError, match="empty"):
        parse_document(" \n\t\n", "blank")
    with pytest.raises(InputError, match="no messages"):
        parse_lines(["", "  "], "blank")
    with pytest.raises(InputError, match="line 2"):
        parse_lines(["ok", "y" * (MAX_MESSAGE + 1)], "long")


def test_iter_messages() -> None:
    assert [s.text for s in iter_messages(["  a  ", "b"])] == ["a", "b"]
    with pytest.raises(InputError, match="message 2 is empty"):
        list(iter_messages(["a", "   "]))
    with pytest.raises(InputError, match="message 1"):
        list(iter_messages(["z" * (MAX_MESSAGE + 1)]))


def test_plain_signal_guesses_source_for_display() -> None:
    assert plain_signal("1234").source is SignalSource.STOPPED_REASON  # too long for an exit code
    assert plain_signal("service web event").source is SignalSource.SERVICE_EVENT


# --------------------------------------------------------------------------- reading files/stdin


def test_read_source_file_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(task()).encode())
    text = read_source(str(path))
    assert text.startswith("{")
    assert parse_document(text).tasks[0].arn == TASK_ARN


def test_read_source_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps({"tasks": [task()]}).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    doc = parse_document(read_source("-"), "standard input")
    assert doc.region == "eu-west-2"


def test_read_source_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_source(str(tmp_path / "absent.json"))
    with pytest.raises(InputError, match="no such file"):
        read_source(str(tmp_path))  # a directory
    binary = tmp_path / "bin"
    binary.write_bytes(b"abc\x00def")
    with pytest.raises(InputError, match="NUL"):
        read_source(str(binary))
    latin = tmp_path / "latin"
    latin.write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match="offset 3"):
        read_source(str(latin))


def test_decode() -> None:
    assert decode("héllo".encode()) == "héllo"
    with pytest.raises(InputError, match="UTF-8"):
        decode(b"\xff\xfe\xfd")


# --------------------------------------------------------------------------- redaction

PRESIGNED = (
    "CannotPullContainerError: error pulling image configuration: Get "
    "https://prod-us-east-1-starport-layer-bucket.s3.amazonaws.com/abc/def?X-Amz-Algorithm="
    "AWS4-HMAC-SHA256&X-Amz-Credential=ASIAQWERTYUIOPASDFGH%2F20240501%2Fus-east-1%2Fs3%2F"
    "aws4_request&X-Amz-Date=20240501T000000Z&X-Amz-Expires=3600&X-Amz-Security-Token="
    "IQoJb3JpZ2luX2VjEXAMPLETOKEN%2F%2B&X-Amz-SignedHeaders=host&X-Amz-Signature="
    "0123456789abcdef0123456789abcdef: dial tcp 52.216.1.1:443: i/o timeout"
)
SECRETS = (
    "ASIAQWERTYUIOPASDFGH",
    "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
    "0123456789abcdef0123456789abcdef",
)


def test_presigned_url_credentials_are_redacted_in_every_shape() -> None:
    for doc in (
        parse({"tasks": [task(stoppedReason=PRESIGNED)]}),
        parse(task_event(stoppedReason=PRESIGNED)),
        parse_document(PRESIGNED, "paste"),
    ):
        texts = " ".join(s.text for s in doc.signals)
        assert "X-Amz-Signature=REDACTED" in texts
        assert "X-Amz-Security-Token=REDACTED" in texts
        assert "X-Amz-Credential=REDACTED" in texts
        for secret in SECRETS:
            assert secret not in texts
        # what the knowledge base needs survives
        assert "starport-layer-bucket" in texts and "52.216.1.1" in texts


@pytest.mark.parametrize("key", ["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"])
def test_access_key_ids_are_redacted(key: str) -> None:
    message = f"AccessDeniedException: User with key {key} is not authorized"
    for doc in (
        parse({"tasks": [task(stoppedReason=message)]}),
        parse(service(events=[{"message": message}], deployments=[])),
        parse_document(message, "paste"),
    ):
        assert all(key not in s.text for s in doc.signals)
        assert any("REDACTED_ACCESS_KEY_ID" in s.text for s in doc.signals)
    assert key not in next(iter_messages([message])).text


def test_redact_other_credentials() -> None:
    assert "hunter2" not in redact("password=hunter2 rest")
    assert "s3cr3t" not in redact("pulling https://bob:s3cr3t@registry.example.com/v2/")
    assert "abc123" not in redact("aws_secret_access_key: abc123")
    assert redact("nothing to hide here") == "nothing to hide here"


def test_printable_drops_control_characters() -> None:
    assert "\x1b" not in printable("\x1b[31mred\x1b[0m")
    assert printable("tab\tand\nnewline") == "tab\tand\nnewline"


# --------------------------------------------------------------------------- issue 9


@pytest.mark.parametrize("opener", ["[", '{"tasks":', '{"a":'])
def test_json_nested_too_deeply_is_an_input_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    with pytest.raises(InputError, match="nested too deeply"):
        parse_document(opener * 5000 + "1" + closer * 5000, "deep.json")
    lines = "\n".join([json.dumps({"taskArn": TASK_ARN}), '{"a":' * 5000 + "1" + "}" * 5000])
    with pytest.raises(InputError, match="nested too deeply"):
        parse_document(lines, "deep.jsonl")


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGci", "Authorization: Bearer"),
        ("GET /v2?token=abc123def&x=1 failed", "abc123def", "x=1"),
        ("DB_PASSWORD=hunter2 rejected", "hunter2", "DB_PASSWORD="),
        ('{"client_secret": "s3cr3tvalue"}', "s3cr3tvalue", "client_secret"),
        ("curl -u admin:pa55word http://h/", "pa55word", "curl -u"),
        ("https://user:pa55word@registry.example.com/v2/", "pa55word", "registry.example.com"),
        ("key ASIAABCDEFGHIJKLMNOP used", "ASIAABCDEFGHIJKLMNOP", "used"),
    ],
)
def test_redaction_masks_credentials_and_keeps_the_message(
    text: str, gone: str, kept: str
) -> None:
    out = redact(text)
    assert gone not in out and kept in out and "REDACTED" in out


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-AbCdEf",
        "The security token included in the request is invalid",
        "unable to retrieve secret from asm: service call has been retried",
        "ResourceInitializationError: unable to pull secrets or registry auth",
        "secret: arn:aws:ssm:us-east-1:123456789012:parameter/web/token",
    ],
)
def test_redaction_leaves_aws_messages_and_arns_alone(text: str) -> None:
    assert redact(text) == text


def test_ingest_redacts_bearer_tokens_in_reasons() -> None:
    doc = parse(task(stoppedReason="CannotPullContainerError: Authorization: Bearer abcdef123456"))
    assert all("abcdef123456" not in s.text for s in doc.signals)
