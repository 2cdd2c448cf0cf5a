"""Output you can paste: wrapping at the width only at spaces, commands whole, headline once."""

from __future__ import annotations

import re

import pytest

from ecsdoctor.models import Diagnosis
from ecsdoctor.report import Format, render
from ecsdoctor.report.commands import split_remediation

ARN = re.compile(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:[^\s\"']+")
IDS = re.compile(r"\b(?:rtb|vpc|subnet|sg|vpce|eni)-[0-9a-f]{8,17}\b")


def _commands(diagnosis: Diagnosis) -> list[str]:
    findings = diagnosis.root_causes + diagnosis.other_problems
    texts = [f.remediation for f in findings if f.remediation]
    return [c for t in texts for c in split_remediation(t or "").commands]


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_text_wraps_at_the_width_only_between_words(live: Diagnosis, width: int) -> None:
    out = render(Format.TEXT, live, width=width)
    commands = _commands(live)
    assert commands, "the fixture must carry commands"
    for line in out.splitlines():
        if len(line) <= width or line.strip() in commands:
            continue
        # longer only when one word (an ARN, a URL) cannot fit: then it is alone after the indent
        words = line.split()
        assert len(words) <= 2 or len(" ".join(words[1:])) > width - 8, line
    for command in commands:
        assert f"\n{' ' * 8}{command}\n" in out, f"command not whole on its own line: {command}"


@pytest.mark.parametrize("width", [80, 200, None])
def test_arns_ids_and_hyphenated_words_are_never_split(live: Diagnosis, width: int | None) -> None:
    out = render(Format.TEXT, live, width=width)
    piped = render(Format.TEXT, live)
    values = {v.rstrip(".,;:") for p in (ARN, IDS) for v in p.findall(piped)}
    assert len(values) >= 5
    for value in values:
        assert value in out, value
    assert "update-\n" not in out and "-\n" not in out.replace("--\n", "")


def test_headline_printed_once(live: Diagnosis) -> None:
    out = render(Format.TEXT, live, width=80)
    summary = live.root_causes[0].summary
    assert out.startswith("ROOT CAUSE: ")
    assert "(1 of 2 independent root causes; the others below)" in out
    assert " ".join(out.split()).count(summary) == 1
    assert out.count("ROOT CAUSE") == 1


def test_piped_text_is_not_wrapped(live: Diagnosis) -> None:
    out = render(Format.TEXT, live)
    assert out.startswith(f"ROOT CAUSE: {live.root_causes[0].summary}\n")
    assert live.signals[0].text in out


def test_markdown_commands_in_fenced_blocks(live: Diagnosis) -> None:
    out = render(Format.MARKDOWN, live)
    blocks = re.findall(r"^```sh\n(.*?)\n```$", out, flags=re.S | re.M)
    assert sorted(line for b in blocks for line in b.splitlines()) == sorted(_commands(live))


def test_slack_commands_in_code_blocks(live: Diagnosis) -> None:
    import json

    payload = json.loads(render(Format.SLACK, live))
    text = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    roots = [c for f in live.root_causes for c in split_remediation(f.remediation or "").commands]
    assert roots
    for command in roots:
        escaped = command.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f"```{escaped}```" in text or f"\n{escaped}" in text


def test_offline_leads_with_the_recognised_failure(offline: Diagnosis) -> None:
    out = render(Format.TEXT, offline, width=80)
    first = out.splitlines()[0]
    assert first.startswith("RECOGNISED FAILURE: image_pull.network_timeout: ")
    head = out.split("Signals:")[0]
    assert "Most likely causes" in head and "1. " in head
    assert head.index("Most likely causes") < head.index("Subject:") + 400
    md = render(Format.MARKDOWN, offline)
    assert md.index("Recognised failure") < md.index("## Timeline")
    assert "## Most likely causes" in md
