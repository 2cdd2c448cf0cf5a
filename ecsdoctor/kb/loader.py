"""Load and validate knowledge files: every broken file is reported by file, entry and field.

A directory validated once is read back from the knowledge index cache (`cache.py`) while neither
its files nor the code that validates them change; only a miss parses the TOML.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from ecsdoctor.errors import KnowledgeError
from ecsdoctor.kb import cache
from ecsdoctor.kb.entry import Entry, HypothesisSpec, Pattern
from ecsdoctor.kinds import KIND_NAMES
from ecsdoctor.models import Severity, SignalSource

#: Task facts that live diagnosis fills into remediation text (besides regex captures).
FACT_PLACEHOLDERS = frozenset(
    {
        "region",
        "account",
        "cluster",
        "service",
        "task_arn",
        "task_definition_arn",
        "vpc_id",
        "subnet_ids",
        "security_group_ids",
        "execution_role_arn",
        "task_role_arn",
    }
)

DEFAULT_SOURCES = frozenset({SignalSource.STOPPED_REASON, SignalSource.CONTAINER_REASON})
_ENTRY_KEYS = {"id", "title", "summary", "severity", "priority", "docs", "pattern", "hypothesis"}
_PATTERN_KEYS = {"regex", "sources", "examples", "flags"}
_HYPOTHESIS_KEYS = {"id", "claim", "kinds", "checks", "remediation"}
_FLAGS = {"IGNORECASE": int(re.IGNORECASE)}  # the same value as regex.IGNORECASE
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def default_knowledge_dir() -> Path:
    """The knowledge shipped in the wheel, or the repository's `knowledge/` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    shipped = package / "_knowledge"
    if shipped.is_dir():
        return shipped
    return package.parent / "knowledge"


def knowledge_files(directory: Path) -> list[Path]:
    """Every entry file below `directory`, in a stable order (`_*` folders hold metadata)."""
    if not directory.is_dir():
        raise KnowledgeError(str(directory), None, None, "is not a directory")
    return sorted(
        p
        for p in directory.rglob("*.toml")
        if not any(part.startswith("_") for part in p.relative_to(directory).parts)
    )


def load_entries(
    directory: Path | None = None, known_checks: Collection[str] | None = None
) -> list[Entry]:
    """Load every entry below `directory`; raise KnowledgeError on the first invalid one."""
    root = directory or default_knowledge_dir()
    files = knowledge_files(root)
    key = cache.knowledge_key(root, files)
    cached = cache.read_entries(key) if key is not None else None
    if cached is not None:
        if known_checks is not None:
            _require_known_checks(cached, known_checks)
        return cached
    entries = [load_entry(path, root, known_checks) for path in files]
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeError(entry.path, entry.id, "id", f"duplicates {seen[entry.id]}")
        seen[entry.id] = entry.path
    if key is not None:
        cache.write_entries(key, entries)
    return entries


def _require_known_checks(entries: Iterable[Entry], known_checks: Collection[str]) -> None:
    """The one rule that depends on the caller, not the files: every check id must exist."""
    for entry in entries:
        for index, hypothesis in enumerate(entry.hypotheses):
            for check in hypothesis.checks:
                if check not in known_checks:
                    raise KnowledgeError(
                        entry.path,
                        entry.id,
                        f"hypothesis[{index}].checks",
                        f"unknown check {check!r} (see `ecsdoctor checks`)",
                    )


def load_entry(path: Path, root: Path, known_checks: Collection[str] | None = None) -> Entry:
    """Parse and validate one knowledge file."""
    import tomllib

    shown = _shown(path, root)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise KnowledgeError(shown, None, None, f"not valid TOML: {err}") from err
    return _entry(data, path, root, shown, known_checks)


def _shown(path: Path, root: Path) -> str:
    try:
        return f"{root.name}/{path.relative_to(root).as_posix()}"
    except ValueError:
        return str(path)


def _entry(
    data: dict[str, Any], path: Path, root: Path, shown: str, known_checks: Collection[str] | None
) -> Entry:
    rel = path.relative_to(root).with_suffix("")
    expected_id = ".".join(rel.parts)
    entry_id = data.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise KnowledgeError(shown, None, "id", "missing or not a string")

    def fail(field: str, reason: str) -> KnowledgeError:
        return KnowledgeError(shown, entry_id, field, reason)

    if entry_id != expected_id:
        raise fail("id", f"must equal the file path {expected_id!r}")
    unknown = set(data) - _ENTRY_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], "unknown field")
    title = _text(data, "title", fail)
    summary = _text(data, "summary", fail)
    severity_name = data.get("severity", "failure")
    if severity_name not in {s.value for s in Severity}:
        raise fail("severity", "must be 'failure' or 'info'")
    severity = Severity(severity_name)
    priority = data.get("priority", 50)
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 100:
        raise fail("priority", "must be an integer from 0 to 100")
    docs = data.get("docs")
    if (
        not isinstance(docs, list)
        or not docs
        or not all(isinstance(d, str) and d.startswith("https://") for d in docs)
    ):
        raise fail("docs", "must be a non-empty list of https:// links")

    raw_patterns = data.get("pattern")
    if not isinstance(raw_patterns, list) or not raw_patterns:
        raise fail("pattern", "at least one [[pattern]] is required")
    patterns = tuple(_pattern(p, f"pattern[{i}]", fail) for i, p in enumerate(raw_patterns))

    raw_hypotheses = data.get("hypothesis", [])
    if not isinstance(raw_hypotheses, list):
        raise fail("hypothesis", "must be a list of [[hypothesis]] tables")
    if not raw_hypotheses and severity is Severity.FAILURE:
        raise fail("hypothesis", "a failure entry needs at least one [[hypothesis]]")
    common_groups = frozenset.intersection(*(p.groups for p in patterns))
    hypotheses = tuple(
        _hypothesis(h, f"hypothesis[{i}]", fail, common_groups, known_checks)
        for i, h in enumerate(raw_hypotheses)
    )
    ids = [h.id for h in hypotheses]
    if len(set(ids)) != len(ids):
        raise fail("hypothesis", "hypothesis ids must be unique within the entry")
    return Entry(
        id=entry_id,
        title=title,
        summary=summary.strip(),
        severity=severity,
        priority=priority,
        docs=tuple(docs),
        patterns=patterns,
        hypotheses=hypotheses,
        path=shown,
    )


def _text(data: dict[str, Any], key: str, fail: Any) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise fail(key, "missing or empty")
    return value


def _pattern(raw: Any, where: str, fail: Any) -> Pattern:
    if not isinstance(raw, dict):
        raise fail(where, "must be a table")
    unknown = set(raw) - _PATTERN_KEYS
    if unknown:
        raise fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
    source = raw.get("regex")
    if not isinstance(source, str) or not source:
        raise fail(f"{where}.regex", "missing or empty")
    flags = 0
    for flag in raw.get("flags", []):
        if flag not in _FLAGS:
            raise fail(f"{where}.flags", f"unknown flag {flag!r}; known: {sorted(_FLAGS)}")
        flags |= _FLAGS[flag]
    import regex

    try:
        compiled = regex.compile(source, flags)
    except regex.error as err:
        raise fail(f"{where}.regex", f"bad regex: {err}") from err
    sources_raw = raw.get("sources")
    if sources_raw is None:
        sources = DEFAULT_SOURCES
    else:
        valid = {s.value for s in SignalSource}
        if not isinstance(sources_raw, list) or not sources_raw:
            raise fail(f"{where}.sources", "must be a non-empty list")
        bad = [s for s in sources_raw if s not in valid]
        if bad:
            raise fail(f"{where}.sources", f"unknown source {bad[0]!r}; known: {sorted(valid)}")
        sources = frozenset(SignalSource(s) for s in sources_raw)
    examples = raw.get("examples")
    if (
        not isinstance(examples, list)
        or not examples
        or not all(isinstance(e, str) and e for e in examples)
    ):
        raise fail(f"{where}.examples", "needs at least one real example message")
    for n, example in enumerate(examples):
        if compiled.search(example, timeout=1.0) is None:
            raise fail(f"{where}.examples[{n}]", "does not match the pattern")
    return Pattern(
        regex=compiled,
        sources=sources,
        examples=tuple(examples),
        groups=frozenset(compiled.groupindex),
    )


def _hypothesis(
    raw: Any,
    where: str,
    fail: Any,
    common_groups: frozenset[str],
    known_checks: Collection[str] | None,
) -> HypothesisSpec:
    if not isinstance(raw, dict):
        raise fail(where, "must be a table")
    unknown = set(raw) - _HYPOTHESIS_KEYS
    if unknown:
        raise fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
    hyp_id = raw.get("id")
    if not isinstance(hyp_id, str) or not _SNAKE.match(hyp_id):
        raise fail(f"{where}.id", "must be a snake_case string")
    claim = _text(raw, "claim", lambda f, r: fail(f"{where}.{f}", r))
    kinds = raw.get("kinds")
    if not isinstance(kinds, list) or not kinds:
        raise fail(f"{where}.kinds", "needs at least one resource kind")
    for kind in kinds:
        if kind not in KIND_NAMES:
            raise fail(f"{where}.kinds", f"unknown resource kind {kind!r}")
    checks = raw.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise fail(f"{where}.checks", "must be a list of check ids")
    if known_checks is not None:
        for check in checks:
            if check not in known_checks:
                raise fail(f"{where}.checks", f"unknown check {check!r} (see `ecsdoctor checks`)")
    remediation = _text(raw, "remediation", lambda f, r: fail(f"{where}.{f}", r))
    try:
        names = list(placeholders(remediation))
    except ValueError as err:
        raise fail(f"{where}.remediation", str(err)) from err
    for name in names:
        if name not in common_groups and name not in FACT_PLACEHOLDERS:
            raise fail(
                f"{where}.remediation",
                f"unknown placeholder {{{name}}}: not a capture of every pattern nor a task fact",
            )
    return HypothesisSpec(
        id=hyp_id,
        claim=claim.strip(),
        kinds=tuple(kinds),
        checks=tuple(checks),
        remediation=remediation.strip(),
    )


def placeholders(template: str) -> Iterable[str]:
    """The `{names}` a remediation template uses."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"malformed template: {err}") from err
    return [name for _, name, _, _ in parsed if name]
