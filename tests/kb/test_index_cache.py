"""The knowledge index cache: a warm load equals a fresh one, and any doubt means a fresh load.

A stale file (knowledge or code changed), a damaged one (truncated, edited, not JSON), one that
others could have written, an unwritable or disabled cache directory: each must fall back to
validating the TOML, never to a wrong or half-read knowledge base.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ecsdoctor.errors import KnowledgeError
from ecsdoctor.kb import KnowledgeBase, cache, default_knowledge_dir, load_entries
from ecsdoctor.kb.anchors import anchors_of
from ecsdoctor.kb.cache import LazyRegex
from ecsdoctor.kb.entry import Entry
from ecsdoctor.models import Signal


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("ECSDOCTOR_CACHE_DIR", str(directory))
    monkeypatch.delenv("ECSDOCTOR_NO_CACHE", raising=False)
    return directory


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A copy of a few shipped families, so tests can edit files."""
    root = tmp_path / "knowledge"
    for area in ("image_pull", "service_event"):
        shutil.copytree(default_knowledge_dir() / area, root / area)
    return root


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("knowledge-*.json"))


def _shape(entries: list[Entry]) -> list[object]:
    """Everything an entry carries, with each pattern's regex reduced to what defines it."""
    return [
        (
            e.id,
            e.title,
            e.summary,
            e.severity,
            e.priority,
            e.docs,
            e.path,
            e.hypotheses,
            [
                (
                    p.regex.pattern,
                    p.regex.flags,
                    dict(p.regex.groupindex),
                    p.sources,
                    p.examples,
                    p.groups,
                    anchors_of(p.regex.pattern, p.regex.flags),
                )
                for p in e.patterns
            ],
        )
        for e in entries
    ]


def _found(kb: KnowledgeBase, signal: Signal) -> list[tuple[str, dict[str, str]]]:
    return [(c.entry.id, dict(c.captures)) for c in kb.candidates(signal)]


def test_a_warm_load_is_the_fresh_load_without_compiling(cache_dir: Path, knowledge: Path) -> None:
    fresh = load_entries(knowledge)
    assert len(_files(cache_dir)) == 1
    warm = load_entries(knowledge)
    assert _shape(warm) == _shape(fresh)
    regexes = [p.regex for e in warm for p in e.patterns]
    assert all(isinstance(r, LazyRegex) and not r.compiled for r in regexes)
    # and it recognises every example exactly as the fresh one does, compiling on demand
    fresh_kb, warm_kb = KnowledgeBase(fresh), KnowledgeBase(warm)
    for entry in fresh:
        for pattern in entry.patterns:
            for example in pattern.examples:
                for source in pattern.sources:
                    signal = Signal(source=source, text=example)
                    assert _found(warm_kb, signal) == _found(fresh_kb, signal)
    assert any(r.compiled for r in regexes)


def test_an_edited_knowledge_file_is_read_again(cache_dir: Path, knowledge: Path) -> None:
    load_entries(knowledge)
    path = sorted(knowledge.rglob("*.toml"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace("title = ", "title = = ", 1))
    with pytest.raises(KnowledgeError):
        load_entries(knowledge)  # a stale cache must not hide the broken file


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data.replace(b'"priority":', b'"priority":1', 1),
        lambda data: b"not a checksum\n" + data.partition(b"\n")[2],
        lambda data: b"",
        lambda data: bytes(range(256)),
    ],
    ids=["truncated", "edited", "bad-checksum", "empty", "binary"],
)
def test_a_damaged_cache_file_is_ignored_and_replaced(
    cache_dir: Path, knowledge: Path, damage: object
) -> None:
    expected = _shape(load_entries(knowledge))
    (path,) = _files(cache_dir)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.read_entries(path.name.removeprefix("knowledge-").removesuffix(".json")) is None
    reloaded = load_entries(knowledge)
    assert _shape(reloaded) == expected
    assert not isinstance(reloaded[0].patterns[0].regex, LazyRegex)  # validated afresh
    assert _shape(load_entries(knowledge)) == expected  # and the file was rewritten


def test_a_well_formed_file_under_another_key_is_not_used(cache_dir: Path, knowledge: Path) -> None:
    load_entries(knowledge)
    (path,) = _files(cache_dir)
    path.rename(path.with_name("knowledge-" + "0" * 64 + ".json"))
    assert cache.read_entries("0" * 64) is None  # its recorded key says otherwise


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_file_others_may_write_is_not_trusted(cache_dir: Path, knowledge: Path) -> None:
    load_entries(knowledge)
    (path,) = _files(cache_dir)
    path.chmod(0o666)
    key = path.name.removeprefix("knowledge-").removesuffix(".json")
    assert cache.read_entries(key) is None


def test_known_checks_are_enforced_on_a_warm_load(cache_dir: Path, knowledge: Path) -> None:
    entries = load_entries(knowledge)
    checks = frozenset(c for e in entries for h in e.hypotheses for c in h.checks)
    assert checks, "the copied families name checks"
    missing = sorted(checks)[0]
    with pytest.raises(KnowledgeError) as cold:
        shutil.rmtree(cache_dir)
        load_entries(knowledge, known_checks=checks - {missing})
    load_entries(knowledge)  # warm the cache again
    with pytest.raises(KnowledgeError) as warm:
        load_entries(knowledge, known_checks=checks - {missing})
    assert str(warm.value) == str(cold.value)


def test_no_cache_when_disabled_or_unwritable(
    tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECSDOCTOR_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert load_entries(knowledge)
    monkeypatch.delenv("ECSDOCTOR_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ECSDOCTOR_CACHE_DIR", str(blocker / "cache"))
    assert [e.id for e in load_entries(knowledge)] == [e.id for e in load_entries(knowledge)]


def test_old_cache_files_are_pruned(cache_dir: Path, knowledge: Path) -> None:
    path = sorted(knowledge.rglob("*.toml"))[0]
    original = path.read_text(encoding="utf-8")
    for n in range(cache.KEEP + 3):
        path.write_text(original + f"\n# revision {n}\n", encoding="utf-8")
        load_entries(knowledge)
    assert len(_files(cache_dir)) == cache.KEEP


def test_the_default_cache_directory_follows_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECSDOCTOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("ECSDOCTOR_NO_CACHE", raising=False)
    monkeypatch.setattr(cache.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cache.cache_dir() == Path("/xdg/ecsdoctor")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # not absolute: ignored, as the spec says
    monkeypatch.setenv("HOME", "/home/u")
    assert cache.cache_dir() == Path("/home/u/.cache/ecsdoctor")
    monkeypatch.delenv("HOME")
    assert cache.cache_dir() is None  # e.g. a Lambda function: simply no cache
