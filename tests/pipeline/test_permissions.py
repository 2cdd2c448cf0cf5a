"""`ecsdoctor permissions` is exactly what the code can send: derived and proved from the source."""

from __future__ import annotations

import ast
from pathlib import Path

from ecsdoctor.aws.operations import FORBIDDEN, is_allowed, permission_name
from ecsdoctor.checks import REGISTRY
from ecsdoctor.permissions import DEFAULT_ROLE_PATTERN, policy_document, required_actions

PACKAGE = Path(__file__).resolve().parents[2] / "ecsdoctor"
#: Modules that call AWS for other reasons than inspecting an account.
NOT_INSPECTION = ("demo/", "chatops/")


def _called_operations() -> set[str]:
    """Every ("service", "Operation") literal passed to a reader's call/pages in the package."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(NOT_INSPECTION):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            args = node.args
            func = node.func
            if isinstance(func, ast.Name) and func.id == "partial" and args:
                func, args = args[0], args[1:]
            if not (isinstance(func, ast.Attribute) and func.attr in ("call", "pages")):
                continue
            if len(args) >= 2 and all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[:2]
            ):
                service, operation = (a.value for a in args[:2])  # type: ignore[attr-defined]
                found.add(permission_name(service, operation))
    return found


def test_the_policy_is_exactly_what_the_code_calls() -> None:
    called = _called_operations() - {"sts:AssumeRole"}  # its own, scoped statement
    assert called, "the source scan found no AWS call: the scan itself is broken"
    declared = required_actions()
    assert called - declared == set(), "called but not declared (add to a check's reads=)"
    assert declared - called == set(), "declared but never called (drop it from the declaration)"


def test_every_declared_read_is_allowed_and_none_is_forbidden() -> None:
    for action in required_actions():
        assert is_allowed(action), action
        assert action not in FORBIDDEN, action
    for check in REGISTRY.values():
        assert set(check.reads) <= required_actions(), check.id


def test_assume_role_has_its_own_statement_scoped_to_roles() -> None:
    default = policy_document()
    reads, assume = default["Statement"]
    assert "sts:AssumeRole" not in reads["Action"]
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Resource"] == [DEFAULT_ROLE_PATTERN]
    role = "arn:aws:iam::444455556666:role/audit"
    assert policy_document([role])["Statement"][1]["Resource"] == [role]
    assert "*" not in str(assume["Resource"]).replace(DEFAULT_ROLE_PATTERN, "")


def test_the_permissions_page_is_current() -> None:
    from ecsdoctor.permissions import permissions_markdown

    page = PACKAGE.parent / "docs" / "permissions.md"
    assert page.read_text() == permissions_markdown(), (
        "regenerate: python -c 'from ecsdoctor.permissions import permissions_markdown as m; "
        'open("docs/permissions.md", "w").write(m())\''
    )
