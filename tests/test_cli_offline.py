"""The offline command line: explain, diagnose --offline, kb; exit codes and hostile input.

Three ways in: `CliRunner` on the Typer app (output and exit codes of normal runs), `cli.main()`
in-process (the real error handling: exit code and one stderr line), and a few subprocess runs of
the installed console script (the real process: exit code, stderr, no traceback, no hang).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecsdoctor import cli
from ecsdoctor.cli import app
from ecsdoctor.errors import InputError
from ecsdoctor.explain import explain_signals
from ecsdoctor.ingest import iter_messages
from ecsdoctor.kb import KnowledgeBase, load_entries

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_events"
SCRIPT = Path(sys.executable).with_name("ecsdoctor")

SEED_PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/myrepo:v1: failed to do request: Head "
    '"https://111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/v2/myrepo/manifests/v1": '
    "dial tcp 10.0.248.239:443: i/o timeout"
)
SEED_AUTH = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
    'time(s): RequestError: send request failed caused by: Post "https://api.ecr.ap-northeast-1.'
    'amazonaws.com/": dial tcp 3.112.64.17:443: i/o timeout. Please check your task network '
    "configuration."
)
UNKNOWN = "the flux capacitor melted"
DIAGNOSIS_KEYS = {
    "schema",
    "subject",
    "signals",
    "matches",
    "root_causes",
    "consequences",
    "ruled_out",
    "checks",
    "data_gaps",
    "api_calls",
}
SUBJECT_KEYS = {"type", "arn", "cluster", "service", "region", "account"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

runner = CliRunner()


def sample_json_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*.json"))


# --------------------------------------------------------------------------- helpers


def run_main(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: bytes = b"",
) -> tuple[int, str, str]:
    """Run `cli.main()` in-process as the console script would: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["ecsdoctor", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    with pytest.raises(SystemExit) as info:
        cli.main()
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


def run_script(
    args: list[str], stdin: bytes = b"", timeout: float = 20
) -> subprocess.CompletedProcess[bytes]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "ecsdoctor"]
    env = {k: v for k, v in os.environ.items() if k != "ECSDOCTOR_DEBUG"}
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, timeout=timeout, env=env, check=False
    )


def assert_one_line_error(err: str) -> None:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ecsdoctor: ")


# --------------------------------------------------------------------------- explain


def test_explain_text_seed() -> None:
    result = runner.invoke(app, ["explain", SEED_PULL])
    assert result.exit_code == 0, result.output
    assert "image_pull.network_timeout [failure]" in result.output
    assert "ip: 10.0.248.239" in result.output
    assert "repository: myrepo" in result.output
    assert "likely causes" in result.output


def test_explain_json_schema_and_order() -> None:
    result = runner.invoke(
        app, ["explain", "--json", SEED_AUTH, UNKNOWN, "UserInitiated", SEED_PULL]
    )
    assert result.exit_code == 1  # one message matched nothing
    docs = json.loads(result.stdout)
    assert isinstance(docs, list) and len(docs) == 4
    for doc in docs:
        assert {"message", "entry", "title", "severity", "captures", "kinds", "hypotheses"} <= set(
            doc
        )
    assert [d["entry"] for d in docs] == [
        "resource_init.registry_auth_unreachable",
        None,
        "stop_code.user_initiated",
        "image_pull.network_timeout",
    ]
    assert [d["message"] for d in docs] == [SEED_AUTH, UNKNOWN, "UserInitiated", SEED_PULL]
    auth, unknown, user, pull = docs
    assert auth["severity"] == "failure" and user["severity"] == "info"
    assert unknown["title"] is None and unknown["severity"] is None
    assert unknown["captures"] == {} and unknown["kinds"] == [] and unknown["hypotheses"] == []
    assert pull["captures"]["ip"] == "10.0.248.239"
    assert pull["captures"]["registry"] == "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com"
    assert pull["kinds"] and pull["kinds"][0] == "route_table"
    for hyp in auth["hypotheses"]:
        assert set(hyp) == {"id", "claim", "kinds"}
        assert isinstance(hyp["kinds"], list) and hyp["kinds"]
    assert "image_uri_wrong_registry" in [h["id"] for h in auth["hypotheses"]]


def test_explain_all_matched_exits_0() -> None:
    result = runner.invoke(app, ["explain", "--json", SEED_AUTH, SEED_PULL])
    assert result.exit_code == 0
    assert [d["entry"] is not None for d in json.loads(result.stdout)] == [True, True]


def test_explain_unmatched_text_suggests() -> None:
    result = runner.invoke(app, ["explain", "CannotPullContainerError something entirely new?"])
    assert result.exit_code in (0, 1)
    result = runner.invoke(app, ["explain", UNKNOWN])
    assert result.exit_code == 1
    assert "not recognised" in result.output


@pytest.mark.parametrize("args", [["explain", "--json"], ["explain", "--json", "-"]])
def test_explain_stdin(args: list[str]) -> None:
    result = runner.invoke(app, args, input=f"\n{SEED_PULL}\n\n   \nUserInitiated\n")
    assert result.exit_code == 0, result.output
    docs = json.loads(result.stdout)
    assert [d["entry"] for d in docs] == ["image_pull.network_timeout", "stop_code.user_initiated"]


def test_explain_redacts_credentials() -> None:
    message = "CannotPullContainerError: denied for AKIAIOSFODNN7EXAMPLE X-Amz-Signature=abcdef0123"
    result = runner.invoke(app, ["explain", "--json", message])
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout
    assert "abcdef0123" not in result.stdout


# --------------------------------------------------------------------------- diagnose --offline


@pytest.mark.parametrize("path", sample_json_files(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_diagnose_json_on_every_json_sample(path: Path) -> None:
    result = runner.invoke(app, ["diagnose", "--events", str(path), "--offline", "--json"])
    doc = json.loads(result.stdout)
    # issue 9: offline exits 0 when every failure message was recognised (as explain does)
    every = {m["signal"] for m in doc["matches"]} == set(range(len(doc["signals"])))
    assert result.exit_code == (0 if every else 1), result.output
    assert doc["schema"] == "ecsdoctor.diagnosis/v1"
    assert set(doc) >= DIAGNOSIS_KEYS
    assert set(doc["subject"]) >= SUBJECT_KEYS
    assert doc["subject"]["type"] == "events"
    assert doc["root_causes"] == [] and doc["api_calls"] == 0
    expected = ".".join(path.parent.relative_to(SAMPLES).parts)
    assert expected in {m["entry"] for m in doc["matches"]}
    for signal in doc["signals"]:
        assert {"source", "text", "container", "at"} <= set(signal)
        assert signal["source"] in {
            "stopped_reason",
            "container_reason",
            "stop_code",
            "exit_code",
            "service_event",
            "run_task_failure",
        }
    for match in doc["matches"]:
        assert 0 <= match["signal"] < len(doc["signals"])
        assert isinstance(match["captures"], dict)


SEED_FILE = SAMPLES / "image_pull" / "network_timeout" / "describe_tasks_seed.json"
AUTH_FILE = SAMPLES / "resource_init" / "registry_auth_unreachable" / "describe_tasks.json"


@pytest.mark.parametrize("path", [SEED_FILE, AUTH_FILE], ids=["pull", "auth"])
@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "slack"])
def test_diagnose_every_format(path: Path, fmt: str) -> None:
    result = runner.invoke(app, ["diagnose", "--events", str(path), "--offline", "--format", fmt])
    assert result.exit_code == 0, result.output  # every message recognised (issue 9)
    out = result.stdout
    assert "ap-northeast-1" in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["schema"] == "ecsdoctor.diagnosis/v1"
        assert doc["subject"]["region"] == "ap-northeast-1"
        assert doc["subject"]["account"] == "111122223333"
    elif fmt == "slack":
        payload = json.loads(out)
        assert isinstance(payload.get("text"), str) and payload["text"]
        assert isinstance(payload.get("blocks"), list) and payload["blocks"]
        assert all("type" in block for block in payload["blocks"])
    elif fmt == "markdown":
        assert out.lstrip().startswith("#")
        assert "| --- |" in out
    else:
        # issue 9: an offline diagnosis leads with the recognised failure, not "no root cause"
        assert out.startswith("RECOGNISED FAILURE: ")
        assert not out.lstrip().startswith("{")


def test_diagnose_hypotheses_of_the_seed_in_json() -> None:
    result = runner.invoke(app, ["diagnose", "--events", str(AUTH_FILE), "--offline", "-f", "json"])
    doc = json.loads(result.stdout)
    ids = [h["id"] for h in doc.get("hypotheses", [])]
    assert "image_uri_wrong_registry" in ids
    assert doc["matches"][0]["entry"] == "resource_init.registry_auth_unreachable"
    assert doc["matches"][0]["captures"]["ip"] == "3.112.64.17"


def test_diagnose_text_samples_and_stdin() -> None:
    text = (SAMPLES / "resource_init" / "registry_auth_unreachable" / "messages.txt").read_text()
    result = runner.invoke(app, ["diagnose", "--events", "-", "--offline", "--json"], input=text)
    assert result.exit_code == 0  # every line recognised (issue 9)
    doc = json.loads(result.stdout)
    assert {m["entry"] for m in doc["matches"]} == {"resource_init.registry_auth_unreachable"}


# --------------------------------------------------------------------------- errors, in-process


def test_diagnose_events_without_offline_and_offline_without_events(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 9: --events no longer demands --offline (saved events are diagnosed offline)
    code, out, err = run_main(monkeypatch, capsys, ["diagnose", "--events", str(SEED_FILE)])
    assert code == 0, err
    assert out.startswith("RECOGNISED FAILURE: image_pull.network_timeout")
    code, _, err = run_main(monkeypatch, capsys, ["diagnose", "--offline"])
    assert code == 2
    assert_one_line_error(err)


BIG_LINE = b"x" * (1024 * 1024)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"tasks": [', "broken JSON"),
        (b'{"foo": 1}', "not an ECS document"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b"", "empty"),
        (b"   \n\n\t\n", "empty"),
        (b"Cannot\x00Pull", "NUL"),
        (b"\xff\xfe\xfa not utf8", "UTF-8"),
        (BIG_LINE, "limit"),
        (b"CannotPullContainerError: " + b"dial tcp " * 3000, "limit"),
    ],
    ids=["broken", "wrong-shape", "array", "empty", "blank", "nul", "latin", "1mb", "dialtcp"],
)
def test_malformed_events_exit_2_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    words: str,
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    for source, stdin in ((str(path), b""), ("-", content)):
        start = time.monotonic()
        code, out, err = run_main(
            monkeypatch, capsys, ["diagnose", "--events", source, "--offline", "--json"], stdin
        )
        assert time.monotonic() - start < 5
        assert code == 2, (out, err)
        assert_one_line_error(err)
        assert words in err
        assert out == ""


def test_nonexistent_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    code, _, err = run_main(
        monkeypatch, capsys, ["diagnose", "--events", str(missing), "--offline"]
    )
    assert code == 2
    assert_one_line_error(err)
    assert "no such file" in err


def test_kb_show_unknown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(monkeypatch, capsys, ["kb", "show", "no.such_entry"])
    assert code == 2
    assert_one_line_error(err)
    assert "no.such_entry" in err


def test_kb_show_and_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(monkeypatch, capsys, ["kb", "show", "image_pull.network_timeout"])
    assert code == 0
    assert "no_network_path" in out and "docs: https://" in out
    code, out, _ = run_main(monkeypatch, capsys, ["kb", "list"])
    assert code == 0
    assert "stop_code.user_initiated" in out


def test_explain_overlong_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        monkeypatch, capsys, ["explain", "CannotPullContainerError: " + "dial tcp " * 3000]
    )
    assert code == 2
    assert_one_line_error(err)
    assert out == ""


@pytest.mark.parametrize(
    "message",
    [
        "a" * 5000 + "!",
        "CannotPullContainerError: " + "dial tcp " * 1500,
        "ResourceInitializationError: unable to retrieve ecr registry auth" + " dial tcp " * 1400,
        "CannotPullContainerError: failed to resolve ref " + "a/" * 4000 + "!",
        "unable to retrieve secrets from asm " + "unable to " * 1500,
    ],
    ids=["a5000", "dialtcp1500", "auth-dialtcp", "slashes", "unable"],
)
def test_hostile_but_short_messages_are_handled_quickly(message: str) -> None:
    start = time.monotonic()
    result = runner.invoke(app, ["explain", "--json", message])
    assert time.monotonic() - start < 5
    assert result.exit_code in (0, 1), result.output
    assert len(json.loads(result.stdout)) == 1


CATASTROPHIC = """\
id = "evil.nested"
title = "A pattern with a nested quantifier"
summary = "Exists to prove that a regex timeout becomes a clean error."
docs = ["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/welcome.html"]

[[pattern]]
regex = '''(a+)+$'''
examples = ['''aaaa''']

[[hypothesis]]
id = "nested"
claim = "The pattern backtracks."
kinds = ["task"]
remediation = "Rewrite it."
"""


@pytest.fixture
def evil_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "evil").mkdir(parents=True)
    (root / "evil" / "nested.toml").write_text(CATASTROPHIC, encoding="utf-8")
    return root


def test_catastrophic_pattern_times_out_into_exit_2(
    evil_kb: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = "a" * 5000 + "!"
    start = time.monotonic()
    code, _, err = run_main(monkeypatch, capsys, ["explain", "--knowledge", str(evil_kb), hostile])
    assert time.monotonic() - start < 5
    assert code == 2
    assert_one_line_error(err)
    assert "evil.nested" in err and "hostile" in err
    # the same through diagnose --events
    events = evil_kb.parent / "events.txt"
    events.write_text(hostile + "\n")
    code, _, err = run_main(
        monkeypatch,
        capsys,
        ["diagnose", "--events", str(events), "--offline", "--knowledge", str(evil_kb)],
    )
    assert code == 2
    assert_one_line_error(err)


def test_broken_knowledge_dir_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "y.toml").write_text('id = "x.y"\ntitle = [', encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, ["explain", "--knowledge", str(tmp_path), "hi"])
    assert code == 2
    assert_one_line_error(err)
    assert "y.toml" in err


# --------------------------------------------------------------------------- real processes


def test_script_explain_exit_codes() -> None:
    ok = run_script(["explain", "--json", SEED_PULL, SEED_AUTH])
    assert ok.returncode == 0, ok.stderr
    assert [d["entry"] for d in json.loads(ok.stdout)] == [
        "image_pull.network_timeout",
        "resource_init.registry_auth_unreachable",
    ]
    partial = run_script(["explain", "-"], stdin=f"{SEED_PULL}\n{UNKNOWN}\n".encode())
    assert partial.returncode == 1
    assert partial.stderr == b""


def test_script_diagnose_offline_exit_0_when_recognised() -> None:
    done = run_script(["diagnose", "--events", str(SEED_FILE), "--offline", "--format", "json"])
    assert done.returncode == 0, done.stderr  # issue 9: every message recognised
    assert json.loads(done.stdout)["schema"] == "ecsdoctor.diagnosis/v1"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["diagnose", "--events", "-", "--offline"], b'{"foo": 1}'),
        (["diagnose", "--events", "-", "--offline"], b"\x00\x01\x02binary"),
        (["diagnose", "--events", "-", "--offline"], b'{"tasks": [}'),
        (["diagnose", "--events", "/nonexistent/file.json", "--offline"], b""),
        (["kb", "show", "unknown"], b""),
    ],
    ids=["wrong-shape", "binary", "broken-json", "missing-file", "kb-show"],
)
def test_script_errors_are_one_line(args: list[str], stdin: bytes) -> None:
    done = run_script(args, stdin=stdin)
    assert done.returncode == 2, done
    assert done.stdout == b""
    assert_one_line_error(done.stderr.decode())


@pytest.mark.parametrize(
    "args",
    [
        ["diagnose", "--events", "-", "--offline", "--format", "yaml"],
        ["diagnose", "--bogus"],
        ["kb", "show"],
    ],
    ids=["bad-format", "unknown-option", "missing-argument"],
)
def test_usage_errors_exit_2(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(monkeypatch, capsys, args)
    assert "Traceback" not in err
    assert code == 2, err
    assert_one_line_error(err)


def test_script_20mb_single_line_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"CannotPullContainerError: " + b"x" * (20 * 1024 * 1024))
    start = time.monotonic()
    done = run_script(["diagnose", "--events", str(path), "--offline"], timeout=15)
    assert time.monotonic() - start < 10
    assert done.returncode == 2
    assert_one_line_error(done.stderr.decode())


def test_script_20mb_of_short_lines_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    line = b"CannotPullContainerError: something went wrong\n"
    path.write_bytes(line * (20 * 1024 * 1024 // len(line)))
    done = run_script(["diagnose", "--events", str(path), "--offline"], timeout=6)
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr.decode()


def test_script_catastrophic_pattern(evil_kb: Path) -> None:
    start = time.monotonic()
    done = run_script(["explain", "--knowledge", str(evil_kb), "a" * 5000 + "!"])
    assert time.monotonic() - start < 10
    assert done.returncode == 2
    assert_one_line_error(done.stderr.decode())


# --------------------------------------------------------------------------- properties


@pytest.fixture(scope="module")
def shipped_kb() -> KnowledgeBase:
    return KnowledgeBase(load_entries())


def _explain_or_input_error(text: str, kb: KnowledgeBase) -> Any:
    try:
        return explain_signals(list(iter_messages([text])), kb)
    except InputError:
        return None


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=400))
def test_explain_arbitrary_text_raises_only_input_error(
    shipped_kb: KnowledgeBase, text: str
) -> None:
    result = _explain_or_input_error(text, shipped_kb)
    if result is not None:
        assert len(result) == 1


PREFIXES = st.sampled_from(
    [
        "",
        "CannotPullContainerError: ",
        "ResourceInitializationError: unable to pull secrets or registry auth: ",
        "(service web) ",
        "Essential container in task exited ",
        "\x1b[31m",
    ]
)


@settings(max_examples=60, deadline=None)
@given(PREFIXES, st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=200))
def test_explain_text_output_has_no_control_characters(prefix: str, text: str) -> None:
    message = prefix + text
    result = runner.invoke(app, ["explain", "--", message])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, InputError), repr(result.exception)
        return
    assert result.exit_code in (0, 1)
    assert not CONTROL.search(result.stdout), repr(result.stdout)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=120).filter(str.strip), min_size=1, max_size=4))
def test_explain_json_is_one_object_per_message(messages: list[str]) -> None:
    result = runner.invoke(app, ["explain", "--json", "--", *messages])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert isinstance(result.exception, InputError), repr(result.exception)
        return
    docs = json.loads(result.stdout)
    assert len(docs) == len(messages)
    assert result.exit_code == (0 if all(d["entry"] for d in docs) else 1)


# --------------------------------------------------------------------------- AWS CLI habits (issue 9)


def test_no_arguments_prints_the_help_on_stdout_exit_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(monkeypatch, capsys, [])
    assert code == 0 and err == ""
    assert out.startswith("Usage: ecsdoctor") and "diagnose" in out and "explain" in out
    code, out, err = run_main(monkeypatch, capsys, ["kb"])
    assert code == 0 and err == "" and "stats" in out


def test_version_comes_from_the_package_metadata(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(monkeypatch, capsys, ["--version"])
    assert code == 0
    assert out == f"ecsdoctor {cli.package_version()}\n"
    assert re.fullmatch(r"ecsdoctor \d+\.\d+\.\d+.*\n", out)


def test_completion_is_installable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(monkeypatch, capsys, ["--help"])
    assert code == 0
    assert "--install-completion" in out and "--show-completion" in out and "--no-color" in out


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["diagnose", "--events", str(SEED_FILE)]
    code, out, _ = run_main(monkeypatch, capsys, args)  # captured: not a terminal
    assert code == 0 and "\x1b" not in out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    code, out, _ = run_main(monkeypatch, capsys, args)  # a terminal: the headline in colour
    assert code == 0 and out.startswith("\x1b[1;33mRECOGNISED FAILURE: ")
    assert out.count("\x1b[") == 2  # bold on, reset: nothing else is coloured
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run_main(monkeypatch, capsys, args)
    assert code == 0 and "\x1b" not in out
    monkeypatch.delenv("NO_COLOR")
    code, out, _ = run_main(monkeypatch, capsys, ["--no-color", *args])
    assert code == 0 and "\x1b" not in out


def test_kb_stats_outside_the_checkout_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(monkeypatch, capsys, ["kb", "stats"])
    assert code == 0, err
    assert f"no samples at {tmp_path / 'sample_events'}" in err
    assert out  # the table is still printed


def test_demo_without_the_extra_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from ecsdoctor.demo import run as demo_run

    real = importlib.util.find_spec
    monkeypatch.setattr(
        demo_run, "find_spec", lambda name: None if name == "moto" else real(name)
    )
    code, out, err = run_main(monkeypatch, capsys, ["demo"])
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert "'demo' extra" in err and "ecsdoctor-cli[demo]" in err


def _live_task(region_env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in region_env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "eu-west-3"}, True),
        ({"AWS_REGION": None, "AWS_DEFAULT_REGION": "us-east-1"}, True),
        ({"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "us-east-1"}, False),
        ({"AWS_REGION": None, "AWS_DEFAULT_REGION": "eu-west-3"}, False),
    ],
    ids=["AWS_REGION-wins", "AWS_DEFAULT_REGION", "AWS_REGION-elsewhere", "default-elsewhere"],
)
def test_cli_honours_aws_region_then_aws_default_region(
    env: dict[str, str | None],
    found: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The task lives in us-east-1; a task id (no ARN) is looked up where the environment says."""
    import boto3
    from moto import mock_aws

    from ecsdoctor.demo.scenarios import SCENARIOS

    with mock_aws():
        built = SCENARIOS["log-group-missing"].build(boto3.session.Session(region_name="us-east-1"))
        _live_task(env, monkeypatch)
        task_id = built.task_arn.rsplit("/", 1)[-1]
        code, out, err = run_main(
            monkeypatch, capsys, ["diagnose", "--task", task_id, "--cluster", "prod", "--json"]
        )
    if found:
        assert code == 0, err
        assert json.loads(out)["subject"]["region"] == "us-east-1"
    else:
        assert code == 3, (out, err)
        assert_one_line_error(err)


def test_scan_takes_the_region_from_the_cluster_arn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3
    from moto import mock_aws

    from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS

    with mock_aws():
        built = SERVICE_SCENARIOS["service-restart-forever"].build(
            boto3.session.Session(region_name="us-east-1")
        )
        monkeypatch.setenv("AWS_REGION", "eu-west-3")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
        arn = f"arn:aws:ecs:us-east-1:{built.account}:cluster/{built.cluster}"
        code, out, err = run_main(monkeypatch, capsys, ["scan", "--cluster", arn, "--json"])
        assert code == 0, err
        doc = json.loads(out)
        assert doc["subject"]["region"] == "us-east-1"
        assert {s["name"] for s in doc["services"]} == {built.service}
        # by name only, the environment's region (eu-west-3) is scanned, where nothing runs
        code, out, err = run_main(monkeypatch, capsys, ["scan", "--cluster", built.cluster])
        assert code != 0
