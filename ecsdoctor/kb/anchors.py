"""Literal anchors of a pattern: words or substrings any match must contain, found by parsing it.

The matcher scans a message once (its words, a few substrings) and tries only the patterns whose
anchor is present, instead of every regex in turn. An anchor is *required*: when a pattern has none
that can be proven, it is always tried, so the prefilter never hides a match.

Requirements are conservative: a word counts only when the pattern fixes both of its edges (a
non-word literal, `\\s`, `\\b` or `^`/`$` on each side), so it is a whole word of every text the
pattern matches; text and anchors are both case-folded, which only widens the prefilter.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

# CPython's own regex parser (private, stable since 3.11): it reads every pattern the knowledge
# base uses; one it cannot read simply gets no anchors and is always tried.
_C: Any = importlib.import_module("re._constants")
_P: Any = importlib.import_module("re._parser")

#: The word tokenizer the matcher applies to every message (case-folded first).
WORD = re.compile(r"\w+")
#: ASCII bytes that `\w` matches kept, every other byte made a space: `words_of`'s fast lane.
_ASCII_WORDS = bytes(c if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256))
_IS_WORD = re.compile(r"\w")
_MIN_SUBSTRING = 4


def words_of(folded: str) -> set[str]:
    """The distinct `WORD` matches of a text: for ASCII text (nearly every message) one byte
    translation and a split, several times cheaper than the regex."""
    if folded.isascii():
        return set(folded.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    return set(WORD.findall(folded))


_BOUND = "n"  # the atom matches only non-word characters (or is a word boundary / string edge)
_OPEN = "?"  # anything else: the edge of a neighbouring literal is not fixed
_SEE_THROUGH = "t"  # zero or more non-word characters: the edge is whatever lies beyond


@dataclass(frozen=True, slots=True)
class Requirement:
    """Any one of these words (kind "w") or substrings (kind "s") is in every match."""

    words: frozenset[str]
    substrings: frozenset[str]
    phrases: frozenset[str] = frozenset()  # the whole literal runs the anchors were cut from
    together: frozenset[str] = frozenset()  # every whole word of a literal run: all required

    def kept_in(self, folded: str) -> bool:
        """Whether a case-folded text holds one of the whole literal runs (a strict test)."""
        return any(p in folded for p in self.phrases or self.substrings)

    @property
    def weakest(self) -> int:
        """Length of the shortest alternative: longer anchors are rarer in other messages."""
        return min(len(a) for a in self.words | self.substrings)

    def satisfied(self, words: frozenset[str] | set[str], folded: str) -> bool:
        """Whether a case-folded text (and its word set) meets this requirement."""
        return bool(self.words & words) or any(s in folded for s in self.substrings)


@dataclass(frozen=True, slots=True)
class Anchors:
    """The requirements of one pattern, in the order they appear in it."""

    ordered: tuple[Requirement, ...]

    @property
    def best(self) -> Requirement | None:
        """The requirement the prefilter indexes: word anchors first, then the longest."""
        if not self.ordered:
            return None
        return max(self.ordered, key=lambda r: (not r.substrings, r.weakest))

    @property
    def lead(self) -> Requirement | None:
        """The first requirement: a message cut after it may still be this pattern's, truncated."""
        return self.ordered[0] if self.ordered else None


#: Anchors already known for a (pattern, IGNORECASE flag): read back from the knowledge index cache
#: (`ecsdoctor/kb/cache.py`), so a cached knowledge base is indexed without parsing its patterns.
_KNOWN: dict[tuple[str, int], Anchors] = {}


def remember(source: str, flags: int, anchors: Anchors) -> None:
    """Record the anchors `anchors_of(source, flags)` returns (as computed by an earlier run)."""
    _KNOWN[(source, flags & re.IGNORECASE)] = anchors


def anchors_of(source: str, flags: int = 0) -> Anchors:
    """Parse `source`; a pattern Python's parser cannot read has no anchors (always tried)."""
    known = _KNOWN.get((source, flags & re.IGNORECASE))
    if known is not None:
        return known
    try:
        parsed = _P.parse(source, flags & re.IGNORECASE)
    except (re.error, OverflowError, RecursionError, ValueError):
        return Anchors(())
    try:
        return Anchors(tuple(_sequence(list(parsed))))
    except RecursionError:  # pragma: no cover - absurdly nested pattern
        return Anchors(())


def _atoms(items: list[tuple[Any, Any]]) -> tuple[list[tuple[str, str]], list[Requirement]]:
    """Flatten a sequence into atoms ("c", char) / (_BOUND, "") / (_OPEN, "") and nested needs."""
    atoms: list[tuple[str, str]] = []
    nested: list[Requirement] = []
    for op, av in items:
        if op is _C.LITERAL:
            char = chr(av)
            atoms.append(("c", char) if _IS_WORD.match(char) else (_BOUND, char))
        elif op is _C.SUBPATTERN:
            inner_atoms, inner_needs = _atoms(list(av[-1]))
            atoms.extend(inner_atoms)
            nested.extend(inner_needs)
        elif op is _C.IN:
            atoms.append((_BOUND, "") if _class_is_non_word(av) else (_OPEN, ""))
        elif op is _C.AT:
            bound = av in (
                _C.AT_BEGINNING,
                _C.AT_BEGINNING_STRING,
                _C.AT_END,
                _C.AT_END_STRING,
                _C.AT_BOUNDARY,
            )
            atoms.append((_BOUND, "") if bound else (_OPEN, ""))
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", None)):
            low, _high, body = av
            body_items = list(body)
            if low >= 1:
                inner_atoms, inner_needs = _atoms(body_items)
                nested.extend(inner_needs)
                nested.extend(_sequence_from_atoms(inner_atoms))
                single_bound = len(inner_atoms) == 1 and inner_atoms[0][0] == _BOUND
                atoms.append((_BOUND, "") if single_bound else (_OPEN, ""))
            elif len(body_items) == 1 and _atoms(body_items)[0] == [(_BOUND, "")]:
                atoms.append((_SEE_THROUGH, ""))  # `\s*`: a non-word character or nothing
            else:
                atoms.append((_OPEN, ""))
        elif op is _C.BRANCH:
            atoms.append((_OPEN, ""))
            union = _branch(av[1])
            if union is not None:
                nested.append(union)
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            inner_atoms, inner_needs = _atoms(list(av))
            atoms.extend(inner_atoms)
            nested.extend(inner_needs)
        else:  # ANY, NOT_LITERAL, ASSERT, ASSERT_NOT, GROUPREF, CATEGORY, ...
            atoms.append((_OPEN, ""))
    return atoms, nested


def _class_is_non_word(members: list[tuple[Any, Any]]) -> bool:
    for op, av in members:
        if op is _C.NEGATE:
            return False
        if op is _C.LITERAL:
            if _IS_WORD.match(chr(av)):
                return False
        elif op is _C.CATEGORY:
            if av not in (_C.CATEGORY_SPACE, _C.CATEGORY_NOT_WORD):
                return False
        else:
            return False
    return True


def _branch(alternatives: list[Any]) -> Requirement | None:
    words: set[str] = set()
    substrings: set[str] = set()
    phrases: set[str] = set()
    for alternative in alternatives:
        needs = _sequence(list(alternative))
        if not needs:
            return None
        best = max(needs, key=lambda r: (not r.substrings, r.weakest))
        words |= best.words
        substrings |= best.substrings
        phrases |= best.phrases or best.substrings
    return Requirement(frozenset(words), frozenset(substrings), frozenset(phrases))


def _sequence(items: list[tuple[Any, Any]]) -> list[Requirement]:
    atoms, nested = _atoms(items)
    return _sequence_from_atoms(atoms) + nested


def _sequence_from_atoms(atoms: list[tuple[str, str]]) -> list[Requirement]:
    """Whole words fixed on both sides, else literal runs of 4+ characters, in order."""
    found: list[Requirement] = []
    run: list[str] = []  # the current literal run (word and non-word characters)
    for index, (kind, char) in enumerate([*atoms, (_OPEN, "")]):
        if kind in ("c", _BOUND) and char:
            run.append(char)
            continue
        if run:
            found.extend(_run_requirements("".join(run), atoms, index - len(run), index))
            run = []
    return found


def _run_requirements(
    run: str, atoms: list[tuple[str, str]], start: int, end: int
) -> list[Requirement]:
    before = start - 1
    while before >= 0 and atoms[before][0] == _SEE_THROUGH:
        before -= 1
    after = end
    while after < len(atoms) and atoms[after][0] == _SEE_THROUGH:
        after += 1
    left_bound = before >= 0 and atoms[before][0] == _BOUND
    right_bound = after < len(atoms) and atoms[after][0] == _BOUND
    folded = run.casefold()
    words: list[str] = []
    for hit in WORD.finditer(folded):
        whole_left = hit.start() > 0 or left_bound
        whole_right = hit.end() < len(folded) or right_bound
        word = hit.group()
        if whole_left and whole_right and word.isascii():
            words.append(word)
    phrase = frozenset({folded.strip()})
    if words:  # one requirement per run: its longest word, and all of its words together
        return [
            Requirement(frozenset({max(words, key=len)}), frozenset(), phrase, frozenset(words))
        ]
    if len(folded.strip()) >= _MIN_SUBSTRING:
        return [Requirement(frozenset(), frozenset({folded}), phrase)]
    return []


__all__ = ["WORD", "Anchors", "Requirement", "anchors_of", "remember", "words_of"]
