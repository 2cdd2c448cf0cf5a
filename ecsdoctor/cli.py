"""The `ecsdoctor` command: parse arguments, call the library, render, pick the exit code.

Exit codes (docs/exit-codes.md): 0 a root cause was confirmed (explain and offline diagnosis: every
message recognised; no arguments: the help); 1 ran and confirmed nothing (explain and offline: a
message was not recognised); 2 bad input or usage; 3 AWS could not be used; 4 an internal error
(a bug: please report it). Errors are one line on stderr, never a traceback (ECSDOCTOR_DEBUG=1
shows one).

Start-up stays fast: at module level this imports typer and nothing of ecsdoctor's that a command
does not need before it runs (no renderer, no redaction rules, no knowledge base); boto3, networkx
and moto load only inside the commands that use them, so `--help`, `--version`, `explain` and `kb`
load none of them (tests/test_packaging.py, tests/test_startup.py).
"""

import json
import os
import re
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from ecsdoctor.chatops.command import serve_cmd
from ecsdoctor.console import explain_command, run
from ecsdoctor.errors import AwsSetupError, InputError
from ecsdoctor.incident.command import report_cmd

if TYPE_CHECKING:  # typing only: the knowledge base and models load inside the commands
    from contextlib import AbstractContextManager

    from ecsdoctor.aws.protocol import Reader
    from ecsdoctor.kb import KnowledgeBase
    from ecsdoctor.models import Diagnosis

#: The distribution name on PyPI (`ecs-doctor` is another project's, and PyPI refuses names that
#: differ from it only by separators); the command and the import package are `ecsdoctor`.
DISTRIBUTION = "ecsdoctor-cli"


def package_version() -> str:
    """The installed version, from the package metadata (pyproject.toml is the one source)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    # A checkout installed under another name (an editable install of an older revision).
    for name in [*metadata.packages_distributions().get("ecsdoctor", []), "ecsdoctor"]:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown (not installed)"


class Format(StrEnum):
    """The `--format` choices: `ecsdoctor.report.Format`'s values (tests/test_startup.py keeps them
    equal), named here so that building the help does not load every renderer."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    SLACK = "slack"


def scrub(text: str) -> str:
    """`ecsdoctor.redaction.scrub`, loaded when a command first shows a value."""
    from ecsdoctor.redaction import scrub as scrub_text

    return scrub_text(text)


app = typer.Typer(
    no_args_is_help=False,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=(
        "Find why an Amazon ECS task will not start or a service keeps failing, with proof. "
        "Read-only: it never changes your account and never reads a secret value."
    ),
)
kb_app = typer.Typer(no_args_is_help=True, help="Inspect and validate the knowledge base.")
app.add_typer(kb_app, name="kb")

_COLOUR = {"enabled": True}


def _colour_wanted() -> bool:
    """Colour only for a person at a terminal that did not opt out (NO_COLOR, --no-color)."""
    return (
        _COLOUR["enabled"]
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
        and sys.stdout.isatty()
    )


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, help="Print the version and exit.")
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (also NO_COLOR=1; none when piped).")
    ] = False,
) -> None:
    if version:
        _out(f"ecsdoctor {package_version()}")
        raise typer.Exit(0)
    _COLOUR["enabled"] = not no_color
    if ctx.invoked_subcommand is None:
        _out(ctx.get_help())
        raise typer.Exit(0)


KnowledgeOpt = Annotated[
    Path | None,
    typer.Option("--knowledge", help="Use the knowledge entries in this directory instead."),
]
ClusterOpt = Annotated[str | None, typer.Option("--cluster", help="Cluster name or ARN.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region.")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile.")]
EndpointOpt = Annotated[str | None, typer.Option("--endpoint-url", help="Custom AWS endpoint.")]
RoleOpt = Annotated[
    str | None, typer.Option("--role-arn", help="Assume this role to read the account.")
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        min=0,
        help="Seconds the whole diagnosis may take (0: none; default $ECSDOCTOR_DEADLINE or "
        "60); what is not read by then is reported as a data gap.",
    ),
]
MaxRpsOpt = Annotated[
    float | None,
    typer.Option(
        "--max-rps",
        min=0,
        help="Most AWS requests a second (0: no cap; default $ECSDOCTOR_MAX_RPS or 10), so a "
        "large scan stays under the account's ECS throttling quotas.",
    ),
]
RecordOpt = Annotated[
    Path | None,
    typer.Option("--record", help="Save every AWS answer of this run (redacted) to FILE."),
]
ReplayOpt = Annotated[
    Path | None,
    typer.Option("--replay", help="Answer from a --record file: no AWS access at all."),
]
MaskOpt = Annotated[
    bool,
    typer.Option("--mask-accounts", help="With --record: replace account ids consistently."),
]
ThoroughOpt = Annotated[
    bool,
    typer.Option(
        "--thorough",
        help="Also run the checks off the failure's path; what they find is listed as other "
        "problems, never as the root cause.",
    ),
]


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _width() -> int | None:
    """The terminal's width when a person reads stdout; None (no wrapping) when it is piped."""
    return shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else None


def _emit(fmt: Format, diagnosis: "Diagnosis") -> None:
    """Render through the one scrubbing point; on a colour terminal, the headline in bold."""
    from ecsdoctor.report import Format as ReportFormat
    from ecsdoctor.report import render

    text = render(ReportFormat(fmt.value), diagnosis, width=_width())
    if fmt is Format.TEXT and _colour_wanted():
        headline, _, rest = text.partition("\n")
        colour = "31" if diagnosis.root_causes else "33"
        text = f"\x1b[1;{colour}m{headline}\x1b[0m\n{rest}"
    _out(text)


def _load_knowledge(directory: Path | None) -> "KnowledgeBase":
    from ecsdoctor.pipeline import load_knowledge

    return load_knowledge(directory)


@app.command("explain")
def explain_cmd(
    messages: Annotated[
        list[str] | None, typer.Argument(help="Messages; none or '-': stdin.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array, one object each.")
    ] = False,
    as_jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="One JSON object per line, written as each is explained."),
    ] = False,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Explain failure messages offline: which failure family, what to check, how to fix.

    Errors pasted from CloudFormation, Terraform, CDK, Copilot or the AWS CLI are unwrapped; the
    tool that wrapped them is named. Exit 0 when every message was recognised, else 1.
    """
    raise typer.Exit(explain_command(messages, as_json, as_jsonl, knowledge))


@app.command("diagnose")
def diagnose_cmd(
    task: Annotated[
        str | None, typer.Option("--task", help="Task ARN (or id with --cluster).")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Service name (with --cluster) or ARN.")
    ] = None,
    cluster: ClusterOpt = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            help="Saved EventBridge / describe-* JSON or text ('-': stdin); the resources it "
            "names are checked live unless --offline.",
        ),
    ] = None,
    fmt: FormatOpt = Format.TEXT,
    as_json: JsonOpt = False,
    offline: Annotated[bool, typer.Option("--offline", help="Make no AWS call.")] = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    role_arn: RoleOpt = None,
    knowledge: KnowledgeOpt = None,
    thorough: ThoroughOpt = False,
    deadline: DeadlineOpt = None,
    max_rps: MaxRpsOpt = None,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    mask_accounts: MaskOpt = False,
) -> None:
    """Diagnose a stopped task, a service or saved events; name the root cause with its evidence.

    Exit 0: a root cause was confirmed (saved events: every failure message was recognised).
    """
    if sum(x is not None for x in (task, service, events)) != 1:
        raise InputError("give exactly one of --task ARN, --service NAME or --events FILE")
    if events is None and offline:
        what = "--service" if service is not None else "--task"
        raise InputError(f"{what} needs AWS; drop --offline or use --events")
    kb = _load_knowledge(knowledge)
    fmt = Format.JSON if as_json else fmt
    if events is not None:
        access = _access(region, profile, endpoint_url, role_arn, kb, deadline)
        diagnosis = _saved_events(events, offline, access, thorough)
        _emit(fmt, diagnosis)
        raise typer.Exit(_offline_exit(diagnosis) if diagnosis.offline else _live_exit(diagnosis))
    access = _access(region, profile, endpoint_url, role_arn, kb, deadline)
    if service is not None:
        from ecsdoctor.arn import parse_service_ref
        from ecsdoctor.scan import diagnose_service

        hint = parse_service_ref(service, cluster).region
        with (
            _reader(access, hint, record, replay, mask_accounts, max_rps) as reader,
            _progress("reading the service, its events and stopped tasks"),
        ):
            diagnosis = diagnose_service(
                service, cluster=cluster, reader=reader, knowledge=kb, thorough=thorough
            )
    else:
        from ecsdoctor.arn import parse_task_ref
        from ecsdoctor.diagnose import diagnose_task

        assert task is not None
        hint = parse_task_ref(task, cluster).region
        with (
            _reader(access, hint, record, replay, mask_accounts, max_rps) as reader,
            _progress("reading the task and its dependencies"),
        ):
            diagnosis = diagnose_task(
                task, cluster=cluster, reader=reader, knowledge=kb, thorough=thorough
            )
    _emit(fmt, diagnosis)
    raise typer.Exit(0 if diagnosis.root_causes else 1)


def _reader(
    access: dict[str, Any],
    region_hint: str | None,
    record: Path | None,
    replay: Path | None,
    mask_accounts: bool,
    max_rps: float | None = None,
) -> "AbstractContextManager[Reader]":
    """The run's one reader: live, live and recorded (--record), or replayed (--replay)."""
    from ecsdoctor.aws.recording import reader_scope
    from ecsdoctor.aws.session import AwsAccess, open_reader

    if record is not None and replay is not None:
        raise InputError("give --record or --replay, not both")
    settings = AwsAccess(
        None,
        access["region"],
        access["profile"],
        access["endpoint_url"],
        access["role_arn"],
        access["deadline"],
        max_rps,
    )
    return reader_scope(
        live=lambda: open_reader(settings, region_hint),
        record=record,
        replay=replay,
        mask_accounts=mask_accounts,
    )


def _saved_events(
    source: str, offline: bool, access: dict[str, Any], thorough: bool
) -> "Diagnosis":
    """Saved events: live when one JSON object names a task or service, else offline.

    When AWS cannot be used at all (no credentials, no region), the knowledge base still answers:
    the diagnosis is made offline and says so on stderr.
    """
    from ecsdoctor.ingest import parse_document, read_source
    from ecsdoctor.offline import diagnose_document

    name = "standard input" if source == "-" else source
    text = read_source(source)
    document = parse_document(text, name)
    single = document.shape == "json" and (document.tasks or document.services)
    if offline or not single:
        return diagnose_document(document, access["knowledge"])
    from ecsdoctor.events import diagnose_event

    try:
        with _progress("checking the resources the event names"):
            return diagnose_event(json.loads(text), **access, thorough=thorough)
    except AwsSetupError as err:
        sys.stderr.write(f"ecsdoctor: AWS not usable ({scrub(str(err))}); diagnosed offline\n")
        return diagnose_document(document, access["knowledge"])


def _live_exit(diagnosis: "Diagnosis") -> int:
    return 0 if diagnosis.root_causes else 1


def _offline_exit(diagnosis: "Diagnosis") -> int:
    """0 when every failure message was recognised (as `explain`), else 1."""
    matched = {m.signal for m in diagnosis.matches}
    every = bool(diagnosis.signals) and matched >= set(range(len(diagnosis.signals)))
    return 0 if diagnosis.root_causes or every else 1


@app.command("scan")
def scan_cmd(
    cluster: ClusterOpt = None,
    all_clusters: Annotated[
        bool, typer.Option("--all-clusters", help="Scan every cluster of the region.")
    ] = False,
    fmt: FormatOpt = Format.TEXT,
    as_json: JsonOpt = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    role_arn: RoleOpt = None,
    knowledge: KnowledgeOpt = None,
    thorough: ThoroughOpt = False,
    deadline: DeadlineOpt = None,
    max_rps: MaxRpsOpt = None,
    record: RecordOpt = None,
    replay: ReplayOpt = None,
    mask_accounts: MaskOpt = False,
) -> None:
    """Every service of a cluster: which are unhealthy, and their root causes, grouped."""
    from ecsdoctor.scan import scan_cluster

    if (cluster is None) == (not all_clusters):
        raise InputError("give exactly one of --cluster NAME or --all-clusters")
    kb = _load_knowledge(knowledge)
    access = _access(region, profile, endpoint_url, role_arn, kb, deadline)
    # A cluster ARN's region is used by scan_cluster itself (an explicit --region still wins).
    from ecsdoctor.arn import parse_arn

    arn = parse_arn(cluster) if cluster else None
    with (
        _reader(
            access, arn.region if arn else None, record, replay, mask_accounts, max_rps
        ) as reader,
        _progress("scanning the services"),
    ):
        diagnosis = scan_cluster(
            cluster, all_clusters=all_clusters, thorough=thorough, reader=reader, knowledge=kb
        )
    _emit(Format.JSON if as_json else fmt, diagnosis)
    raise typer.Exit(0 if diagnosis.root_causes else 1)


def validate_endpoint(url: str, where: str = "--endpoint-url") -> str:
    """An endpoint must be an absolute http(s) URL with a host, as the AWS CLI requires."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InputError(f"{where} {scrub(url)!r} is not a valid URL ({err})") from err
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or not re.fullmatch(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+", host)
        or port == 0
        or any(c.isspace() for c in url)
    ):
        raise InputError(
            f"{where} {scrub(url)!r} is not a valid URL: expected http(s)://HOST[:PORT]"
        )
    return url


def _access(
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    role_arn: str | None,
    kb: "KnowledgeBase",
    deadline: float | None = None,
) -> dict[str, Any]:
    """The keyword arguments every live entry point takes: how to reach AWS, which knowledge."""
    if endpoint_url is not None:
        validate_endpoint(endpoint_url)
    elif os.environ.get("AWS_ENDPOINT_URL"):
        validate_endpoint(os.environ["AWS_ENDPOINT_URL"], "AWS_ENDPOINT_URL")
    return {
        "region": region,
        "profile": profile,
        "endpoint_url": endpoint_url,
        "role_arn": role_arn,
        "deadline": deadline,
        "knowledge": kb,
    }


class _progress:
    """A one-line note on stderr while AWS is read, only when a person is watching."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.shown = sys.stderr.isatty()

    def __enter__(self) -> None:
        if self.shown:
            sys.stderr.write(f"ecsdoctor: {self.what}...\r")
            sys.stderr.flush()

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            sys.stderr.write(" " * (len(self.what) + 14) + "\r")
            sys.stderr.flush()


@app.command("demo")
def demo_cmd(
    scenario: Annotated[str | None, typer.Argument(help="Scenario name (see --list).")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the scenarios.")] = False,
    fmt: FormatOpt = Format.TEXT,
    as_json: JsonOpt = False,
) -> None:
    """Diagnose a broken account emulated in-process (moto): no AWS account needed."""
    from ecsdoctor.demo import DEFAULT_SCENARIO
    from ecsdoctor.demo.run import require_demo_extra, run_scenario, scenario_titles

    titles = scenario_titles()
    if list_only:
        for spec_name, title in titles.items():
            mark = " (default)" if spec_name == DEFAULT_SCENARIO else ""
            _out(f"{spec_name:<30} {title}{mark}")
        raise typer.Exit(0)
    name = scenario or DEFAULT_SCENARIO
    if name not in titles:
        raise InputError(f"no demo scenario {name!r} (see `ecsdoctor demo --list`)")
    require_demo_extra(DISTRIBUTION)
    with _progress(f"building the emulated account '{name}'"):
        title, diagnosis = run_scenario(name)
    if not as_json and fmt is Format.TEXT:
        sys.stderr.write(f"demo: {title} (emulated account, moto)\n")
    _emit(Format.JSON if as_json else fmt, diagnosis)
    raise typer.Exit(0 if diagnosis.root_causes else 1)


app.command("serve")(serve_cmd)
app.command("report")(report_cmd)


@app.command("permissions")
def permissions_cmd(
    role_arn: Annotated[
        list[str] | None,
        typer.Option("--role-arn", help="A role ecsdoctor may assume (repeatable)."),
    ] = None,
) -> None:
    """Print the least-privilege IAM policy ecsdoctor needs (read-only, no secret values).

    Exactly the operations the code can send; sts:AssumeRole only on the roles named with
    --role-arn (default: the ecsdoctor-readonly role that deploy/ creates in each account).
    """
    from ecsdoctor.permissions import policy_document

    _out(json.dumps(policy_document(role_arn or ()), indent=2))


@app.command("checks")
def checks_cmd() -> None:
    """List the live checks and what each one proves."""
    from ecsdoctor.checks import REGISTRY

    for check in sorted(REGISTRY.values(), key=lambda c: c.id):
        _out(f"{check.id:<42} {check.kind:<16} {check.doc.splitlines()[0]}")


@kb_app.command("list")
def kb_list(knowledge: KnowledgeOpt = None) -> None:
    """List the knowledge entries."""
    for entry in _load_knowledge(knowledge).entries:
        _out(f"{entry.id:<45} {entry.severity.value:<8} {entry.title}")


@kb_app.command("show")
def kb_show(entry_id: str, knowledge: KnowledgeOpt = None) -> None:
    """Show one knowledge entry."""
    kb = _load_knowledge(knowledge)
    entry = kb.by_id.get(entry_id)
    if entry is None:
        raise InputError(f"no knowledge entry {scrub(entry_id)!r} (see `ecsdoctor kb list`)")
    lines = [f"{entry.id}: {entry.title}", f"severity: {entry.severity.value}", "", entry.summary]
    lines.append("")
    for index, hypothesis in enumerate(entry.hypotheses, start=1):
        lines.append(f"{index}. {hypothesis.id}: {hypothesis.claim}")
        lines.append(f"   kinds: {', '.join(hypothesis.kinds)}")
        if hypothesis.checks:
            lines.append(f"   checks: {', '.join(hypothesis.checks)}")
        lines.append(f"   fix: {hypothesis.remediation}")
    lines.append("")
    lines.extend(f"docs: {link}" for link in entry.docs)
    _out("\n".join(lines))


@kb_app.command("lint")
def kb_lint(
    directory: Annotated[Path | None, typer.Argument(help="Knowledge directory.")] = None,
    samples: Annotated[
        Path | None, typer.Option("--samples", help="Also check samples in this directory.")
    ] = None,
) -> None:
    """Validate knowledge files: fields, regexes, examples, ranks (and samples)."""
    from ecsdoctor.kb.lint import lint_examples, lint_samples

    kb = _load_knowledge(directory)
    problems = lint_examples(kb)
    if samples is not None:
        if not samples.is_dir():
            raise InputError(f"--samples {samples}: no such directory")
        problems.extend(lint_samples(kb, samples))
    for problem in problems:
        _out(scrub(problem))
    _out(f"{len(kb.entries)} entries, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


@kb_app.command("stats")
def kb_stats(
    knowledge: KnowledgeOpt = None,
    samples: Annotated[
        Path, typer.Option("--samples", help="Sample directory (default: ./sample_events).")
    ] = Path("sample_events"),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, or markdown (docs/coverage.md).")
    ] = "text",
) -> None:
    """Print the coverage table: each documented failure family, its entries, its samples."""
    from ecsdoctor.kb.coverage import (
        coverage_markdown,
        coverage_problems,
        coverage_text,
        load_coverage,
    )
    from ecsdoctor.kb.lint import coverage_rows
    from ecsdoctor.kb.loader import default_knowledge_dir

    if fmt not in ("text", "markdown"):
        raise InputError(f"unknown format {fmt!r}: text or markdown")
    if not samples.is_dir():
        sys.stderr.write(
            f"ecsdoctor: no samples at {samples.resolve()} (run from the source checkout or "
            "pass --samples DIR): every sample count below is 0\n"
        )
    kb = _load_knowledge(knowledge)
    coverage = load_coverage(Path(knowledge) if knowledge else default_knowledge_dir())
    if not coverage.families:
        rows = coverage_rows(kb, samples)
        _out(f"{'entry':<45} {'severity':<8} {'examples':>8} {'samples':>8}")
        for entry_id, severity, examples, count in rows:
            _out(f"{entry_id:<45} {severity:<8} {examples:>8} {count:>8}")
        return
    if fmt == "markdown":
        _out(coverage_markdown(coverage, samples).rstrip("\n"))
        return
    _out(coverage_text(coverage, samples).rstrip("\n"))
    problems = coverage_problems(coverage, kb, samples) if samples.is_dir() else []
    for problem in problems:
        sys.stderr.write(f"coverage: {problem}\n")
    if problems:
        raise typer.Exit(1)


def _arguments(argv: list[str]) -> list[str]:
    """No arguments (or `kb` alone) asks for the help: printed on stdout, exit 0."""
    if not argv:
        return ["--help"]
    if argv == ["kb"]:
        return ["kb", "--help"]
    return argv


def main() -> None:
    """Run the app; every error becomes one line on stderr and an exit code (`console.run`)."""
    argv = _arguments(sys.argv[1:])
    sys.exit(run(lambda: app(args=argv, prog_name="ecsdoctor", standalone_mode=False)))
