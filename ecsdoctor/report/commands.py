"""Pull the shell commands out of a remediation sentence so every format can show them pasteable.

Remediations are prose with AWS CLI commands inside (`aws ec2 create-vpc-endpoint ...`, after a
colon, in parentheses, in backticks, joined by `&&`). A command starts at `aws SERVICE OPERATION`
and takes `--option [value...]` tokens (quoted values whole) until the prose resumes. The prose
keeps a reference ("the command below") where each command stood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_START = re.compile(r"(?<![\w./-])aws [a-z0-9][a-z0-9-]* [a-z][a-z0-9-]*(?![\w.])")
_TRAILING = ".,;:)"
_SENTINEL = "\x00"
_NO_PROSE = re.compile(r"[\s.,;:&()]*(?:e\.g\.?)?[\s.,;:&()]*")
_JOINERS = re.compile(r"\x00(?:\s*(?:&&|;|,|and|then)?\s*\x00)+")


@dataclass(frozen=True, slots=True)
class Remedy:
    """A remediation split for display: the prose around the commands, and the commands."""

    prose: str
    commands: tuple[str, ...]


def _token(text: str, start: int) -> tuple[str, int] | None:
    """The shell word at `start` (quotes kept) and where it ends; None for an unclosed quote."""
    i = start
    while i < len(text) and not text[i].isspace() and text[i] != "`":
        if text[i] == "<" and ">" in text[i:]:  # a <placeholder>, spaces and all
            i = text.index(">", i) + 1
        elif text[i] in "'\"":
            close = text.find(text[i], i + 1)
            if close < 0:
                return None
            i = close + 1
        else:
            i += 1
    return text[start:i], i


def _command_end(text: str, start: int) -> int:
    """Where the command starting at `start` (at its `aws`) ends in `text`."""
    match = _START.match(text, start)
    assert match is not None
    end = match.end()
    after_option = False
    i = end
    while i < len(text):
        j = i
        while j < len(text) and text[j] == " ":
            j += 1
        if j >= len(text) or text[j] in "`\n":
            break
        read = _token(text, j)
        if read is None:
            break
        word, stop = read
        bare = word if word.strip(".") == "" else word.rstrip(_TRAILING)  # `...` is a value
        closes = bare != word
        if word.startswith("--") and len(bare) > 2:
            after_option = True
        elif after_option and not word.startswith(("(", "&", "|", ";")):
            after_option = True  # a value (or one more value of a list option)
        else:
            break
        end = j + len(bare)
        i = stop
        if closes:
            break
    return end


def split_remediation(text: str) -> Remedy:
    """The prose and the commands of one remediation."""
    commands: list[str] = []
    pieces: list[str] = []
    cursor = 0
    for match in _START.finditer(text):
        if match.start() < cursor:
            continue
        end = _command_end(text, match.start())
        start = match.start()
        # `aws ...` in backticks: the backticks go with it.
        if start > 0 and text[start - 1] == "`":
            close = text.find("`", end)
            if close >= 0 and not text[end:close].strip():
                start, end = start - 1, close + 1
        command = text[match.start() : end].strip("`").strip()
        commands.append(command)
        pieces.append(text[cursor:start])
        pieces.append(_SENTINEL)
        cursor = end
    if not commands:
        return Remedy(text.strip(), ())
    pieces.append(text[cursor:])
    prose = _JOINERS.sub(lambda m: _SENTINEL * 2, "".join(pieces))
    if _NO_PROSE.fullmatch(prose.replace(_SENTINEL, "")):
        return Remedy("", tuple(commands))
    prose = prose.replace(_SENTINEL * 2, "the commands below").replace(
        _SENTINEL, "the command below"
    )
    return Remedy(" ".join(prose.split()), tuple(commands))
