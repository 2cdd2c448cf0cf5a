"""The knowledge base: data files under `knowledge/`, loaded, validated and matched here."""

from ecsdoctor.kb.entry import Entry, HypothesisSpec, Pattern
from ecsdoctor.kb.loader import default_knowledge_dir, load_entries
from ecsdoctor.kb.matcher import KnowledgeBase, render_template

__all__ = [
    "Entry",
    "HypothesisSpec",
    "KnowledgeBase",
    "Pattern",
    "default_knowledge_dir",
    "load_entries",
    "render_template",
]
