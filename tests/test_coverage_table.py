"""The coverage table (docs/coverage.md, `kb stats`): every listed family has entries and samples."""

from __future__ import annotations

from pathlib import Path

from ecsdoctor.diagnose import load_knowledge
from ecsdoctor.kb.coverage import coverage_markdown, coverage_problems, load_coverage

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
SAMPLES = ROOT / "sample_events"


def test_every_listed_family_has_an_entry_with_samples_and_every_entry_is_listed() -> None:
    coverage = load_coverage(KNOWLEDGE)
    assert len(coverage.families) >= 100
    assert coverage_problems(coverage, load_knowledge(KNOWLEDGE), SAMPLES) == []


def test_the_documented_areas_are_all_there() -> None:
    areas = {f.area for f in load_coverage(KNOWLEDGE).families}
    assert {
        "Stopped task errors",
        "Stop codes",
        "RunTask and StartTask failure reasons",
        "Service event messages",
    } <= areas


def test_every_hole_says_why() -> None:
    for hole in load_coverage(KNOWLEDGE).holes:
        assert len(hole.reason) > 20, hole


def test_docs_coverage_page_is_current() -> None:
    expected = coverage_markdown(load_coverage(KNOWLEDGE), SAMPLES)
    page = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert page == expected, "regenerate: ecsdoctor kb stats --format markdown > docs/coverage.md"
