"""The HTML report is one self-contained page, and a real browser shows its key sections.

The browser test runs headless Chromium (Debian package `chromium`; `.ci/run` installs it) and is
skipped only when no Chromium is installed locally.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ecsdoctor.incident import render_report
from tests.incident.incidents import replayed

SECTIONS = (
    "Summary", "Timeline", "Root cause", "Consequences", "Ruled out", "Data gaps", "Remediation",
    "Prevention", "Appendix: raw signals (redacted)",
)  # fmt: skip
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)


@pytest.fixture(scope="module")
def seed_html() -> str:
    return render_report("html", replayed("seed-incident"))


def test_html_is_self_contained(seed_html: str) -> None:
    lowered = seed_html.lower()
    for forbidden in ("<script", "<link", "@import", "src=", "url(http", "<iframe", "<img"):
        assert forbidden not in lowered, forbidden
    # The only URL is the SVG namespace; nothing is fetched.
    assert set(re.findall(r"https?://[^\s\"'<)&]+", seed_html)) <= {
        "http://www.w3.org/2000/svg",
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/web/manifests/v1",  # text
    }
    assert "<style>" in seed_html and "@media print" in seed_html
    assert seed_html.count("<svg") == 1 and "✗ vpc-" in seed_html


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_key_sections(seed_html: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(seed_html, encoding="utf-8")
    dom = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    for section in SECTIONS:
        assert re.search(rf"<h2 id=\"[a-z-]+\">{re.escape(section)}</h2>", rendered), section
    assert (
        "<svg" in rendered
        and "has no interface endpoint for com.amazonaws.us-east-1.ecr.dkr" in (rendered)
    )
    assert "<dd>24</dd>" in rendered  # failed tasks
    shot = tmp_path / "report.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1100,1500", page.as_uri(),
                       tmp_path=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 1500)
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes
