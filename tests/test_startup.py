"""Start-up stays cheap by construction: which modules `--help` and `explain` load, how many
patterns `explain` compiles, and that the console script's typer-free lane for `explain MESSAGE`
answers exactly as the typer app does. Mechanism only: the timings are in docs/performance.md.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecsdoctor import cli, console
from ecsdoctor.report import Format as ReportFormat

ROOT = Path(__file__).resolve().parents[1]

#: Modules `--help` must not load: the renderers, redaction, the knowledge base, boto3 and what
#: typer only needs to run a command (pydantic, since typer 0.29) or to draw rich help.
NOT_FOR_HELP = (
    "ecsdoctor.report",
    "ecsdoctor.redaction",
    "ecsdoctor.kb",
    "ecsdoctor.models",
    "ecsdoctor.pipeline",
    "regex",
    "tomllib",
    "pydantic",
    "rich.console",
    "importlib.metadata",
    "boto3",
    "networkx",
)
#: Modules `explain MESSAGE` must not load once the knowledge index cache is warm.
NOT_FOR_EXPLAIN = (
    "typer",
    "pydantic",
    "rich",
    "tomllib",
    "ecsdoctor.report",
    "ecsdoctor.cli",
    "importlib.metadata",
    "boto3",
    "botocore",
    "networkx",
)
#: Patterns `explain MESSAGE` may compile: the ones the prefilter selects for that message (the
#: knowledge base holds about 200).
MOST_COMPILED = 8

_PROBE = """
import json, sys
sys.argv = ["ecsdoctor", *{args!r}]
from ecsdoctor.console import main
try:
    main()
except SystemExit:
    pass
modules = sorted(sys.modules)
compiled = None
if "ecsdoctor.pipeline" in sys.modules:
    from ecsdoctor.kb.cache import LazyRegex
    patterns = [p.regex for e in sys.modules["ecsdoctor.pipeline"].load_knowledge().entries
                for p in e.patterns]
    compiled = [sum(isinstance(r, LazyRegex) for r in patterns),
                sum(not isinstance(r, LazyRegex) or r.compiled for r in patterns)]
print("PROBE", json.dumps([modules, compiled]))
"""


def _probe(args: list[str], cache: Path) -> tuple[set[str], list[int] | None]:
    """Run the console script in a fresh interpreter: the modules it loaded, and (when it loaded
    the knowledge base) how many patterns were read lazily and how many got compiled."""
    env = {**os.environ, "ECSDOCTOR_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("ECSDOCTOR_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, done.stderr
    modules, compiled = json.loads(lines[-1].removeprefix("PROBE "))
    return set(modules), compiled


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]


def test_help_loads_no_command_machinery(tmp_path: Path) -> None:
    modules, _ = _probe(["--help"], tmp_path)
    assert "typer" in modules  # the help is typer's own, unchanged
    assert _loaded(modules, NOT_FOR_HELP) == []


def test_explain_loads_no_parser_and_compiles_only_selected_patterns(tmp_path: Path) -> None:
    message = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    _probe(["explain", message], tmp_path)  # the first run validates and fills the cache
    modules, compiled = _probe(["explain", message], tmp_path)
    assert _loaded(modules, NOT_FOR_EXPLAIN) == []
    assert compiled is not None
    lazy, done = compiled
    assert lazy >= 150  # read back from the cache: nothing compiled up front
    assert 1 <= done <= MOST_COMPILED


def test_the_format_choices_are_the_renderers_formats() -> None:
    assert [f.value for f in cli.Format] == [f.value for f in ReportFormat]


# --------------------------------------------------------------------------- the fast lane


@pytest.mark.parametrize(
    ("argv", "plain"),
    [
        (["explain", "CannotPullContainerError: x"], True),
        (["explain", "a", "b"], True),
        (["explain", "-"], True),
        (["explain"], True),
        (["explain", ""], True),
        (["explain", "--json", "x"], False),
        (["explain", "x", "--jsonl"], False),
        (["explain", "-h"], False),
        (["explain", "--", "x"], False),
        (["explain", "--knowledge=k", "x"], False),
        (["--no-color", "explain", "x"], False),
        (["kb", "list"], False),
        (["--help"], False),
        ([], False),
    ],
)
def test_only_messages_alone_take_the_fast_lane(argv: list[str], plain: bool) -> None:
    assert console.plain_explain(argv) is plain


def test_shell_completion_never_takes_the_fast_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ECSDOCTOR_COMPLETE", "bash_complete")
    assert not console.plain_explain(["explain", "x"])


def _run(
    entry: str,
    argv: list[str],
    stdin: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["ecsdoctor", *argv])
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    )
    main = console.main if entry == "console" else cli.main
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (
            ["explain", "CannotPullContainerError: pull image manifest has been retried 5 time(s)"],
            "",
        ),
        (["explain", "ResourceInitializationError: unable to pull secrets", "nothing known"], ""),
        (["explain", "an application line that matches nothing at all"], ""),
        (["explain", ""], ""),
        (["explain", "x" * 20_000], ""),
        (["explain", "CannotPullContainerError: password=hunter2 \x1b[31mred\x1b[0m"], ""),
        (["explain", "-"], "CannotPullContainerError: ref not found\n\nEssentialContainerExited\n"),
        (["explain"], "Task failed ELB health checks in (target-group arn:aws:x)\n"),
        (["explain"], ""),
    ],
)
def test_the_fast_lane_answers_as_the_typer_app(
    argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert console.plain_explain(argv)
    fast = _run("console", argv, stdin, monkeypatch, capsys)
    typer_app = _run("cli", argv, stdin, monkeypatch, capsys)
    assert fast == typer_app
    assert "hunter2" not in fast[1] + fast[2]
