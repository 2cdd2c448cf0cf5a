"""Whole-base rules that single-file validation cannot see: rank clashes and sample coverage."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ecsdoctor.errors import InputError
from ecsdoctor.ingest import decode, parse_document
from ecsdoctor.kb.matcher import KnowledgeBase
from ecsdoctor.models import Signal

_SOURCE_PREFIXES = ("https://", "seed:")


def lint_examples(kb: KnowledgeBase) -> list[str]:
    """Every example must land on its own entry, alone at the top rank."""
    problems: list[str] = []
    for entry in kb.entries:
        for p_index, pattern in enumerate(entry.patterns):
            for e_index, example in enumerate(pattern.examples):
                for source in sorted(pattern.sources):
                    problem = _rank_problem(kb, Signal(source=source, text=example), entry.id)
                    if problem:
                        where = f"{entry.path}: pattern[{p_index}].examples[{e_index}]"
                        problems.append(f"{where} ({source.value}): {problem}")
    return problems


def _rank_problem(kb: KnowledgeBase, signal: Signal, expected: str) -> str | None:
    found = kb.candidates(signal)
    if not found:
        return f"matches no entry (expected {expected})"
    top = found[0]
    if top.entry.id != expected:
        return f"lands on {top.entry.id} (priority {top.entry.priority}), not {expected}"
    ties = [c.entry.id for c in found[1:] if c.entry.priority == top.entry.priority]
    if ties:
        return f"ties with {', '.join(ties)} at priority {top.entry.priority}"
    return None


def lint_samples(kb: KnowledgeBase, samples: Path) -> list[str]:
    """Every entry has sourced samples under samples/<family>/<slug>/ that land on it."""
    problems: list[str] = []
    for entry in kb.entries:
        directory = samples.joinpath(*entry.id.split("."))
        if not directory.is_dir():
            problems.append(f"{entry.path}: no samples in {directory}")
            continue
        problems.extend(_lint_sample_dir(kb, entry.id, directory))
    return problems


def _lint_sample_dir(kb: KnowledgeBase, entry_id: str, directory: Path) -> list[str]:
    problems: list[str] = []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".txt", ".json", ".jsonl"))
    if not files:
        problems.append(f"{directory}: no sample files")
    listed: dict[str, list[str]] = {}
    sources_file = directory / "sources.toml"
    if not sources_file.is_file():
        problems.append(f"{directory}: no sources.toml naming where each sample came from")
    else:
        try:
            data = tomllib.loads(sources_file.read_text(encoding="utf-8"))
            for index, sample in enumerate(data.get("sample", [])):
                name = sample.get("file")
                source = str(sample.get("source", ""))
                if not isinstance(name, str) or not name:
                    problems.append(f"{sources_file}: sample[{index}] names no file")
                    continue
                if not source.startswith(_SOURCE_PREFIXES):
                    problems.append(
                        f"{sources_file}: sample[{index}] ({name}): source {source!r} is neither "
                        "an https:// URL nor a seed: reference"
                    )
                if not (directory / name).is_file():
                    problems.append(f"{sources_file}: sample[{index}]: no file {name}")
                listed.setdefault(name, []).append(source)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError) as err:
            problems.append(f"{sources_file}: unreadable: {err}")
    for path in files:
        if not listed.get(path.name):
            problems.append(f"{path}: no [[sample]] record in sources.toml")
        try:
            document = parse_document(decode(path.read_bytes(), str(path)), str(path))
        except InputError as err:
            problems.append(f"{path}: {err}")
            continue
        if path.suffix == ".txt":
            for signal in document.signals:
                problem = _rank_problem(kb, signal, entry_id)
                if problem:
                    problems.append(f"{path}: {signal.text[:80]!r}: {problem}")
        else:
            tops = {m.entry for m in kb.match_all(document.signals)}
            if entry_id not in tops:
                got = ", ".join(sorted(tops)) or "nothing"
                problems.append(f"{path}: no signal lands on {entry_id} (got {got})")
    return problems


def coverage_rows(kb: KnowledgeBase, samples: Path) -> list[tuple[str, str, int, int]]:
    """(entry id, severity, number of example messages, number of sample files) per entry."""
    rows: list[tuple[str, str, int, int]] = []
    for entry in kb.entries:
        directory = samples.joinpath(*entry.id.split("."))
        count = (
            sum(1 for p in directory.iterdir() if p.suffix in (".txt", ".json", ".jsonl"))
            if directory.is_dir()
            else 0
        )
        examples = sum(len(p.examples) for p in entry.patterns)
        rows.append((entry.id, entry.severity.value, examples, count))
    return rows


__all__ = ["coverage_rows", "lint_examples", "lint_samples"]
