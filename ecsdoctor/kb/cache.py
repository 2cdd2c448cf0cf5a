"""The knowledge index cache: a validated, indexed knowledge base saved so the next run skips the work.

Loading `knowledge/` from its TOML costs far more than any command that uses it: parsing 160-odd
files, compiling every regex, matching every example against its pattern and parsing every pattern
for its literal anchors. All of it is a pure function of the files' bytes and of the code and
libraries that do it, so the result is saved once, as JSON, under the user's cache directory, and a
later run that finds the same inputs reads it back instead (regexes are then compiled only when the
prefilter first selects them, see `LazyRegex`).

The file is trusted only when everything that went into it is unchanged: its name and its recorded
key are a SHA-256 of the cache format, the Python and `regex` versions, the source of the modules
that validate and index (this one, the loader, the anchors parser, the entry and model types) and
every knowledge file's path and bytes; its payload carries its own SHA-256 (a truncated or damaged
file is detected, never half-read); on POSIX it must belong to the user and be writable by nobody
else. Anything else (a miss, a damaged file, a read-only or absent cache directory) silently falls
back to loading the TOML, which then refreshes the file. ECSDOCTOR_CACHE_DIR moves the cache;
ECSDOCTOR_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecsdoctor.kb import anchors as anchor_module
from ecsdoctor.kb.anchors import Anchors, Requirement, anchors_of
from ecsdoctor.kb.entry import Entry, HypothesisSpec, Pattern
from ecsdoctor.models import Severity, SignalSource

#: Bumped whenever the payload's layout changes (old files are then simply not found).
CACHE_FORMAT = 1
#: Cache files kept per directory: one per knowledge directory and version in use, oldest dropped.
KEEP = 8
_PREFIX = "knowledge-"
_SUFFIX = ".json"
#: Modules whose code decides what a loaded entry and its anchors are: part of the key.
_CODE = (
    Path(__file__),
    Path(anchor_module.__file__ or ""),
    Path(__file__).with_name("entry.py"),
    Path(__file__).with_name("loader.py"),
    Path(__file__).parents[1] / "kinds.py",
    Path(__file__).parents[1] / "models.py",
)


class LazyRegex:
    """A knowledge pattern's regex, compiled on first use.

    It answers `pattern`, `flags` and `groupindex` (recorded when the cache was written from the
    compiled regex) without compiling; every other attribute is the compiled regex's. A run that
    explains one message compiles the few patterns the prefilter selects, not all of them.
    """

    __slots__ = ("_compiled", "flags", "groupindex", "pattern", "search")

    def __init__(self, source: str, flags: int, groupindex: dict[str, int]) -> None:
        self.pattern = source
        self.flags = flags
        self.groupindex = groupindex
        self._compiled: Any = None
        #: `regex.Pattern.search`: compiles first, then is the compiled regex's own bound method
        #: (the matcher's hot call pays no extra Python frame once the regex exists)
        self.search: Any = self._first_search

    @property
    def compiled(self) -> bool:
        """Whether the regex has been compiled yet (for tests that pin the laziness)."""
        return self._compiled is not None

    def _regex(self) -> Any:
        if self._compiled is None:
            import regex

            self._compiled = regex.compile(self.pattern, self.flags)
            self.search = self._compiled.search
        return self._compiled

    def _first_search(self, *args: Any, **kwargs: Any) -> Any:
        return self._regex().search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._regex(), name)

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self.flags})"


def cache_dir() -> Path | None:
    """Where cache files live: $ECSDOCTOR_CACHE_DIR, else the platform's user cache directory."""
    if os.environ.get("ECSDOCTOR_NO_CACHE", "") not in ("", "0"):
        return None
    chosen = os.environ.get("ECSDOCTOR_CACHE_DIR")
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "ecsdoctor" / "Cache" if base else None
    if sys.platform == "darwin":
        home = os.environ.get("HOME")
        return Path(home) / "Library" / "Caches" / "ecsdoctor" if home else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "ecsdoctor"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "ecsdoctor" if home else None


def knowledge_key(root: Path, files: Sequence[Path]) -> str | None:
    """The SHA-256 of every input of loading `files`; None when one cannot be read."""
    import regex

    digest = hashlib.sha256()
    header = f"{CACHE_FORMAT}\0{sys.version}\0{regex.__version__}\0{root.name}\0"
    digest.update(header.encode())
    try:
        for path in _CODE:
            digest.update(path.read_bytes())
            digest.update(b"\0code\0")
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def read_entries(key: str) -> list[Entry] | None:
    """The entries saved under `key`, their anchors remembered; None on any doubt."""
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"{_PREFIX}{key}{_SUFFIX}"
    try:
        with path.open("rb") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                return None
            data = handle.read()
        checksum, _, payload = data.partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != checksum:
            return None
        document = json.loads(payload)
        if document.get("format") != CACHE_FORMAT or document.get("key") != key:
            return None
        return [_entry(raw) for raw in document["entries"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def write_entries(key: str, entries: Sequence[Entry]) -> None:
    """Save freshly validated entries under `key` (atomically; silently not when impossible)."""
    directory = cache_dir()
    if directory is None:
        return
    import tempfile

    try:
        document = {
            "format": CACHE_FORMAT,
            "key": key,
            "entries": [_entry_doc(entry) for entry in entries],
        }
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        checksum = hashlib.sha256(payload).hexdigest().encode()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(checksum + b"\n" + payload)
            os.replace(temporary, directory / f"{_PREFIX}{key}{_SUFFIX}")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _prune(directory)
    except (OSError, ValueError, TypeError):
        return


def _trusted(status: os.stat_result) -> bool:
    """A cache file counts only if it is the user's own and nobody else may write to it."""
    if not hasattr(os, "getuid"):  # Windows: the per-user LOCALAPPDATA is the protection
        return True
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _prune(directory: Path) -> None:
    files = sorted(directory.glob(f"{_PREFIX}*{_SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for stale in files[:-KEEP]:
        stale.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- the payload


def _entry_doc(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "summary": entry.summary,
        "severity": entry.severity.value,
        "priority": entry.priority,
        "docs": list(entry.docs),
        "path": entry.path,
        "patterns": [_pattern_doc(p) for p in entry.patterns],
        "hypotheses": [
            [h.id, h.claim, list(h.kinds), list(h.checks), h.remediation] for h in entry.hypotheses
        ],
    }


def _pattern_doc(pattern: Pattern) -> dict[str, Any]:
    compiled = pattern.regex
    anchors = anchors_of(compiled.pattern, compiled.flags)
    return {
        "regex": compiled.pattern,
        "flags": compiled.flags,
        "groupindex": dict(compiled.groupindex),
        "sources": sorted(s.value for s in pattern.sources),
        "examples": list(pattern.examples),
        "anchors": [
            [sorted(r.words), sorted(r.substrings), sorted(r.phrases), sorted(r.together)]
            for r in anchors.ordered
        ],
    }


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(
        id=_str(raw["id"]),
        title=_str(raw["title"]),
        summary=_str(raw["summary"]),
        severity=Severity(raw["severity"]),
        priority=int(raw["priority"]),
        docs=_strs(raw["docs"]),
        patterns=tuple(_pattern(p) for p in raw["patterns"]),
        hypotheses=tuple(
            HypothesisSpec(
                id=_str(h[0]),
                claim=_str(h[1]),
                kinds=_strs(h[2]),
                checks=_strs(h[3]),
                remediation=_str(h[4]),
            )
            for h in raw["hypotheses"]
        ),
        path=_str(raw["path"]),
    )


def _pattern(raw: dict[str, Any]) -> Pattern:
    source = _str(raw["regex"])
    flags = int(raw["flags"])
    groupindex = {_str(name): int(index) for name, index in raw["groupindex"].items()}
    anchor_module.remember(
        source,
        flags,
        Anchors(
            tuple(
                Requirement(*(frozenset(_strs(part)) for part in requirement))
                for requirement in raw["anchors"]
            )
        ),
    )
    return Pattern(
        regex=LazyRegex(source, flags, groupindex),
        sources=frozenset(SignalSource(s) for s in raw["sources"]),
        examples=_strs(raw["examples"]),
        groups=frozenset(groupindex),
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _strs(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise TypeError("expected a list")
    return tuple(_str(v) for v in values)
