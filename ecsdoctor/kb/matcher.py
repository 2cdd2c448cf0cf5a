"""Match signals against the knowledge base: the highest-priority entry that matches wins.

Matching is built to stay cheap on large inputs: each pattern is indexed by a literal anchor (a
word or substring every match must contain, see `anchors.py`), so a message is scanned once and
tried only against the patterns whose anchor it contains; a message wrapped by a deployment tool
is unwrapped first (`unwrap.py`); a message the console cut short is matched as a prefix of the
pattern (`regex` partial matching) with lower confidence.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ecsdoctor.errors import InputError
from ecsdoctor.kb.anchors import WORD, Anchors, Requirement, anchors_of, words_of
from ecsdoctor.kb.entry import Entry, Pattern
from ecsdoctor.kb.unwrap import unwrap
from ecsdoctor.models import Match, Signal

#: Seconds one regex may spend on one message: a hostile string must not hang the process.
REGEX_TIMEOUT = 0.25

#: The slug of catch-all entries (`image_pull.generic`, ...): the last resort of their family. A
#: truncated message that lands on one may still name a narrower entry, so partial matching is
#: tried even when a catch-all matched in full.
GENERIC_SLUG = "generic"


def is_generic(entry: Entry) -> bool:
    """Whether `entry` is its family's catch-all."""
    return entry.id.rsplit(".", 1)[-1] == GENERIC_SLUG


#: Longest message tried as a cut-short prefix: partial matching scans every start position, so it
#: is kept to the sizes consoles and chat clients cut (ECS reasons are at most a few hundred).
PARTIAL_LIMIT = 2048

_ELLIPSES = ("...", "…", "..")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry that matched a signal, before ranking."""

    entry: Entry
    captures: Mapping[str, str]
    partial: bool = False  # matched only as a prefix: the message was cut inside the match
    cut: tuple[str, ...] = ()  # captures the cut may have shortened (dropped from `captures`)


@dataclass(frozen=True, slots=True)
class Recognition:
    """What the knowledge base made of one message: the winner, how sure, what wrapped it."""

    entry: Entry
    captures: Mapping[str, str]
    wrapper: str | None = None
    partial: bool = False
    cut: tuple[str, ...] = ()
    confidence: str = "high"  # "high", or "low" when the message was cut inside the match
    text: str = field(default="", repr=False)  # the text matched (unwrapped)


@dataclass(frozen=True, slots=True)
class _Indexed:
    order: int  # position in priority order
    entry: Entry
    pattern: Pattern
    anchors: Anchors
    words: frozenset[str]  # whole words every match contains (a subset test of the message's)
    others: tuple[Requirement, ...]  # the remaining requirements (alternatives, substrings)


def _indexed(order: int, entry: Entry, pattern: Pattern) -> _Indexed:
    anchors = anchors_of(pattern.regex.pattern, pattern.regex.flags)
    single = [r for r in anchors.ordered if len(r.words) == 1 and not r.substrings]
    others = tuple(r for r in anchors.ordered if r not in single)
    words = frozenset(w for r in single for w in (r.together or r.words))
    return _Indexed(order, entry, pattern, anchors, words, others)


class KnowledgeBase:
    """The loaded entries, with the matching rules over them."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(sorted(entries, key=lambda e: e.id))
        self.by_id: dict[str, Entry] = {e.id: e for e in self.entries}
        ranked = sorted(self.entries, key=lambda e: (-e.priority, e.id))
        indexed: list[_Indexed] = []
        for entry in ranked:
            for pattern in entry.patterns:
                indexed.append(_indexed(len(indexed), entry, pattern))
        self._patterns: tuple[_Indexed, ...] = tuple(indexed)
        self._by_word: dict[str, list[int]] = {}
        self._by_substring: dict[str, list[int]] = {}
        self._lead_word: dict[str, list[int]] = {}
        self._lead_substring: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._lead_always: list[int] = []
        # each entry's own phrases (see `_own_phrases`), worked out when a cut message needs them
        self._own: dict[str, frozenset[str]] = {}
        self._examples: dict[str, list[str]] | None = None
        # patterns by those literals (a cut before a pattern's lead anchor may still name it) and
        # the literals that name each pattern once complete: built for the first cut message
        self._by_own: dict[str, list[int]] | None = None
        self._naming: dict[int, frozenset[str]] = {}
        # index each pattern by its rarest required word (fewest patterns need it), else by its
        # best alternation or substring
        frequency: dict[str, int] = {}
        for item in indexed:
            for word in item.words:
                frequency[word] = frequency.get(word, 0) + 1
        for item in indexed:
            key: Requirement | None = item.anchors.best
            if item.words:
                rarest = min(item.words, key=lambda w: (frequency[w], -len(w), w))
                key = Requirement(frozenset({rarest}), frozenset())
            _index(item.order, key, self._by_word, self._by_substring, self._always)
            _index(
                item.order,
                item.anchors.lead,
                self._lead_word,
                self._lead_substring,
                self._lead_always,
            )

    def _own_phrases(self, entry_id: str) -> frozenset[str]:
        """Literal runs of an entry's patterns that no other entry's examples contain: the part
        of a message that names this family rather than a prefix several families share."""
        own = self._own.get(entry_id)
        if own is not None:
            return own
        if self._examples is None:
            self._examples = {
                e.id: [x.casefold() for p in e.patterns for x in p.examples] for e in self.entries
            }
        examples = self._examples
        phrases = {
            phrase.strip()
            for item in self._patterns
            if item.entry.id == entry_id
            for requirement in item.anchors.ordered
            for phrase in requirement.phrases | requirement.substrings
            if len(phrase.strip()) >= 6
        }
        own = frozenset(
            phrase
            for phrase in phrases
            if not any(
                phrase in x for other, xs in examples.items() if other != entry_id for x in xs
            )
        )
        self._own[entry_id] = own
        return own

    def _cut_index(self) -> dict[str, list[int]]:
        """Patterns by their own literals, and each pattern's naming literals (`_naming`)."""
        if self._by_own is not None:
            return self._by_own
        by_own: dict[str, list[int]] = {}
        for item in self._patterns:
            entry_own = self._own_phrases(item.entry.id)
            own = {
                phrase.strip()
                for requirement in item.anchors.ordered
                for phrase in requirement.phrases | requirement.substrings
                if phrase.strip() in entry_own
            }
            for phrase in own:
                by_own.setdefault(phrase, []).append(item.order)
            # the literals that name the pattern once complete: one of several alternatives
            # ("failed to extract layer|/var/lib/containerd/") beside another literal only sets
            # the scene for it ("no space left on device") and names nothing by itself
            scene = {
                phrase
                for r in item.anchors.ordered
                if len(item.anchors.ordered) > 1 and len(r.phrases | r.substrings) > 1
                for phrase in r.phrases | r.substrings
            }
            self._naming[item.order] = frozenset(
                p for p in own if not any(p == x.strip() for x in scene)
            )
        self._by_own = by_own
        return by_own

    # ------------------------------------------------------------------ selection by anchors

    def _selected(self, folded: str, words: set[str], lead: bool = False) -> list[int]:
        by_word, by_sub, always = (
            (self._lead_word, self._lead_substring, self._lead_always)
            if lead
            else (self._by_word, self._by_substring, self._always)
        )
        chosen = set(always)
        for word in words:
            hits = by_word.get(word)
            if hits is not None:
                chosen.update(hits)
        for substring, hits in by_sub.items():
            if substring in folded:
                chosen.update(hits)
        return sorted(chosen)

    # ------------------------------------------------------------------ matching

    def candidates(self, signal: Signal) -> list[Candidate]:
        """Every entry that matches `signal` in full, highest priority first (ties by id)."""
        text = signal.text
        return self._full(signal, text, stop_after_top=False)

    def _full(self, signal: Signal, text: str, stop_after_top: bool) -> list[Candidate]:
        folded = text.casefold()
        words = words_of(folded)
        found: list[Candidate] = []
        seen: set[str] = set()
        top: int | None = None
        for order in self._selected(folded, words):
            item = self._patterns[order]
            entry = item.entry
            if top is not None and stop_after_top and entry.priority < top:
                break
            if entry.id in seen or not _applies(signal, item.pattern):
                continue
            if not item.words <= words or not all(r.satisfied(words, folded) for r in item.others):
                continue  # a literal every match needs is absent: the regex cannot match
            hit = _search(item, text, partial=False)
            if hit is not None:
                seen.add(entry.id)
                found.append(Candidate(entry, {k: v for k, v in hit.groupdict().items() if v}))
                top = entry.priority if top is None else top
        found.sort(key=lambda c: (-c.entry.priority, c.entry.id))
        return found

    def _partial(self, signal: Signal, text: str, floor: int) -> list[Candidate]:
        """Entries above `floor` whose pattern the message is a cut-short prefix of."""
        if len(text) > PARTIAL_LIMIT:
            return []  # consoles and chat clients cut short messages; a long line is not one
        stripped = text.rstrip()
        closed = len(stripped) < len(text)  # whitespace after the last word: it is whole
        for ellipsis in _ELLIPSES:
            if stripped.endswith(ellipsis):
                before = stripped[: -len(ellipsis)]
                stripped = before.rstrip()
                closed = len(stripped) < len(before)  # "word ..." cut after a whole word
                break
        folded = stripped.casefold()
        words = words_of(folded)
        # the last word may itself be cut: it proves nothing
        last = WORD.findall(folded[-40:])
        if last and folded.endswith(last[-1]):
            words.discard(last[-1])
        found: list[Candidate] = []
        consistent: set[str] = set()  # every entry the cut text could still be
        naming: set[str] = set()  # entries a literal only they say names, complete, in the text
        chosen = set(self._selected(folded, words, lead=True))
        for phrase, orders in self._cut_index().items():
            if phrase in folded:
                chosen.update(orders)
        for order in sorted(chosen):
            item = self._patterns[order]
            entry = item.entry
            if entry.priority <= floor:
                break
            own = self._own_phrases(entry.id)
            if not _applies(signal, item.pattern) or not any(p in folded for p in own):
                continue  # nothing only this entry says is in the text: it cannot be distinctly it
            hit = _search(item, stripped, partial=True)
            if hit is None or not hit.partial:
                continue
            span = str(hit.group()).casefold()
            named = _names_it(span, self._naming[order], closed and hit.end() == len(stripped))
            if named:
                naming.add(entry.id)
            if named or sum(1 for r in item.anchors.ordered if r.kept_in(span)) >= 2:
                consistent.add(entry.id)
            if entry.id in {c.entry.id for c in found}:
                continue
            if not named and not _distinctive(item.anchors, hit, own):
                continue
            cut = tuple(
                name
                for name, value in hit.groupdict().items()
                if value is not None and hit.end(name) >= len(stripped)
            )
            captures = {k: v for k, v in hit.groupdict().items() if v and k not in cut}
            found.append(Candidate(entry, captures, partial=True, cut=cut))
        if len(naming) == 1:  # one family names itself: the others only share its prefix
            return [c for c in found if c.entry.id in naming]
        if len(consistent) != 1:  # the cut left a prefix several families share: ambiguous
            return []
        return found

    def distinctive_end(self, entry_id: str, text: str) -> int | None:
        """Where the prefix of `text` that names `entry_id` ends: just after the whole word that
        completes the first literal only that entry's patterns say (None when there is none).
        A cut anywhere after it still lands on the entry (see `_partial`)."""
        folded = text.casefold()
        ends: list[int] = []
        self._cut_index()
        for item in self._patterns:
            if item.entry.id != entry_id:
                continue
            for phrase in self._naming.get(item.order, frozenset()):
                begin = folded.find(phrase)
                if begin < 0:
                    continue
                at = begin + len(phrase)
                while at < len(text) and (text[at].isalnum() or text[at] == "_"):
                    at += 1
                # the pattern holds the literal there, not a stray word of the message
                hit = _search(item, text[:at], partial=True)
                if hit is not None and hit.start() <= begin:
                    ends.append(at + 1)
        return min(ends) if ends else None

    def recognize(self, signal: Signal) -> Recognition | None:
        """The winning entry for one message, unwrapped and tolerant of truncation."""
        inner, wrapper = unwrap(signal.text)
        for text in (inner, signal.text) if inner != signal.text else (signal.text,):
            found = self._recognize_text(signal, text)
            if found is not None:
                return Recognition(
                    entry=found.entry,
                    captures=found.captures,
                    wrapper=wrapper,
                    partial=found.partial,
                    cut=found.cut,
                    confidence="low" if found.partial or found.cut else "high",
                    text=text,
                )
        return None

    def _recognize_text(self, signal: Signal, text: str) -> Candidate | None:
        full = self._full(signal, text, stop_after_top=True)
        best = full[0] if full else None
        # a cut message may fully match a broader, lower-priority entry (a catch-all, or the
        # family-level wording the narrower one extends): a narrower entry it is a cut prefix of,
        # naming itself by a literal only it says, outranks it
        floor = best.entry.priority if best else -1
        partial = self._partial(signal, text, floor)
        if partial:
            return partial[0]
        if best is not None and _ends_cut(text):
            cut = tuple(k for k, v in best.captures.items() if text.rstrip().endswith(v))
            if cut:
                kept = {k: v for k, v in best.captures.items() if k not in cut}
                return Candidate(best.entry, kept, cut=cut)
        return best

    def match(self, signal: Signal, index: int = 0) -> Match | None:
        """The winning entry for one signal, or None when nothing matches."""
        found = self.recognize(signal)
        if found is None:
            return None
        return Match(
            entry=found.entry.id,
            signal=index,
            captures=dict(found.captures),
            priority=found.entry.priority,
            severity=found.entry.severity,
            wrapper=found.wrapper,
        )

    def match_all(self, signals: Sequence[Signal]) -> list[Match]:
        """The winning entry of every signal that matched, in signal order."""
        return [m for i, s in enumerate(signals) if (m := self.match(s, i)) is not None]


def _index(
    order: int,
    requirement: object,
    by_word: dict[str, list[int]],
    by_substring: dict[str, list[int]],
    always: list[int],
) -> None:
    if not isinstance(requirement, Requirement):
        always.append(order)
        return
    for word in requirement.words:
        by_word.setdefault(word, []).append(order)
    for substring in requirement.substrings:
        by_substring.setdefault(substring, []).append(order)


def _applies(signal: Signal, pattern: Pattern) -> bool:
    return signal.pasted or signal.source in pattern.sources


def _ends_cut(text: str) -> bool:
    return text.rstrip().endswith(_ELLIPSES)


def _search(item: _Indexed, text: str, partial: bool):  # type: ignore[no-untyped-def]
    try:
        return item.pattern.regex.search(text, timeout=REGEX_TIMEOUT, partial=partial)
    except TimeoutError as err:
        raise InputError(
            f"matching a {len(text)}-character message against {item.entry.id} "
            f"took over {REGEX_TIMEOUT}s; the message looks hostile"
        ) from err


def _distinctive(anchors: Anchors, hit: object, own: frozenset[str]) -> bool:
    """A cut match counts when the cut fell inside its last literal or a capture after it.

    Every required literal but the last must be in the text, the last one started (the text
    ends with its beginning) or present, and the matched part must hold a literal no other
    entry's examples contain, so a prefix several families share never picks one of them.
    """
    span = str(hit.group()).casefold()  # type: ignore[attr-defined]
    needed = anchors.ordered
    if len(needed) < 2:
        return False
    kept = [r for r in needed if r.kept_in(span)]
    missing = [r for r in needed if not r.kept_in(span)]
    if len(kept) < 2 or len(missing) > 1:
        return False
    if missing and not _started(missing[0], span):
        return False
    return any(p in span for p in own)


def _names_it(span: str, own: frozenset[str], closed: bool = False) -> bool:
    """Whether the matched part holds, complete, a literal only this entry says.

    Complete means followed by more text (or by whitespace the message ended with, `closed`): a
    literal the cut itself ended may be another word's beginning. Such a prefix names the family
    wherever the cut falls after it.
    """
    end = len(span.rstrip())
    for phrase in own:
        at = span.find(phrase)
        if at >= 0 and (at + len(phrase) < end or closed):
            return True
    return False


def _started(requirement: Requirement, span: str) -> bool:
    tail = span.rstrip()
    for phrase in requirement.phrases | requirement.substrings:
        phrase = phrase.strip()
        for size in range(len(phrase) - 1, 2, -1):
            if tail.endswith(phrase[:size]):
                return True
    return False


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


def iter_recognitions(signals: Iterable[Signal], kb: KnowledgeBase) -> Iterable[Recognition | None]:
    """Recognize signals one at a time (a generator: memory does not grow with the input)."""
    for signal in signals:
        yield kb.recognize(signal)
