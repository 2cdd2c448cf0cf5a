"""Fixtures of the matching-engine tests: the shipped knowledge base, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecsdoctor.checks import REGISTRY
from ecsdoctor.kb import KnowledgeBase, load_entries

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The repository's knowledge base (validated against the registered checks)."""
    return KnowledgeBase(load_entries(KNOWLEDGE, known_checks=frozenset(REGISTRY)))
