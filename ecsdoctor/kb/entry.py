"""The knowledge entry types, as loaded and validated from `knowledge/*.toml`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecsdoctor.models import Severity, SignalSource


@dataclass(frozen=True, slots=True)
class Pattern:
    """One compiled regex of an entry and the signal sources it applies to."""

    regex: Any  # regex.Pattern[str]; the stubs' generic is awkward across versions
    sources: frozenset[SignalSource]
    examples: tuple[str, ...]
    groups: frozenset[str]


@dataclass(frozen=True, slots=True)
class HypothesisSpec:
    """A possible cause of an entry's failure, in order of prior likelihood."""

    id: str
    claim: str
    kinds: tuple[str, ...]
    checks: tuple[str, ...]
    remediation: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One failure family: how to recognise it and what may cause it."""

    id: str
    title: str
    summary: str
    severity: Severity
    priority: int
    docs: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    hypotheses: tuple[HypothesisSpec, ...]
    path: str

    @property
    def kinds(self) -> tuple[str, ...]:
        """Resource kinds to check, most telling first (hypothesis order, then kind order)."""
        seen: dict[str, None] = {}
        for hypothesis in self.hypotheses:
            for kind in hypothesis.kinds:
                seen.setdefault(kind, None)
        return tuple(seen)
