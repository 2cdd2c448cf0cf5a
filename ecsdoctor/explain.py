"""Offline explanation of messages: which knowledge entry, what it captured, what to check."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Signal


@dataclass(frozen=True, slots=True)
class Explanation:
    """The knowledge-base reading of one message."""

    message: str
    entry: str | None
    title: str | None
    severity: str | None
    captures: dict[str, str]
    kinds: tuple[str, ...]
    hypotheses: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, claim, kinds)
    closest: tuple[str, ...] = ()  # for an unmatched message: the nearest entries


def explain_signals(signals: Sequence[Signal], kb: KnowledgeBase) -> list[Explanation]:
    """Explain every signal in order; unmatched ones name the closest entries instead."""
    result: list[Explanation] = []
    for signal in signals:
        match = kb.match(signal)
        if match is None:
            result.append(
                Explanation(signal.text, None, None, None, {}, (), (), closest(signal.text, kb))
            )
            continue
        entry = kb.by_id[match.entry]
        result.append(
            Explanation(
                message=signal.text,
                entry=entry.id,
                title=entry.title,
                severity=entry.severity.value,
                captures=dict(match.captures),
                kinds=entry.kinds,
                hypotheses=tuple((h.id, h.claim, h.kinds) for h in entry.hypotheses),
            )
        )
    return result


def closest(message: str, kb: KnowledgeBase, limit: int = 3) -> tuple[str, ...]:
    """Entries whose examples look most like `message` (a hint for an unmatched one)."""
    head = message[:200].lower()
    scored: list[tuple[float, str]] = []
    for entry in kb.entries:
        best = 0.0
        for pattern in entry.patterns:
            for example in pattern.examples:
                matcher = difflib.SequenceMatcher(None, head, example[:200].lower())
                if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                    best = max(best, matcher.ratio())
        if best >= 0.3:
            scored.append((best, entry.id))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return tuple(entry_id for _, entry_id in scored[:limit])
