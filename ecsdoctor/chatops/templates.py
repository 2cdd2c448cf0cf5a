"""Keep the deploy/ templates' read-only policy equal to `ecsdoctor permissions`.

The action list between the `# BEGIN ecsdoctor permissions` and `# END ecsdoctor permissions`
markers is generated from `ecsdoctor.permissions.policy_document()`; a test fails when a
template drifts, and `python -m ecsdoctor.chatops.templates deploy/` rewrites them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ecsdoctor.permissions import policy_document

BEGIN = "# BEGIN ecsdoctor permissions"
END = "# END ecsdoctor permissions"


def actions() -> list[str]:
    """The read-only actions, sorted, as `ecsdoctor permissions` prints them."""
    statement = policy_document()["Statement"][0]
    return sorted(statement["Action"])


def render(text: str) -> str:
    """`text` with every marked action list regenerated."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(line)
            out.extend(f"{indent}- {action}\n" for action in actions())
            skipping = True
            continue
        if stripped.startswith(END):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def main(argv: list[str]) -> int:
    """Rewrite the templates under the given directory (default deploy/); 1 if any changed."""
    folder = Path(argv[0] if argv else "deploy")
    changed = 0
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text()
        new = render(text)
        if new != text:
            path.write_text(new)
            changed += 1
            sys.stdout.write(f"updated {path}\n")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
