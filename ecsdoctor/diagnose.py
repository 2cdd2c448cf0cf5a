"""The library entry points: ingest -> match -> (graph -> checks -> ranking) -> Diagnosis.

Offline diagnosis stops after matching and reports the knowledge hypotheses unconfirmed; live
diagnosis (`diagnose_task`) checks each hypothesis with read-only AWS calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from ecsdoctor.ingest import Document, parse_document, read_source
from ecsdoctor.kb import KnowledgeBase, load_entries, render_template
from ecsdoctor.models import Diagnosis, Hypothesis, Match, Severity, Subject


@cache
def _default_knowledge() -> KnowledgeBase:
    return KnowledgeBase(load_entries(known_checks=known_check_ids()))


def known_check_ids() -> frozenset[str] | None:
    """Ids of the registered live checks (knowledge hypotheses may only name these)."""
    try:
        from ecsdoctor.checks import REGISTRY
    except ImportError:  # pragma: no cover - checks arrive with live diagnosis
        return None
    return frozenset(REGISTRY)


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base: the shipped one (cached), or the entries under `directory`."""
    if directory is None:
        return _default_knowledge()
    return KnowledgeBase(load_entries(Path(directory), known_checks=known_check_ids()))


def offline_hypotheses(
    matches: Sequence[Match], kb: KnowledgeBase, facts: Mapping[str, object]
) -> tuple[Hypothesis, ...]:
    """The hypotheses of every failure entry matched, each once, remediation filled in."""
    result: list[Hypothesis] = []
    seen: set[tuple[str, str]] = set()
    for match in sorted(matches, key=lambda m: (-m.priority, m.signal)):
        if match.severity is Severity.INFO:
            continue
        entry = kb.by_id[match.entry]
        values = {**facts, **match.captures}
        for spec in entry.hypotheses:
            if (entry.id, spec.id) in seen:
                continue
            seen.add((entry.id, spec.id))
            result.append(
                Hypothesis(
                    entry=entry.id,
                    id=spec.id,
                    claim=render_template(spec.claim, values),
                    kinds=spec.kinds,
                    remediation=render_template(spec.remediation, values),
                )
            )
    return tuple(result)


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
    return Diagnosis(
        subject=Subject(type="events", region=document.region, account=document.account),
        signals=document.signals,
        matches=tuple(matches),
        hypotheses=offline_hypotheses(matches, kb, facts),
        offline=True,
        notes=tuple(notes),
    )


def diagnose_events(source: str, knowledge: KnowledgeBase | None = None) -> Diagnosis:
    """Diagnose saved events: a file path, or `-` for standard input, without AWS calls."""
    name = "standard input" if source == "-" else source
    return diagnose_document(parse_document(read_source(source), name), knowledge)
