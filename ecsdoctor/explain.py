"""Offline explanation of messages: which knowledge entry, what it captured, what to check.

`iter_explanations` streams: one explanation per message as it is read, memory flat whatever the
input size; a message seen before is answered from a bounded cache, so a log that repeats the same
failure thousands of times costs one match. The "closest family" hint for an unrecognised message
is a word-overlap lookup in an index built once, not a similarity search over every example.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ecsdoctor.errors import InputError
from ecsdoctor.ingest import MAX_MESSAGE
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kb.anchors import WORD
from ecsdoctor.models import Signal
from ecsdoctor.pipeline import load_knowledge
from ecsdoctor.redaction import printable

#: Distinct messages whose explanation is kept for reuse (bounded: memory stays flat).
CACHE_SIZE = 4096
_HINT_CHARS = 300
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "in",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "the",
        "to",
        "was",
        "were",
        "with",
    ]
)


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
    wrapper: str | None = None  # the tool whose error text carried the message (terraform, ...)
    confidence: str | None = None  # "high"; "low" when the message was cut inside the match
    cut: tuple[str, ...] = ()  # captures the cut may have shortened (left out of `captures`)


class Explainer:
    """Explains messages one by one against one knowledge base, reusing work across messages."""

    def __init__(self, kb: KnowledgeBase, cache_size: int = CACHE_SIZE) -> None:
        self.kb = kb
        self._cache: OrderedDict[tuple[str, str, bool], Explanation] = OrderedDict()
        self._lines: OrderedDict[str, Explanation] = OrderedDict()
        self._cache_size = cache_size
        self._hints: dict[str, set[str]] | None = None
        self._sizes: dict[str, int] = {}
        self._hypotheses: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
            e.id: tuple((h.id, h.claim, h.kinds) for h in e.hypotheses) for e in kb.entries
        }
        self._kinds: dict[str, tuple[str, ...]] = {e.id: e.kinds for e in kb.entries}

    def explain(self, signal: Signal) -> Explanation:
        """The explanation of one signal (from the cache when the same message was seen)."""
        key = (signal.text, signal.source.value, signal.pasted)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._explain(signal)
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def explain_line(self, message: str) -> Explanation:
        """The explanation of one pasted message, answered from the cache before any work (even
        redaction) when the same line was seen: logs repeat the same failure many times."""
        cached = self._lines.get(message)
        if cached is not None:
            self._lines.move_to_end(message)
            return cached
        from ecsdoctor.ingest import plain_signal

        result = self.explain(plain_signal(message))
        self._lines[message] = result
        if len(self._lines) > self._cache_size:
            self._lines.popitem(last=False)
        return result

    def _explain(self, signal: Signal) -> Explanation:
        found = self.kb.recognize(signal)
        if found is None:
            return Explanation(signal.text, None, None, None, {}, (), (), self.closest(signal.text))
        entry = found.entry
        return Explanation(
            message=signal.text,
            entry=entry.id,
            title=entry.title,
            severity=entry.severity.value,
            captures=dict(found.captures),
            kinds=self._kinds[entry.id],
            hypotheses=self._hypotheses[entry.id],
            wrapper=found.wrapper,
            confidence=found.confidence,
            cut=found.cut,
        )

    def closest(self, message: str, limit: int = 3) -> tuple[str, ...]:
        """Entries whose examples share the most words with `message` (a hint, not a match)."""
        index = self._hint_index()
        words = _hint_words(message[:_HINT_CHARS])
        if not words:
            return ()
        shared: dict[str, int] = {}
        for word in words:
            for entry_id in index.get(word, ()):
                shared[entry_id] = shared.get(entry_id, 0) + 1
        scored = []
        for entry_id, count in shared.items():
            # most of the message's words appear in the entry's examples; ties go to the entry
            # whose examples are most like the message as a whole
            coverage = count / len(words)
            if count >= 2 and coverage >= 0.3:
                scored.append((coverage, count / self._sizes[entry_id], entry_id))
        scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
        return tuple(entry_id for _, _, entry_id in scored[:limit])

    def _hint_index(self) -> dict[str, set[str]]:
        if self._hints is None:
            index: dict[str, set[str]] = {}
            for entry in self.kb.entries:
                words: set[str] = set()
                for pattern in entry.patterns:
                    for example in pattern.examples:
                        words |= _hint_words(example[:_HINT_CHARS])
                self._sizes[entry.id] = max(len(words), 1)
                for word in words:
                    index.setdefault(word, set()).add(entry.id)
            self._hints = index
        return self._hints


def _hint_words(text: str) -> set[str]:
    return {
        w
        for w in WORD.findall(text.casefold())
        if len(w) > 1 and w not in _STOP_WORDS and not w.isdigit()
    }


def explain_signals(signals: Sequence[Signal], kb: KnowledgeBase) -> list[Explanation]:
    """Explain every signal in order; unmatched ones name the closest entries instead."""
    explainer = Explainer(kb)
    return [explainer.explain(signal) for signal in signals]


def iter_explanations(
    lines: Iterable[str], kb: KnowledgeBase | None = None, name: str = "input"
) -> Iterator[Explanation]:
    """Explain one message per non-blank line, lazily: each result is yielded as it is made.

    Memory stays flat whatever the number of lines (nothing is accumulated; the cache is
    bounded). A line longer than ingest accepts is an InputError, as for `explain MESSAGE`.
    """
    explainer = Explainer(kb or load_knowledge())
    for number, line in enumerate(lines, start=1):
        message = line.strip()
        if not message:
            continue
        if len(message) > MAX_MESSAGE:
            raise InputError(
                f"{name}: line {number}: a {len(message)}-character message; ECS messages are "
                f"at most a few hundred characters (limit {MAX_MESSAGE})"
            )
        yield explainer.explain_line(message)


def closest(message: str, kb: KnowledgeBase, limit: int = 3) -> tuple[str, ...]:
    """Entries whose examples look most like `message` (a hint for an unmatched one)."""
    return Explainer(kb).closest(message, limit)


def explanation_doc(e: Explanation) -> dict[str, object]:
    """The `explain --json` object of one explanation (DESIGN.md's fields, then additions)."""
    return {
        "message": e.message,
        "entry": e.entry,
        "title": e.title,
        "severity": e.severity,
        "captures": e.captures,
        "kinds": list(e.kinds),
        "hypotheses": [{"id": h, "claim": c, "kinds": list(k)} for h, c, k in e.hypotheses],
        "closest": list(e.closest),
        "wrapper": e.wrapper,
        "confidence": e.confidence,
        "cut": list(e.cut),
    }


def explanation_text(e: Explanation) -> str:
    """The terminal form of one explanation."""
    lines = [f"message: {printable(e.message)}"]
    if e.entry is None:
        lines.append("  not recognised by the knowledge base.")
        if e.closest:
            lines.append(f"  closest families: {', '.join(e.closest)}")
        lines.append(
            "  to teach it: add a knowledge entry (docs/knowledge.md), then `ecsdoctor kb lint`"
        )
        return "\n".join(lines) + "\n"
    lines.append(f"  {e.entry} [{e.severity}]: {e.title}")
    if e.wrapper:
        lines.append(f"  reported through: {e.wrapper} (the ECS error inside it is what matched)")
    if e.confidence == "low":
        cut = f" ({', '.join(e.cut)} cut off)" if e.cut else ""
        lines.append(f"  confidence: low: the message was cut short{cut}")
    for name, value in e.captures.items():
        lines.append(f"  {name}: {printable(value)}")
    if e.hypotheses:
        lines.append("  likely causes, most likely first:")
        for number, (_, claim, kinds) in enumerate(e.hypotheses, start=1):
            lines.append(f"    {number}. {claim} (check: {', '.join(kinds)})")
    return "\n".join(lines) + "\n"
