"""Hostile input: what AWS or a user hands us cannot drive a terminal, forge a line, inject markup
or crash ingest. docs/hostile-input.md lists each input tried here and what ecsdoctor did.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsdoctor import cli
from ecsdoctor.errors import InputError
from ecsdoctor.ingest import Document, decode, parse_document
from ecsdoctor.redaction import redact, scrub
from ecsdoctor.report.markdown import md

SEED = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:v1: failed to do request: Head "
    '"https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/web/manifests/v1": dial tcp '
    "10.0.248.239:443: i/o timeout"
)
HOSTILE = (
    " \x1b[2J\x1b[H clear-screen \x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07 "
    "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07 clipboard \u202eevil-bidi\u202c \x9b31m c1-csi "
    "\nROOT CAUSE: forged line\r\n<script>alert(1)</script> [docs](javascript:alert(1)) "
    "![beacon](https://evil.example/pixel.png) <!channel> <@U012345> "
    "<https://evil.example|aws.amazon.com> @here log group /ecs/<!everyone>"
)
TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f]")


def run_main(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: bytes = b"",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["ecsdoctor", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def hostile_events(tmp_path: Path) -> Path:
    task = {
        "taskArn": "arn:aws:ecs:us-east-1:111122223333:task/prod/0123456789abcdef0123456789abcdef",
        "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
        "group": "service:web<!channel>",
        "lastStatus": "STOPPED",
        "stoppedReason": SEED + HOSTILE,
        "containers": [{"name": "app\x1b[31m<script>", "reason": SEED + HOSTILE}],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps({"tasks": [task]}), encoding="utf-8")
    return path


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "slack"])
def test_hostile_reason_is_inert_in_every_format(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    code, out, err = run_main(
        monkeypatch, capsys, ["diagnose", "--events", str(hostile_events(tmp_path)), "-f", fmt]
    )
    assert code in (0, 1), err
    assert "image_pull.network_timeout" in out  # still recognised
    assert not TERMINAL.search(out.replace("\n", "")), repr(TERMINAL.search(out.replace("\n", "")))
    assert "\\u001b" not in out and "\\u202e" not in out.lower()
    if fmt == "text":
        assert not any(line.lstrip().startswith("ROOT CAUSE") for line in out.splitlines())
        assert "forged line" in out  # shown, on the line of the message it belongs to
    elif fmt == "markdown":
        for bad in ("<script", "![", "<!channel>", "<https://", "<@U"):
            assert bad not in out, bad
        assert not re.search(r"(?<!\\)\]\(", out)  # no link or image can form
        assert "&lt;script&gt;" in out and "\\](javascript:" in out
    elif fmt == "slack":
        payload = json.loads(out)
        texts = _strings(payload)
        assert payload["text"] in texts
        for text in texts:
            for bad in ("<!channel>", "<!everyone>", "<@U", "<https://", "<script"):
                assert bad not in text, (bad, text)
    else:
        doc = json.loads(out)
        for text in _strings(doc):
            assert not TERMINAL.search(text), text


def test_the_cli_error_line_is_scrubbed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        monkeypatch, capsys, ["kb", "show", "x\x1b]52;c;ZXZpbA==\x07\nROOT CAUSE: forged"]
    )
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "\x1b" not in err and "\x07" not in err


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    depth: int,
    opener: str,
) -> None:
    closer = "]" if opener == "[" else "}"
    path = tmp_path / "deep.json"
    path.write_text(opener * depth + "1" + closer * depth, encoding="utf-8")
    start = time.monotonic()
    code, out, err = run_main(monkeypatch, capsys, ["diagnose", "--events", str(path)])
    assert time.monotonic() - start < 5
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "nested too deeply" in err and "internal" not in err


@pytest.mark.parametrize(
    "url", ["notaurl", "http://", "ftp://example.com", "https://exa mple.com", "http://h:99999"]
)
def test_bad_endpoint_url_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run_main(
        monkeypatch, capsys, ["diagnose", "--task", "t", "--cluster", "c", "--endpoint-url", url]
    )
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "--endpoint-url" in err and "internal" not in err
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    code, _, err = run_main(monkeypatch, capsys, ["scan", "--cluster", "prod"])
    assert code == 2 and "AWS_ENDPOINT_URL" in err


# --------------------------------------------------------------------------- properties


def _parse_or_input_error(data: bytes) -> Document | None:
    try:
        return parse_document(decode(data, "fuzz"), "fuzz")
    except InputError:
        return None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2_000))
def test_ingest_arbitrary_bytes_raise_only_input_error(data: bytes) -> None:
    _parse_or_input_error(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["tasks", "services", "taskArn", "stoppedReason", "containers", "reason", "events",
             "message", "detail-type", "detail", "failures", "exitCode", "serviceArn", "x"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_ingest_arbitrary_json_raises_only_input_error(value: Any) -> None:
    document = _parse_or_input_error(json.dumps(value).encode())
    if document is not None:
        for signal in document.signals:
            assert isinstance(signal.text, str) and signal.text


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=500, max_value=50_000), st.sampled_from(["[", '{"tasks":']))
def test_ingest_deep_nesting_raises_only_input_error(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    _parse_or_input_error((opener * depth + "null" + closer * depth).encode())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=16 * 1024 + 1, max_value=2_000_000), st.sampled_from("ax{é"))
def test_ingest_huge_strings_are_refused_quickly(size: int, char: str) -> None:
    start = time.monotonic()
    task = {"taskArn": "arn:aws:ecs:us-east-1:1:task/c/t", "stoppedReason": "E: " + char * size}
    with pytest.raises(InputError):
        parse_document(json.dumps(task), "huge")
    with pytest.raises(InputError):
        parse_document("E: " + "y" * size, "huge")
    assert time.monotonic() - start < 5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_scrub_leaves_one_inert_line(text: str) -> None:
    out = scrub(text)
    assert not TERMINAL.search(out) and "\n" not in out and "\r" not in out
    assert "\u2028" not in out and "\u2029" not in out
    assert scrub(out) == out  # idempotent: scrubbing twice changes nothing


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_markdown_escaping_leaves_no_markup(text: str) -> None:
    out = md(scrub(text))
    assert "<" not in out and ">" not in out
    assert not re.search(r"(?<!\\)[\[\]]", out.replace("\\\\", "")), out


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["AKIA", "ASIA"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16),
    st.sampled_from(["token", "password", "secret", "Authorization: Bearer", "X-Amz-Signature"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=40),
)
def test_credentials_are_redacted_wherever_they_sit(
    prefix: str, key: str, name: str, value: str
) -> None:
    joiner = " " if name.startswith("Authorization") else "="
    text = f"error calling https://h/x?{prefix}{key} with {name}{joiner}{value} done"
    out = redact(text)
    assert prefix + key not in out
    assert value not in out
