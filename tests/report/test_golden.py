"""Golden files: every format at 80 and 200 columns, for a live and an offline diagnosis.

Regenerate after a deliberate change with `ECSDOCTOR_UPDATE_GOLDEN=1 python -m pytest
tests/report` and review the diff: these files are what a user sees.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecsdoctor.models import Diagnosis
from ecsdoctor.report import Format, render

GOLDEN = Path(__file__).with_name("golden")


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("fmt", list(Format), ids=[f.value for f in Format])
@pytest.mark.parametrize("which", ["live", "offline"])
def test_golden(which: str, fmt: Format, width: int, request: pytest.FixtureRequest) -> None:
    diagnosis: Diagnosis = request.getfixturevalue(which)
    suffix = {"text": "txt", "json": "json", "markdown": "md", "slack": "json"}[fmt.value]
    path = GOLDEN / f"{which}.{fmt.value}.{width}.{suffix}"
    out = render(fmt, diagnosis, width=width)
    if os.environ.get("ECSDOCTOR_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path.name}: run with ECSDOCTOR_UPDATE_GOLDEN=1"
    assert out == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", [Format.JSON, Format.MARKDOWN, Format.SLACK])
def test_only_text_depends_on_the_width(live: Diagnosis, fmt: Format) -> None:
    assert render(fmt, live, width=80) == render(fmt, live, width=200) == render(fmt, live)
    assert render(Format.TEXT, live, width=80) != render(Format.TEXT, live, width=200)
