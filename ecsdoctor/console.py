"""The `ecsdoctor` console script: every error one line and an exit code, and a fast lane for `explain`.

`ecsdoctor explain MESSAGE...` with messages only (no option) is the command an on-call engineer
pastes most, and the one that must answer at once. It runs here without loading typer, whose parser
would cost more than the explanation (typer 0.29 and later coerce every parameter through
pydantic). Every other command line, including any option, `--`, `-h` or shell completion, goes to
the typer app in `cli.py`, whose `explain` calls the same `explain_command`: for the command lines
the fast lane accepts, click would bind exactly the messages and the defaults, so both lanes print
the same bytes and exit with the same code (tests/test_startup.py runs both).

This module imports nothing at load time beyond the standard library's `os` and `sys`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def main() -> None:
    """The console script and `python -m ecsdoctor`."""
    argv = sys.argv[1:]
    if plain_explain(argv):
        messages = argv[1:]
        sys.exit(run(lambda: explain_command(messages or None)))
    from ecsdoctor.cli import main as cli_main

    cli_main()


def plain_explain(argv: Sequence[str]) -> bool:
    """Whether `argv` is `explain` followed by messages only: what click would bind as `messages`
    with every option at its default (a lone `-`, standard input, is a message to click too)."""
    return (
        bool(argv)
        and argv[0] == "explain"
        and all(arg == "-" or not arg.startswith("-") for arg in argv[1:])
        and "_ECSDOCTOR_COMPLETE" not in os.environ  # click's shell-completion request
    )


def run(action: Callable[[], object]) -> int:
    """Run a command; turn every error into one line on stderr and the exit code it deserves.

    Exit codes (docs/exit-codes.md): the command's own, 2 bad input or usage, 3 AWS not usable,
    4 an internal error (ECSDOCTOR_DEBUG=1 shows the traceback instead), 130 interrupted.
    """
    from ecsdoctor.errors import EcsDoctorError

    try:
        code = action()
    except EcsDoctorError as err:
        return _fail(str(err), err.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except RecursionError:
        return _fail("input nested too deeply", 2)
    except Exception as err:
        # click's exceptions (typer may vendor its own click): recognised by class name.
        names = {cls.__name__ for cls in type(err).__mro__}
        if "Abort" in names:
            return _fail("aborted", 130)
        if "ClickException" in names and hasattr(err, "format_message"):
            return _fail(str(err.format_message()), int(getattr(err, "exit_code", 2)) or 2)
        if os.environ.get("ECSDOCTOR_DEBUG"):
            raise
        from ecsdoctor.redaction import scrub

        return _fail(
            f"internal error ({type(err).__name__}: {scrub(str(err))[:300]}); "
            "set ECSDOCTOR_DEBUG=1 for details",
            4,
        )
    return code if isinstance(code, int) else 0


def _fail(message: str, code: int) -> int:
    from ecsdoctor.redaction import scrub

    sys.stderr.write(f"ecsdoctor: {scrub(message)}\n")
    return code


def explain_command(
    messages: list[str] | None,
    as_json: bool = False,
    as_jsonl: bool = False,
    knowledge: Path | None = None,
) -> int:
    """`ecsdoctor explain`: print each message's explanation; 0 when all were recognised, else 1."""
    import json

    from ecsdoctor.explain import (
        explain_signals,
        explanation_doc,
        explanation_text,
        iter_explanations,
    )
    from ecsdoctor.ingest import iter_messages, parse_lines, read_source
    from ecsdoctor.kb.unwrap import paste_messages
    from ecsdoctor.pipeline import load_knowledge
    from ecsdoctor.redaction import scrub, scrub_value

    kb = load_knowledge(knowledge)
    from_stdin = not messages or messages == ["-"]
    if as_jsonl:
        # Streamed: results are written as they are made, memory stays flat.
        lines = sys.stdin if from_stdin else (messages or [])
        stream = iter_explanations(paste_messages(lines), kb, "input")
        recognised = True
        for e in stream:
            recognised = recognised and e.entry is not None
            _out(json.dumps(scrub_value(explanation_doc(e)), ensure_ascii=False))
        return 0 if recognised else 1
    if from_stdin:
        text = read_source("-")
        signals = list(parse_lines(paste_messages(text.splitlines()), "standard input").signals)
    else:
        signals = list(iter_messages(messages or []))
    explanations = explain_signals(signals, kb)
    if as_json:
        docs = [scrub_value(explanation_doc(e)) for e in explanations]
        _out(json.dumps(docs, indent=2, ensure_ascii=False))
    else:
        # scrub each line (scrub itself neutralises line breaks)
        _out(
            "\n".join(
                "\n".join(scrub(line) for line in explanation_text(e).split("\n"))
                for e in explanations
            )
        )
    return 0 if all(e.entry for e in explanations) else 1


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
