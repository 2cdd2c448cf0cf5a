"""Match signals against the knowledge base: the highest-priority entry that matches wins."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ecsdoctor.errors import InputError
from ecsdoctor.kb.entry import Entry
from ecsdoctor.models import Match, Signal

#: Seconds one regex may spend on one message: a hostile string must not hang the process.
REGEX_TIMEOUT = 0.25


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry that matched a signal, before ranking."""

    entry: Entry
    captures: Mapping[str, str]


class KnowledgeBase:
    """The loaded entries, with the matching rules over them."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(sorted(entries, key=lambda e: e.id))
        self.by_id: dict[str, Entry] = {e.id: e for e in self.entries}

    def candidates(self, signal: Signal) -> list[Candidate]:
        """Every entry that matches `signal`, highest priority first (ties by id)."""
        found: list[Candidate] = []
        for entry in self.entries:
            for pattern in entry.patterns:
                if not signal.pasted and signal.source not in pattern.sources:
                    continue
                try:
                    hit = pattern.regex.search(signal.text, timeout=REGEX_TIMEOUT)
                except TimeoutError as err:
                    raise InputError(
                        f"matching a {len(signal.text)}-character message against {entry.id} "
                        f"took over {REGEX_TIMEOUT}s; the message looks hostile"
                    ) from err
                if hit is not None:
                    captures = {k: v for k, v in hit.groupdict().items() if v}
                    found.append(Candidate(entry, captures))
                    break
        found.sort(key=lambda c: (-c.entry.priority, c.entry.id))
        return found

    def match(self, signal: Signal, index: int = 0) -> Match | None:
        """The winning entry for one signal, or None when nothing matches."""
        found = self.candidates(signal)
        if not found:
            return None
        best = found[0]
        return Match(
            entry=best.entry.id,
            signal=index,
            captures=dict(best.captures),
            priority=best.entry.priority,
            severity=best.entry.severity,
        )

    def match_all(self, signals: Sequence[Signal]) -> list[Match]:
        """The winning entry of every signal that matched, in signal order."""
        return [m for i, s in enumerate(signals) if (m := self.match(s, i)) is not None]


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def render_template(template: str, values: Mapping[str, object]) -> str:
    """Fill `{placeholders}`; lists render comma-joined and unknown values as `<name>`."""
    filled = _Fill()
    for key, value in values.items():
        if value is None or value == "" or value == () or value == []:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            filled[key] = ", ".join(str(v) for v in value)
        else:
            filled[key] = str(value)
    return string.Formatter().vformat(template, (), filled)
