"""The benchmark command runs and prints its table (its quickest section; figures are not judged:
timing assertions are flaky on shared machines, the figures live in docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK = ROOT / "benchmarks" / "perf.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(BENCHMARK), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_quick_explain_section_prints_rows_beside_their_baselines() -> None:
    done = _run("--quick", "--only", "explain", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["section"] for r in rows] == ["explain"] * 3
    for row in rows:
        assert set(row) == {"section", "what", "value", "baseline", "ratio", "target"}
        assert row["value"] and row["baseline"] and row["ratio"]
    assert float(rows[0]["value"].replace(",", "")) > 0  # messages per second

    sys.path.insert(0, str(BENCHMARK.parent))
    try:
        import perf
    finally:
        sys.path.remove(str(BENCHMARK.parent))
    table = perf.render([perf.Row(**row) for row in rows]).splitlines()
    assert table[0] == "| section | measure | ecsdoctor | naive baseline | ratio | target |"
    assert len(table) == 2 + 3
    assert all(line.count("|") == 7 for line in table)
    assert "CPU" in perf.machine() and "Python" in perf.machine()


def test_an_unknown_section_is_a_usage_error() -> None:
    done = _run("--only", "nonsense")
    assert done.returncode == 2
    assert "unknown section(s) nonsense" in done.stderr
