"""`ecsdoctor report`: the typer command function; the lead registers it in cli.py.

Imports stay light at module level (typer only): the report machinery, boto3 and the knowledge
base load when the command runs, so `ecsdoctor --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("markdown", "html", "json")


def report_cmd(
    cluster: Annotated[str | None, typer.Option("--cluster", help="Cluster name or ARN.")] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Service name or ARN (default: all).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Look back this long, e.g. 90m, 6h, 2d.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Window start, ISO-8601 (UTC if no zone).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end, ISO-8601.")] = None,
    events: Annotated[
        list[str] | None,
        typer.Option("--events", help="Archived ECS events: a file or folder (repeatable)."),
    ] = None,
    log_group: Annotated[
        str | None,
        typer.Option("--log-group", help="CloudWatch Logs group holding archived ECS events."),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Archived events only: no AWS access.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="markdown, html or json.")
    ] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="Save every AWS answer (redacted) here.")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option("--replay", help="Answer from this recording: no AWS access.")
    ] = None,
    mask_accounts: Annotated[
        bool, typer.Option("--mask-accounts", help="Replace account ids in the recording.")
    ] = False,
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="Custom AWS endpoint.")
    ] = None,
    role_arn: Annotated[
        str | None, typer.Option("--role-arn", help="Assume this role to read the account.")
    ] = None,
    knowledge: Annotated[
        Path | None, typer.Option("--knowledge", help="Knowledge directory to use instead.")
    ] = None,
) -> None:
    """Write the evidence part of a post-mortem: summary, timeline, root cause, prevention."""
    from ecsdoctor.aws.recording import reader_scope
    from ecsdoctor.aws.session import AwsAccess, open_reader
    from ecsdoctor.errors import InputError
    from ecsdoctor.incident import build_report, render_report
    from ecsdoctor.pipeline import load_knowledge

    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if offline and (record or replay or log_group):
        raise InputError("--offline reads archived files only: drop --record/--replay/--log-group")
    if offline and not events:
        raise InputError("--offline needs archived events (--events PATH)")
    if not offline and not cluster and not replay:
        raise InputError("name the cluster (--cluster NAME), or use --offline with --events")
    kb = load_knowledge(knowledge)
    archives = list(events or [])
    if offline:
        report = build_report(
            cluster=cluster, service=service, archives=archives, since=since, start=start,
            end=end, knowledge=kb,
        )  # fmt: skip
    else:
        access = AwsAccess(None, region, profile, endpoint_url, role_arn)
        with reader_scope(
            live=lambda: open_reader(access),
            record=record,
            replay=replay,
            mask_accounts=mask_accounts,
        ) as reader:
            report = build_report(
                cluster=cluster, service=service, reader=reader, archives=archives,
                log_group=log_group, since=since, start=start, end=end, knowledge=kb,
            )  # fmt: skip
    text = render_report(fmt, report)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputError(f"{output}: cannot write: {err.strerror or err}") from err
    else:
        sys.stdout.write(text)
    raise typer.Exit(0 if report.root_causes else 1)


__all__ = ["report_cmd"]
