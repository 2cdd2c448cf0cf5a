"""Saved events diagnosed without AWS: knowledge matches and the open hypotheses.

Offline-safe: nothing here (or below) imports boto3 or networkx, so `explain`, `kb` and
`diagnose --offline` start fast and work on a machine with no AWS access at all.
"""

from __future__ import annotations

from ecsdoctor.ingest import Document, parse_document, read_source
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.models import Diagnosis, Subject, SubjectType
from ecsdoctor.pipeline import Collected, assemble, load_knowledge


def diagnose_document(document: Document, knowledge: KnowledgeBase | None = None) -> Diagnosis:
    """Offline diagnosis of an ingested document: knowledge matches and open hypotheses."""
    kb = knowledge or load_knowledge()
    matches = kb.match_all(document.signals)
    facts: dict[str, object] = {"region": document.region, "account": document.account}
    clusters = {t.cluster for t in document.tasks if t.cluster}
    if len(clusters) == 1:
        facts["cluster"] = clusters.pop()
    notes: list[str] = []
    if not document.signals:
        notes.append("the input holds no failure messages (no stopped reason, exit code or event)")
    elif not matches:
        notes.append("no message was recognised by the knowledge base (see `ecsdoctor explain`)")
    return assemble(
        Collected(
            subject=Subject(
                type=SubjectType.EVENTS, region=document.region, account=document.account
            ),
            signals=document.signals,
            matches=tuple(matches),
            facts=facts,
            notes=tuple(notes),
            offline=True,
        ),
        kb,
    )


def diagnose_events(source: str, knowledge: KnowledgeBase | None = None) -> Diagnosis:
    """Diagnose saved events: a file path, or `-` for standard input, without AWS calls."""
    name = "standard input" if source == "-" else source
    return diagnose_document(parse_document(read_source(source), name), knowledge)
