"""The knowledge loader rejects every kind of broken file, naming the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecsdoctor.cli import app
from ecsdoctor.errors import KnowledgeError
from ecsdoctor.kb import KnowledgeBase, load_entries
from ecsdoctor.models import Signal, SignalSource

CHECKS = frozenset({"network.ecr_unreachable", "image.uri_malformed"})

GOOD = """\
id = "demo.widget_timeout"
title = "The widget timed out"
severity = "failure"
priority = 50
summary = "The widget could not reach its registry."
docs = ["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/welcome.html"]

[[pattern]]
sources = ["stopped_reason", "container_reason"]
regex = '''WidgetError: dial tcp (?P<ip>[\\d.]+):(?P<port>\\d+): i/o timeout'''
examples = ['''WidgetError: dial tcp 10.0.0.1:443: i/o timeout''']

[[hypothesis]]
id = "no_route"
claim = "The subnet has no route."
kinds = ["route_table", "nat_gateway"]
checks = ["network.ecr_unreachable"]
remediation = "Add a route in {vpc_id} for {ip}:{port}."

[[hypothesis]]
id = "blocked"
claim = "A security group blocks it."
kinds = ["security_group"]
remediation = "Open 443 in {security_group_ids}."
"""


def write(root: Path, text: str, rel: str = "demo/widget_timeout.toml") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str, rel: str = "demo/widget_timeout.toml") -> KnowledgeError:
    write(tmp_path, text, rel)
    with pytest.raises(KnowledgeError) as info:
        load_entries(tmp_path, known_checks=CHECKS)
    return info.value


def test_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (entry,) = load_entries(tmp_path, known_checks=CHECKS)
    assert entry.id == "demo.widget_timeout"
    assert entry.kinds == ("route_table", "nat_gateway", "security_group")
    assert [h.id for h in entry.hypotheses] == ["no_route", "blocked"]
    signal = Signal(
        source=SignalSource.STOPPED_REASON, text="WidgetError: dial tcp 10.9.9.9:443: i/o timeout"
    )
    match = KnowledgeBase([entry]).match(signal)
    assert match is not None and match.captures == {"ip": "10.9.9.9", "port": "443"}


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        # bad regex
        ("(?P<ip>[\\d.]+):", "(?P<ip>[\\d.]+:", "pattern[0].regex", "bad regex"),
        # example not matching
        (
            "10.0.0.1:443: i/o timeout'''",
            "10.0.0.1:443: refused'''",
            "pattern[0].examples[0]",
            "does not match",
        ),
        # unknown placeholder
        (
            "for {ip}:{port}",
            "for {image}",
            "hypothesis[0].remediation",
            "unknown placeholder {image}",
        ),
        # malformed placeholder
        ("for {ip}:{port}", "for {ip", "hypothesis[0].remediation", "malformed"),
        # unknown resource kind
        (
            'kinds = ["security_group"]',
            'kinds = ["firewall"]',
            "hypothesis[1].kinds",
            "unknown resource kind 'firewall'",
        ),
        # unknown check id
        (
            'checks = ["network.ecr_unreachable"]',
            'checks = ["network.nope"]',
            "hypothesis[0].checks",
            "unknown check 'network.nope'",
        ),
        # missing fields
        ('title = "The widget timed out"\n', "", "title", "missing"),
        ('summary = "The widget could not reach its registry."\n', "", "summary", "missing"),
        ('claim = "A security group blocks it."\n', "", "hypothesis[1].claim", "missing"),
        (
            'remediation = "Open 443 in {security_group_ids}."\n',
            "",
            "hypothesis[1].remediation",
            "missing",
        ),
        ('kinds = ["security_group"]\n', "", "hypothesis[1].kinds", "at least one"),
        (
            "examples = ['''WidgetError: dial tcp 10.0.0.1:443: i/o timeout''']\n",
            "",
            "pattern[0].examples",
            "example",
        ),
        (
            'docs = ["https://docs.aws.amazon.com/AmazonECS/latest/developerguide/welcome.html"]\n',
            "",
            "docs",
            "https://",
        ),
        ('docs = ["https://docs', 'docs = ["http://docs', "docs", "https://"),
        # bad severity / priority
        ('severity = "failure"', 'severity = "fatal"', "severity", "'failure' or 'info'"),
        ("priority = 50", "priority = 101", "priority", "0 to 100"),
        ("priority = 50", 'priority = "high"', "priority", "integer"),
        # duplicate hypothesis id
        ('id = "blocked"', 'id = "no_route"', "hypothesis", "unique"),
        ('id = "blocked"', 'id = "Blocked-Path"', "hypothesis[1].id", "snake_case"),
        # unknown source, unknown flag, unknown field
        (
            'sources = ["stopped_reason", "container_reason"]',
            'sources = ["stopped_reason", "logs"]',
            "pattern[0].sources",
            "unknown source 'logs'",
        ),
        ("examples = [", 'flags = ["MULTILINE"]\nexamples = [', "pattern[0].flags", "unknown flag"),
        ("priority = 50", "priority = 50\nowner = 'me'", "owner", "unknown field"),
        # a failure entry needs hypotheses
        (GOOD[GOOD.index("[[hypothesis]]") :], "", "hypothesis", "at least one"),
    ],
)
def test_broken_field_is_named(tmp_path: Path, old: str, new: str, field: str, words: str) -> None:
    assert old in GOOD
    err = load_error(tmp_path, GOOD.replace(old, new, 1))
    message = str(err)
    assert "widget_timeout.toml" in message
    assert "demo.widget_timeout" in message
    assert f"field {field!r}" in message
    assert words in message
    assert err.entry == "demo.widget_timeout"
    assert err.field == field
    assert err.exit_code == 2


def test_id_must_equal_the_path(tmp_path: Path) -> None:
    err = load_error(tmp_path, GOOD, rel="demo/other_name.toml")
    assert "other_name.toml" in str(err)
    assert err.field == "id"
    assert "demo.other_name" in str(err)


def test_missing_id(tmp_path: Path) -> None:
    err = load_error(tmp_path, GOOD.replace('id = "demo.widget_timeout"\n', ""))
    assert err.field == "id" and "widget_timeout.toml" in str(err)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    err = load_error(tmp_path, GOOD.replace('title = "The widget timed out"', 'title = "unclosed'))
    assert "widget_timeout.toml" in str(err)
    assert "not valid TOML" in str(err)


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    path.write_bytes(GOOD.encode() + b"\n# \xff\xfe\n")
    with pytest.raises(KnowledgeError, match=r"widget_timeout\.toml"):
        load_entries(tmp_path)


def test_unknown_checks_pass_without_known_checks(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("network.ecr_unreachable", "anything.goes"))
    assert len(load_entries(tmp_path, known_checks=None)) == 1


def test_placeholder_must_be_in_every_pattern(tmp_path: Path) -> None:
    second = (
        "[[pattern]]\nregex = '''WidgetError: unreachable'''\n"
        "examples = ['''WidgetError: unreachable''']\n\n[[hypothesis]]"
    )
    text = GOOD.replace("[[hypothesis]]", second, 1)
    err = load_error(tmp_path, text)
    assert err.field == "hypothesis[0].remediation"
    assert "{ip}" in str(err)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not a directory"):
        load_entries(tmp_path / "absent")


# --------------------------------------------------------------------------- `kb lint`

RIVAL = GOOD.replace('id = "demo.widget_timeout"', 'id = "demo.widget_rival"')


def test_kb_lint_clean_dir_exits_0(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    result = CliRunner().invoke(app, ["kb", "lint", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 entries, 0 problems" in result.output


def test_kb_lint_tie_exits_1(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, RIVAL, "demo/widget_rival.toml")
    result = CliRunner().invoke(app, ["kb", "lint", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "ties with" in result.output
    assert "priority 50" in result.output


def test_kb_lint_higher_priority_resolves_the_tie_for_one_side(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, RIVAL.replace("priority = 50", "priority = 60"), "demo/widget_rival.toml")
    result = CliRunner().invoke(app, ["kb", "lint", str(tmp_path)])
    # the rival now wins the widget's own example: still a problem, but no tie
    assert result.exit_code == 1
    assert "lands on demo.widget_rival" in result.output


def test_kb_lint_broken_file_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace('severity = "failure"', 'severity = "bad"'))
    result = CliRunner().invoke(app, ["kb", "lint", str(tmp_path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, KnowledgeError)
