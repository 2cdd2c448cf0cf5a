"""The coverage table: every failure family AWS documents, the entries covering it, its samples.

The table is data (`knowledge/_coverage/*.toml`, one file per documented area) so its holes are
named in one place; `ecsdoctor kb stats` prints it and `docs/coverage.md` is its Markdown form,
kept in step by a test.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecsdoctor.errors import InputError, KnowledgeError
from ecsdoctor.kb.matcher import KnowledgeBase, is_generic
from ecsdoctor.models import Signal

_SAMPLE_SUFFIXES = (".txt", ".json", ".jsonl")


@dataclass(frozen=True, slots=True)
class Family:
    """One documented failure family and the entries that cover it."""

    area: str
    name: str
    docs: str
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hole:
    """A documented family the knowledge base does not cover, and why."""

    area: str
    name: str
    docs: str
    reason: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """The whole table, areas in their declared order."""

    families: tuple[Family, ...]
    holes: tuple[Hole, ...]
    knowledge_dir: Path | None = None  # where the entries are, for measures that match samples


@dataclass(frozen=True, slots=True)
class GenericShare:
    """How many recognised sample messages land on a catch-all (`<family>.generic`) entry."""

    generic: int
    recognised: int
    unrecognised: int
    by_entry: tuple[tuple[str, int], ...]  # catch-all id, messages landing on it

    @property
    def share(self) -> float:
        """generic / recognised (0 when nothing was recognised)."""
        return self.generic / self.recognised if self.recognised else 0.0


def load_coverage(knowledge_dir: Path) -> Coverage:
    """Read every `_coverage/*.toml` under the knowledge directory."""
    folder = knowledge_dir / "_coverage"
    areas: list[tuple[int, str, dict[str, Any]]] = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise KnowledgeError(str(path), None, None, f"unreadable: {err}") from err
        areas.append((int(data.get("order", 100)), str(data.get("title", path.stem)), data))
    families: list[Family] = []
    holes: list[Hole] = []
    for _, title, data in sorted(areas, key=lambda a: (a[0], a[1])):
        families.extend(
            Family(title, str(f["name"]), str(f.get("docs", "")), tuple(f.get("entries", [])))
            for f in data.get("family", [])
        )
        holes.extend(
            Hole(title, str(h["name"]), str(h.get("docs", "")), str(h.get("reason", "")))
            for h in data.get("hole", [])
        )
    return Coverage(tuple(families), tuple(holes), knowledge_dir)


def _share(kb: KnowledgeBase, signals: Iterable[Signal]) -> GenericShare:
    """Recognise every signal and count those landing on a catch-all, by entry."""
    generic: dict[str, int] = {}
    recognised = unrecognised = 0
    for signal in signals:
        found = kb.recognize(signal)
        if found is None:
            unrecognised += 1
            continue
        recognised += 1
        if is_generic(found.entry):
            generic[found.entry.id] = generic.get(found.entry.id, 0) + 1
    return GenericShare(
        generic=sum(generic.values()),
        recognised=recognised,
        unrecognised=unrecognised,
        by_entry=tuple(sorted(generic.items())),
    )


def generic_share(kb: KnowledgeBase, samples: Path) -> GenericShare:
    """Match every sample message (text lines and JSON signals) and count catch-all landings."""
    from ecsdoctor.ingest import decode, parse_document

    files = (
        sorted(p for p in samples.rglob("*") if p.suffix in _SAMPLE_SUFFIXES)
        if samples.is_dir()
        else []
    )

    def signals() -> Iterator[Signal]:
        for path in files:
            try:
                document = parse_document(decode(path.read_bytes(), str(path)), str(path))
            except InputError:
                continue
            yield from document.signals

    return _share(kb, signals())


def holdout_files(knowledge_dir: Path) -> list[Path]:
    """The held-out message files of a source checkout (`tests/kb/holdout*.txt`), if any."""
    folder = knowledge_dir.parent / "tests" / "kb"
    return sorted(folder.glob("holdout*.txt")) if folder.is_dir() else []


def holdout_share(kb: KnowledgeBase, files: list[Path]) -> GenericShare:
    """The same measure on held-out real messages (`SOURCE<TAB>message` lines, never samples):
    how the knowledge base generalises to messages it was not built from."""
    from ecsdoctor.ingest import plain_signal

    return _share(
        kb,
        (
            plain_signal(line.split("\t", 1)[1])
            for path in files
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#") and "\t" in line
        ),
    )


def _share_text(measure: GenericShare, what: str) -> str:
    parts = ", ".join(f"{entry} {count}" for entry, count in measure.by_entry)
    missed = f"; {measure.unrecognised} not recognised" if measure.unrecognised else ""
    return (
        f"{measure.generic} of {measure.recognised} recognised {what} "
        f"({measure.share:.1%}) land on a catch-all entry"
        + (f" ({parts})" if parts else "")
        + missed
    )


def _share_lines(coverage: Coverage, samples: Path) -> list[str]:
    """The catch-all share on the samples, and on the held-out messages of a source checkout."""
    if coverage.knowledge_dir is None:
        return []
    from ecsdoctor.kb.loader import load_entries

    kb = KnowledgeBase(load_entries(coverage.knowledge_dir))
    lines = []
    if samples.is_dir():
        lines.append(_share_text(generic_share(kb, samples), "sample messages"))
    files = holdout_files(coverage.knowledge_dir)
    if files:
        lines.append(_share_text(holdout_share(kb, files), "held-out real messages"))
    return lines


def sample_count(samples: Path, entry_id: str) -> int:
    """Sample files of one entry (0 when it has none)."""
    directory = samples.joinpath(*entry_id.split("."))
    if not directory.is_dir():
        return 0
    return sum(1 for p in directory.iterdir() if p.suffix in _SAMPLE_SUFFIXES)


def coverage_problems(coverage: Coverage, kb: KnowledgeBase, samples: Path) -> list[str]:
    """A listed family without an entry or samples, an unknown entry, an entry listed nowhere."""
    problems: list[str] = []
    listed: set[str] = set()
    for family in coverage.families:
        if not family.entries:
            problems.append(f"{family.area}: {family.name!r} names no entry (make it a hole)")
        for entry in family.entries:
            listed.add(entry)
            if entry not in kb.by_id:
                problems.append(f"{family.area}: {family.name!r}: no entry {entry}")
            elif sample_count(samples, entry) == 0:
                problems.append(f"{family.area}: {family.name!r}: entry {entry} has no samples")
    problems.extend(
        f"entry {e.id} is not listed under any documented family"
        for e in kb.entries
        if e.id not in listed
    )
    return problems


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def coverage_markdown(coverage: Coverage, samples: Path) -> str:
    """docs/coverage.md: one table per documented area, then the named holes."""
    lines = [
        "# Knowledge base coverage",
        "",
        "Every failure family AWS documents for Amazon ECS tasks and services, the knowledge",
        "entries that recognise it and how many real sample files back each entry. Generated by",
        "`ecsdoctor kb stats --format markdown` from `knowledge/_coverage/*.toml`; a test fails",
        "when this page is stale, when a listed family has no entry or no samples, or when an",
        "entry is listed under no family.",
        "",
    ]
    entries = len({e for f in coverage.families for e in f.entries})
    lines.append(
        f"{len(coverage.families)} documented families, {entries} entries, "
        f"{len(coverage.holes)} named holes."
    )
    shares = _share_lines(coverage, samples)
    if shares:
        lines += ["", "Specific before generic: " + "; ".join(shares) + "."]
    area = None
    for family in coverage.families:
        if family.area != area:
            area = family.area
            lines += ["", f"## {area}", "", "| Family | Entries | Samples |", "| --- | --- | --- |"]
        name = f"[{_cell(family.name)}]({family.docs})" if family.docs else _cell(family.name)
        cells = ", ".join(f"`{e}`" for e in family.entries)
        count = sum(sample_count(samples, e) for e in family.entries)
        lines.append(f"| {name} | {cells} | {count} |")
    if coverage.holes:
        lines += ["", "## Holes", "", "| Area | Family | Why not covered |", "| --- | --- | --- |"]
        lines.extend(
            f"| {_cell(h.area)} | {_cell(h.name)} | {_cell(h.reason)} |" for h in coverage.holes
        )
    return "\n".join(lines) + "\n"


def coverage_text(coverage: Coverage, samples: Path) -> str:
    """The terminal form of the table."""
    lines: list[str] = []
    area = None
    for family in coverage.families:
        if family.area != area:
            area = family.area
            if lines:
                lines.append("")
            lines.append(f"{area}:")
        count = sum(sample_count(samples, e) for e in family.entries)
        name = family.name if len(family.name) <= 70 else family.name[:69] + "…"
        lines.append(f"  {name:<70} {count:>3} samples  {', '.join(family.entries)}")
    if coverage.holes:
        lines += ["", "Holes (documented, not covered):"]
        lines.extend(f"  {h.area}: {h.name} — {h.reason}" for h in coverage.holes)
    lines.append("")
    entries = len({e for f in coverage.families for e in f.entries})
    lines.append(
        f"{len(coverage.families)} documented families, {entries} entries, "
        f"{len(coverage.holes)} named holes"
    )
    lines.extend(_share_lines(coverage, samples))
    return "\n".join(lines) + "\n"


__all__ = [
    "Coverage",
    "Family",
    "GenericShare",
    "Hole",
    "coverage_markdown",
    "coverage_problems",
    "coverage_text",
    "generic_share",
    "holdout_files",
    "holdout_share",
    "load_coverage",
    "sample_count",
]
