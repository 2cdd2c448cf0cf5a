"""`ecsdoctor report`: golden post-mortems, replay equality, archives alone, a log-group archive.

The goldens are replayed from tests/recordings/ (account and archived events frozen on one clock),
so they are byte-stable; rebuild them with `python tests/incident/incidents.py` after a
deliberate change and review the diff.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from moto import mock_aws
from typer.testing import CliRunner

from ecsdoctor.aws.recording import RecordingReader, ReplayReader
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.errors import InputError
from ecsdoctor.incident import IncidentReport, build_report, render_report
from ecsdoctor.incident.command import report_cmd
from ecsdoctor.incident.gather import parse_window
from ecsdoctor.incident.markdown import md, mermaid_label
from tests.incident.incidents import (
    GENERATED,
    GOLDEN,
    INCIDENTS,
    T0,
    build_seed,
    replayed,
    seed_events,
    task_event,
    write_events,
)

FORMATS = ("markdown", "html", "json")


@pytest.mark.parametrize("name", sorted(INCIDENTS))
def test_golden_markdown(name: str) -> None:
    report = replayed(name)
    assert render_report("markdown", report) == (GOLDEN / f"{name}.md").read_text()


def test_golden_seed_reads_as_a_post_mortem() -> None:
    """What a reviewer pastes into a ticket: cause, evidence, impact, timeline, diagram."""
    text = (GOLDEN / "seed-incident.md").read_text()
    for heading in (
        "## Summary", "## Timeline", "## Root cause", "## Consequences", "## Ruled out",
        "## Data gaps", "## Remediation", "## Prevention", "## Appendix: raw signals (redacted)",
    ):  # fmt: skip
        assert f"\n{heading}\n" in text, heading
    assert "- **Failed tasks:** 24" in text
    assert "- **Duration:** 2 h 00 min, from the first failure at 2026-11-29 10:00:00 UTC" in text
    assert "has no interface endpoint for com.amazonaws.us-east-1.ecr.dkr" in text
    assert "```mermaid\nflowchart TD" in text and "class n3 failing;" in text
    assert "SERVICE\\_TASK\\_START\\_IMPAIRED" in text
    assert "Enable the deployment circuit breaker with rollback on web" in text


def _seed_live(tmp_path: Path, *, mask: bool = False) -> tuple[IncidentReport, Path, Path]:
    """The seed incident reported live from moto plus its archive, recorded to tmp_path."""
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        ids = build_seed(session)
        events = write_events(tmp_path / "seed.jsonl", seed_events(ids))
        recorder = RecordingReader(open_reader(AwsAccess(session=session)), mask_accounts=mask)
        report = build_report(
            cluster="prod",
            service="web",
            reader=recorder,
            archives=[str(events)],
            now=T0,
            generated_at=GENERATED,
        )
        recording = recorder.save(tmp_path / "seed.recording.json")
    return report, recording, events


def test_seed_incident_live_and_its_replay_are_the_same_report(tmp_path: Path) -> None:
    live, recording, events = _seed_live(tmp_path)
    s = live.summary
    assert (s.failed_tasks, s.services, s.duration_seconds) == (24, ("web",), 7200.0)
    assert s.recovered_at is None and s.ended == "2026-11-29T12:00:00Z"
    assert "ecr.dkr" in s.root_cause
    assert live.root_causes[0].path[-1].failing
    assert live.root_causes[0].finding.check == "network.ecr_unreachable"
    kinds = [e.kind for e in live.timeline]
    assert kinds[0] == "deployment" and "failure" in kinds
    first = next(e for e in live.timeline if e.kind == "failure")
    assert (first.count, first.at, first.last_at) == (
        24,
        "2026-11-29T10:00:00Z",
        "2026-11-29T11:55:00Z",
    )
    # A week later, with the tasks long gone: the replay reaches no AWS and says the same.
    replay = ReplayReader.load(recording)
    again = build_report(
        cluster="prod",
        service="web",
        reader=replay,
        archives=[str(events)],
        generated_at=GENERATED + timedelta(days=7),
    )
    assert replay.missing == []
    for fmt in FORMATS:
        first_text, second_text = render_report(fmt, live), render_report(fmt, again)
        assert first_text != second_text  # the generation time differs...
        # ...and, at most, the request count: the live count includes retries of the emulated
        # account's unimplemented CloudTrail read, which a replay (one answer per call) lacks;
        # and the rounds, which a replay takes from the whole recorded run, not its first part.
        assert _without_count(_without_generation(first_text)) == _without_count(
            _without_generation(second_text)
        )


def _without_count(text: str) -> str:
    text = re.sub(r"\d+ AWS request\(s\)", "<n> AWS request(s)", text)
    text = re.sub(r'"rounds": (\d+|null)', '"rounds": <n>', text)
    return re.sub(r'"api_calls": \d+', '"api_calls": <n>', text)


def _without_generation(text: str) -> str:
    text = re.sub(r"Generated 2026-1[12]-\d\d \d\d:\d\d:\d\d UTC", "Generated <time>", text)
    return re.sub(r'"generated_at": "[^"]+"', '"generated_at": "<time>"', text)


def test_report_from_archived_events_alone_reaches_no_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("an offline report must not open an AWS session")

    monkeypatch.setattr(boto3.session.Session, "__init__", refuse)
    events = write_events(tmp_path / "archive.jsonl", seed_events({"subnet": "subnet-0a1b"}))
    report = build_report(
        cluster="prod", service="web", archives=[str(tmp_path)], now=T0, generated_at=GENERATED
    )
    assert report.offline and report.api_calls == 0 and report.root_causes == ()
    assert report.summary.failed_tasks == 24
    assert report.summary.root_cause.startswith("Not confirmed (archived events only")
    assert "Nothing was ruled out (no AWS check ran)." in render_report("markdown", report)
    # Through the command, as a user would run it.
    app = typer.Typer()
    app.command("report")(report_cmd)
    app.command("noop")(lambda: None)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--offline",
            "--events",
            str(events),
            "--cluster",
            "prod",
            "--format",
            "html",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output  # ran, confirmed nothing (offline)
    assert '<h2 id="timeline">Timeline</h2>' in out.read_text()


def test_report_from_a_cloudwatch_logs_archive(tmp_path: Path) -> None:
    """An EventBridge rule stores ECS events in a log group; the report reads them back."""
    now = datetime.now(UTC).replace(microsecond=0)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        ids = build_seed(session)
        logs = session.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName="/aws/events/ecs")
        logs.create_log_stream(logGroupName="/aws/events/ecs", logStreamName="rule")
        start = now - timedelta(hours=2)
        archived = [e for e in seed_events(ids) if e["detail"]["lastStatus"] == "STOPPED"][:10]
        messages = []
        for index, event in enumerate(archived):
            at = start + timedelta(minutes=5 * index)
            event = task_event(
                event["detail"]["taskArn"].rsplit("/", 1)[-1], "STOPPED", at,
                reason=event["detail"]["stoppedReason"],
            )  # fmt: skip
            messages.append({"timestamp": int(at.timestamp() * 1000), "message": json.dumps(event)})
        messages.append({"timestamp": int(start.timestamp() * 1000) + 1, "message": "not an event"})
        messages.sort(key=lambda m: m["timestamp"])
        logs.put_log_events(
            logGroupName="/aws/events/ecs", logStreamName="rule", logEvents=messages
        )
        reader = open_reader(AwsAccess(session=session))
        report = build_report(
            cluster="prod", service="web", reader=reader, log_group="/aws/events/ecs", since="6h"
        )
    assert report.summary.failed_tasks == 10
    assert any("/aws/events/ecs (10 ECS event(s))" in s for s in report.sources), report.sources
    assert "ecr.dkr" in report.summary.root_cause
    first = next(e for e in report.timeline if e.kind == "failure" and e.count == 10)
    assert first.source == "logs:FilterLogEvents"


def test_a_denied_log_group_is_a_data_gap_with_its_permission(tmp_path: Path) -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        build_seed(session)
        from tests.conftest import Recorder

        recorded = Recorder(session)

        def deny(**_: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "FilterLogEvents"
            )

        session.events.register("before-call.logs.FilterLogEvents", deny)
        report = build_report(
            cluster="prod",
            service="web",
            reader=open_reader(AwsAccess(session=session)),
            log_group="/aws/events/ecs",
            now=T0,
        )
    gap = next(g for g in report.data_gaps if g.check == "report.log_group_archive")
    assert gap.permission == "logs:FilterLogEvents"
    assert "logs:FilterLogEvents" in recorded.calls
    assert all(c.split(":")[1].startswith(("Describe", "List", "Get", "Filter", "Lookup",
                                           "BatchGet")) for c in recorded.calls)  # fmt: skip


def test_values_from_aws_are_escaped_for_each_format(tmp_path: Path) -> None:
    hostile = (
        "CannotStartContainerError: <script>alert(1)</script> [click](http://evil) | x `y` *z*"
    )
    events = [
        task_event("0" * 32, "STOPPED", T0 - timedelta(minutes=10), reason=hostile),
        task_event("1" * 32, "STOPPED", T0 - timedelta(minutes=5), reason=hostile),
    ]
    path = write_events(tmp_path / "hostile.jsonl", events)
    report = build_report(cluster="prod", archives=[str(path)], now=T0, generated_at=GENERATED)
    html = render_report("html", report)
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render_report("markdown", report)
    assert "<script>" not in markdown and "\\<script\\>" in markdown
    assert "[click](http://evil)" not in markdown and "\\[click\\]" in markdown
    for line in markdown.splitlines():
        if line.startswith("|") and "alert" in line:
            cells = len(re.findall(r"(?<!\\)\|", line)) - 1
            assert cells in (3, 4), line  # the message's own pipe opened no extra cell
    assert json.loads(render_report("json", report))["summary"]["failed_tasks"] == 2
    assert md("a|b_c") == "a\\|b\\_c"
    assert mermaid_label('say "hi" <b>') == "say #quot;hi#quot; #lt;b#gt;"


def test_window_parsing() -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert parse_window("6h", None, None, now).start == now - timedelta(hours=6)
    span = parse_window(None, "2026-11-29T08:00", "2026-11-29T10:00:00Z", now)
    assert (span.start, span.end) == (now - timedelta(hours=4), now - timedelta(hours=2))
    for bad in (("6 hours", None, None), (None, "yesterday", None), ("1h", "2026-11-29", None),
                (None, "2026-11-29T11:00", "2026-11-29T10:00")):  # fmt: skip
        with pytest.raises(InputError):
            parse_window(*bad, now)


def test_json_report_schema() -> None:
    document = json.loads(render_report("json", replayed("shared-cause")))
    assert document["schema"] == "ecsdoctor.report/v1"
    assert document["diagnosis"]["schema"] == "ecsdoctor.diagnosis/v1"
    assert set(document) >= {
        "generated_at", "subject", "window", "sources", "summary", "timeline", "root_causes",
        "consequences", "ruled_out", "data_gaps", "remediation", "prevention", "appendix",
    }  # fmt: skip
    top = document["root_causes"][0]
    assert top["check"] == "logs.log_group_missing"
    assert sorted(top["affected"]) == ["worker-00", "worker-01", "worker-02"]
    assert top["path"][-1]["failing"] is True
    assert [n["label"] for n in top["joining"]] == ["service/worker-01", "service/worker-02"]
    assert document["summary"]["failed_tasks"] == 6


def test_recovery_ends_the_incident_and_the_window_filters(tmp_path: Path) -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): i/o timeout"
    events = [
        task_event(f"{i:032x}", "STOPPED", T0 - timedelta(minutes=90 - 10 * i), reason=reason)
        for i in range(4)
    ]  # 10:30, 10:40, 10:50, 11:00
    events.append(task_event("f" * 32, "RUNNING", T0 - timedelta(minutes=52)))  # 11:08
    events.append(task_event("e" * 32, "STOPPED", T0 - timedelta(hours=5), reason=reason))
    path = write_events(tmp_path / "recovered.jsonl", events)
    report = build_report(
        cluster="prod", archives=[str(path)], since="3h", now=T0, generated_at=GENERATED
    )
    s = report.summary
    assert s.failed_tasks == 4  # the 07:00 failure is outside the 3 h window
    assert (s.first_failure, s.recovered_at) == ("2026-11-29T10:30:00Z", "2026-11-29T11:08:00Z")
    assert s.duration_seconds == 38 * 60
    assert report.timeline[-1].kind == "recovery" and "RUNNING again" in report.timeline[-1].text
    assert report.window.start == "2026-11-29T09:00:00Z"
    assert "recovered at 2026-11-29 11:08:00 UTC" in render_report("markdown", report)
