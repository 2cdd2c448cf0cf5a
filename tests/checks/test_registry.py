"""Every registered check declares itself fully, is reachable from knowledge, and has a table.

A new check without a table test fails here: its module needs `tests/checks/test_<module>.py`
defining `test_<function>` and listing the function in the module's `TABLES`, with rows for
CONFIRMED, RULED_OUT and INCONCLUSIVE (a denied read), each citing its evidence.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from types import ModuleType

import pytest

from ecsdoctor.aws.operations import FORBIDDEN, is_allowed
from ecsdoctor.checks import REGISTRY, check_id_of
from ecsdoctor.checks.base import AnyCheck
from ecsdoctor.kb.loader import load_entries
from ecsdoctor.kinds import Kind
from ecsdoctor.models import Status
from ecsdoctor.permissions import policy_document
from tests.checks.table import Row

HERE = Path(__file__).parent
CHECK_IDS = sorted(REGISTRY)

#: Checks no knowledge hypothesis names, and why they still run.
NOT_NAMED_BY_KNOWLEDGE: dict[str, str] = {
    # Runs on every task: CloudTrail changes are evidence for whatever the root cause is.
    "changes.recent_changes": "evidence for any root cause, not one failure family's hypothesis",
}

#: Checks that by design reach only some statuses; their tables must show all of these.
STATUSES_BY_DESIGN: dict[str, frozenset[Status]] = {
    # a change is evidence, never a verdict
    "changes.recent_changes": frozenset({Status.INCONCLUSIVE}),
    # silent unless the container's reason or exit code says so
    "container.essential_exit_code": frozenset({Status.CONFIRMED, Status.INCONCLUSIVE}),
    "container.out_of_memory": frozenset({Status.CONFIRMED, Status.INCONCLUSIVE}),
    # names the volumes it cannot probe, never fails them
    "efs.other_volumes": frozenset({Status.RULED_OUT, Status.INCONCLUSIVE}),
    # SCPs are unreadable from a member account
    "iam.scp_denied": frozenset({Status.INCONCLUSIVE}),
}

#: Checks that read nothing beyond the document in hand: no read can be denied.
NEVER_INCONCLUSIVE = {
    "deployment.circuit_breaker_disabled": "judges the describe-services document only",
    "deployment.deployment_deadlock": "judges the describe-services document only",
}

#: Reads the snapshots make for every check that touches them (the task definition, the task's
#: ENI, its service): the permission set is the union of these and the checks' declared reads.
SNAPSHOT_READS = frozenset(
    {"ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces", "ecs:DescribeServices"}
)

#: Known defects in declarations, each with the fix (see the report of the table-test work).
UNDECLARED_READS: dict[str, str] = {}


def _module(check_id: str) -> str:
    return check_id.split(".", 1)[0]


def _table_module(check_id: str) -> ModuleType:
    return importlib.import_module(f"tests.checks.test_{_module(check_id)}")


def _rows(check_id: str) -> list[Row]:
    entry = REGISTRY[check_id]
    tables = getattr(_table_module(check_id), "TABLES", {})
    for fn, rows in tables.items():
        if check_id_of(fn) == entry.id:
            return [p.values[0] for p in rows]
    return []


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_declares_itself(check_id: str) -> None:
    entry: AnyCheck = REGISTRY[check_id]
    assert entry.doc, f"{check_id} has no docstring: the docstring is its definition"
    module = entry.fn.__module__.rsplit(".", 1)[-1]
    assert entry.id == check_id == f"{module}.{entry.fn.__name__}"
    assert isinstance(entry.kind, Kind)
    assert len(set(entry.reads)) == len(entry.reads), f"{check_id} declares a read twice"
    for operation in entry.reads:
        assert is_allowed(operation), f"{check_id} declares {operation}, not on the allow-list"
        assert operation not in FORBIDDEN


def test_every_declared_read_is_in_the_printed_policy() -> None:
    granted = set(policy_document()["Statement"][0]["Action"])
    declared = {op for entry in REGISTRY.values() for op in entry.reads}
    assert declared | SNAPSHOT_READS <= granted


@functools.cache
def _named_by_knowledge() -> frozenset[str]:
    return frozenset(c for e in load_entries() for h in e.hypotheses for c in h.checks)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_is_named_by_knowledge(check_id: str) -> None:
    named = _named_by_knowledge()
    if check_id in NOT_NAMED_BY_KNOWLEDGE:
        assert check_id not in named, f"{check_id} is named now: drop it from the allow-list"
    else:
        assert check_id in named, f"no knowledge hypothesis names {check_id}"


def test_allow_lists_name_registered_checks() -> None:
    for listed in (
        NOT_NAMED_BY_KNOWLEDGE,
        NEVER_INCONCLUSIVE,
        UNDECLARED_READS,
        STATUSES_BY_DESIGN,
    ):
        assert set(listed) <= set(REGISTRY)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_has_a_table_test(check_id: str) -> None:
    module, function = check_id.split(".", 1)
    path = HERE / f"test_{module}.py"
    assert path.is_file(), f"{check_id}: no table test file {path.name}"
    assert f"def test_{function}(" in path.read_text(), f"{path.name} has no test_{function}"
    rows = _rows(check_id)
    assert len(rows) >= 3, f"{check_id}: list its rows in TABLES of {path.name} (3 at least)"
    statuses = {row.status for row in rows}
    assert STATUSES_BY_DESIGN.get(check_id, {Status.CONFIRMED, Status.RULED_OUT}) <= statuses, (
        check_id
    )
    if check_id in NEVER_INCONCLUSIVE:
        assert REGISTRY[check_id].reads == ()
    else:
        denied = [r for r in rows if r.status is Status.INCONCLUSIVE and r.permission]
        assert denied, f"{check_id}: no INCONCLUSIVE row for a denied read"
    for row in rows:
        if row.status is not None:
            assert row.resource and row.kind and row.cites, f"{check_id}: a row cites nothing"
            assert row.source or row.permission, f"{check_id}: a row names no evidence source"


@pytest.mark.parametrize(
    "check_id",
    [
        pytest.param(
            c,
            marks=pytest.mark.xfail(strict=True, reason=UNDECLARED_READS[c])
            if c in UNDECLARED_READS
            else (),
        )
        for c in CHECK_IDS
    ],
)
def test_rows_read_only_what_the_check_declares(check_id: str) -> None:
    entry = REGISTRY[check_id]
    seen: set[str] = set()
    for row in _rows(check_id):
        ctx, reader = row.build()
        entry.run(ctx)  # type: ignore[arg-type]
        seen.update(reader.calls)
    undeclared = seen - set(entry.reads) - SNAPSHOT_READS
    assert not undeclared, f"{check_id} reads {sorted(undeclared)} without declaring them"
