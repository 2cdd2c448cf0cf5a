"""The layering is visible and enforced: offline layers never load AWS access, boto3 or networkx.

Offline: ingest, knowledge, matching, explain, offline diagnosis, the pipeline and the renderers.
Live: AWS access, snapshots, the graph, checks and the live collectors. A bot, `explain` and
`--help` must start without the live half, and no module reaches into another's private names.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ecsdoctor"
OFFLINE = (
    "ecsdoctor.models",
    "ecsdoctor.kinds",
    "ecsdoctor.errors",
    "ecsdoctor.redaction",
    "ecsdoctor.arn",
    "ecsdoctor.ingest",
    "ecsdoctor.kb",
    "ecsdoctor.explain",
    "ecsdoctor.offline",
    "ecsdoctor.pipeline",
    "ecsdoctor.report",
)
LIVE = ("ecsdoctor.aws", "ecsdoctor.snapshot", "ecsdoctor.service", "ecsdoctor.graph",
        "ecsdoctor.checks", "ecsdoctor.diagnose", "ecsdoctor.scan", "ecsdoctor.events")  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names) of every import outside `if TYPE_CHECKING:` blocks."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [a.name for a in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _sources() -> list[tuple[str, ast.Module]]:
    return [(_module_name(p), ast.parse(p.read_text())) for p in sorted(PACKAGE.rglob("*.py"))]


def test_offline_layers_import_nothing_live() -> None:
    problems = []
    for module, tree in _sources():
        if not module.startswith(OFFLINE):
            continue
        for imported, _ in _runtime_imports(tree):
            if imported.startswith((*LIVE, "boto3", "botocore", "networkx")):
                problems.append(f"{module} imports {imported}")
    assert problems == []


def test_no_module_imports_another_modules_private_name() -> None:
    problems = []
    for module, tree in _sources():
        for imported, names in _runtime_imports(tree):
            if imported.startswith("ecsdoctor") and imported != module:
                problems += [
                    f"{module}: {imported}.{n}"
                    for n in names
                    if n.startswith("_") and not n.endswith("__")
                ]
    assert problems == []


@pytest.mark.parametrize(
    "module", ["ecsdoctor.diagnose", "ecsdoctor.scan", "ecsdoctor.events", "ecsdoctor.pipeline"]
)
def test_pipeline_modules_hide_no_imports_in_functions(module: str) -> None:
    tree = dict(_sources())[module]
    hidden = [
        ast.unparse(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert hidden == []


def test_library_and_offline_diagnosis_load_neither_boto3_nor_networkx(tmp_path: Path) -> None:
    sample = tmp_path / "stopped.txt"
    sample.write_text(
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        "resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/web:1.0: dial tcp "
        "10.0.248.239:443: i/o timeout\n"
    )
    script = (
        "import json, sys\n"
        "import ecsdoctor\n"
        "from ecsdoctor import Format, diagnose_events, render\n"
        f"text = render(Format.TEXT, diagnose_events({str(sample)!r}))\n"
        "print(json.dumps([m for m in ('boto3', 'botocore', 'networkx', 'ecsdoctor.aws')"
        " if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
