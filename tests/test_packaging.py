"""Packaging: what a user installs is what the code imports, named so it can be published.

The installed-wheel checks (no extras, newest and lowest versions) run in `.ci/smoke`; these
tests pin the declarations they rely on, and the start-up cost of the CLI.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from ecsdoctor import cli

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _imports(path: Path) -> set[str]:
    """Top-level modules `path` imports at run time (not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {id(n) for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ecsdoctor", "__future__"}


def test_distribution_name_can_be_published() -> None:
    name = PROJECT["name"]
    assert name == cli.DISTRIBUTION == "ecsdoctor-cli"
    # PyPI refuses a name equal to an existing one once separators and case are dropped.
    squashed = re.sub(r"[-_.]+", "", name.lower())
    assert squashed not in {"ecsdoctor"}  # `ecs-doctor` is another project's
    assert PROJECT["scripts"] == {"ecsdoctor": "ecsdoctor.console:main"}
    assert PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["ecsdoctor"]


def test_every_imported_module_is_a_declared_direct_dependency() -> None:
    modules = metadata.packages_distributions()
    base = {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    demo = base | {_name(r) for r in extras["demo"]}
    chatops = base | {_name(r) for r in extras["chatops"]}
    checked = 0
    for path in sorted((ROOT / "ecsdoctor").rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        allowed = demo if "demo" in parts else chatops if "chatops" in parts else base
        for module in _imports(path):
            dists = {d.lower().replace("_", "-") for d in modules.get(module, [module])}
            assert dists & allowed, f"{path.relative_to(ROOT)} imports {module}: not declared"
            checked += 1
    assert checked >= 10
    assert "click" not in {m for p in (ROOT / "ecsdoctor").rglob("*.py") for m in _imports(p)}


def test_dependencies_have_the_tested_lower_bounds() -> None:
    bounds = {_name(r): r for r in PROJECT["dependencies"]}
    assert set(bounds) == {"boto3", "botocore", "typer", "regex", "networkx"}
    for name, requirement in bounds.items():
        assert ">=" in requirement, f"{name} has no lower bound"
    # typer < 0.16 fails with click >= 8.2 (`diagnose --format`), 0.12 on `list[str] | None`.
    assert bounds["typer"] == "typer>=0.16"


def test_metadata_classifiers_urls_and_typed_marker() -> None:
    assert "Typing :: Typed" in PROJECT["classifiers"]
    assert any(
        c.startswith("Programming Language :: Python :: 3.11") for c in PROJECT["classifiers"]
    )
    assert PROJECT["urls"]
    assert (ROOT / "ecsdoctor" / "py.typed").is_file()
    assert PROJECT["license"] and PROJECT["requires-python"] == ">=3.11"


def test_version_has_one_source() -> None:
    assert "version" not in PROJECT.get("dynamic", [])
    assert cli.package_version() == PROJECT["version"]
    assert not re.search(r'^__version__ = "', (ROOT / "ecsdoctor" / "cli.py").read_text(), re.M)


def test_package_version_attribute_reads_the_published_distribution() -> None:
    source = (ROOT / "ecsdoctor" / "__init__.py").read_text(encoding="utf-8")
    assert '"ecsdoctor-cli"' in source or "DISTRIBUTION" in source


def test_readme_names_the_distribution_and_keeps_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install ecsdoctor-cli" in readme
    assert "python -m pytest -n 2" in readme
    assert "docs/exit-codes.md" in readme and (ROOT / "docs" / "exit-codes.md").is_file()
    assert (ROOT / "SECURITY.md").is_file()


# --------------------------------------------------------------------------- start-up

_STUBBED = """
import sys, types
package = types.ModuleType("ecsdoctor")
package.__path__ = [{path!r}]
sys.modules["ecsdoctor"] = package
import ecsdoctor.cli
sys.argv = ["ecsdoctor", *{args!r}]
try:
    ecsdoctor.cli.main()
except SystemExit:
    pass
heavy = sorted(m for m in ("boto3", "botocore", "networkx", "moto") if m in sys.modules)
print("HEAVY", heavy)
"""

_REAL = """
import sys
import ecsdoctor.cli
sys.argv = ["ecsdoctor", *{args!r}]
try:
    ecsdoctor.cli.main()
except SystemExit:
    pass
print("HEAVY", sorted(m for m in ("boto3", "botocore", "networkx", "moto") if m in sys.modules))
"""


def _heavy(script: str, args: list[str]) -> str:
    code = script.format(path=str(ROOT / "ecsdoctor"), args=args)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEAVY")]
    assert lines, done.stderr
    return lines[-1]


@pytest.mark.parametrize("args", [["--help"], ["--version"], []], ids=["help", "version", "none"])
def test_the_cli_module_imports_nothing_heavy(args: list[str]) -> None:
    """cli.py itself: boto3, networkx and moto load only inside the commands that use them."""
    assert _heavy(_STUBBED, args) == "HEAVY []"


@pytest.mark.parametrize("args", [["explain", "CannotPullContainerError: x"], ["kb", "list"]])
def test_explain_and_kb_import_nothing_heavy(args: list[str]) -> None:
    assert _heavy(_STUBBED, args) == "HEAVY []"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["explain", "CannotPullContainerError: x"], ["kb", "list"]],
    ids=["help", "explain", "kb"],
)
def test_the_real_package_imports_nothing_heavy(args: list[str]) -> None:
    assert _heavy(_REAL, args) == "HEAVY []"
