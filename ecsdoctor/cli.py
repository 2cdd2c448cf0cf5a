"""The `ecsdoctor` command: parse arguments, call the library, render, pick the exit code.

Exit codes (DESIGN.md): 0 a root cause was confirmed (explain: every message matched); 1 ran and
confirmed nothing (explain: a message matched nothing); 2 bad input or usage; 3 AWS could not be
used; 4 an internal error (a bug: please report it). Errors are one line on stderr, never a
traceback (set ECSDOCTOR_DEBUG=1 to see one).
"""

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from ecsdoctor.diagnose import diagnose_events, diagnose_task, load_knowledge
from ecsdoctor.errors import EcsDoctorError, InputError
from ecsdoctor.explain import Explanation, explain_signals
from ecsdoctor.ingest import iter_messages, parse_lines, read_source
from ecsdoctor.kb import KnowledgeBase
from ecsdoctor.kb.lint import coverage_rows, lint_examples, lint_samples
from ecsdoctor.redaction import printable
from ecsdoctor.report import Format, render
from ecsdoctor.scan import diagnose_service, scan_cluster

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Find why an Amazon ECS task will not start or a service keeps failing, with proof.",
)
kb_app = typer.Typer(no_args_is_help=True, help="Inspect and validate the knowledge base.")
app.add_typer(kb_app, name="kb")

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


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command("explain")
def explain_cmd(
    messages: Annotated[
        list[str] | None, typer.Argument(help="Messages; none or '-': stdin.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array, one object each.")
    ] = False,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Explain failure messages offline: which failure family, what to check, how to fix."""
    kb = load_knowledge(knowledge)
    if not messages or messages == ["-"]:
        text = read_source("-")
        signals = list(parse_lines(text.splitlines(), "standard input").signals)
    else:
        signals = list(iter_messages(messages))
    explanations = explain_signals(signals, kb)
    if as_json:
        _out(json.dumps([_explanation_doc(e) for e in explanations], indent=2, ensure_ascii=False))
    else:
        _out("\n".join(_explanation_text(e, kb) for e in explanations))
    raise typer.Exit(0 if all(e.entry for e in explanations) else 1)


def _explanation_doc(e: Explanation) -> dict[str, object]:
    return {
        "message": e.message,
        "entry": e.entry,
        "title": e.title,
        "severity": e.severity,
        "captures": e.captures,
        "kinds": list(e.kinds),
        "hypotheses": [{"id": h, "claim": c, "kinds": list(k)} for h, c, k in e.hypotheses],
        "closest": list(e.closest),
    }


def _explanation_text(e: Explanation, kb: object) -> str:
    lines = [f"message: {printable(e.message)}"]
    if e.entry is None:
        lines.append("  not recognised by the knowledge base.")
        if e.closest:
            lines.append(f"  closest families: {', '.join(e.closest)}")
        lines.append(
            "  to teach it: add a knowledge entry (docs/knowledge.md), then `ecsdoctor kb lint`"
        )
        return "\n".join(lines) + "\n"
    lines.append(f"  {e.entry} [{e.severity}]: {e.title}")
    for name, value in e.captures.items():
        lines.append(f"  {name}: {printable(value)}")
    if e.hypotheses:
        lines.append("  likely causes, most likely first:")
        for number, (_, claim, kinds) in enumerate(e.hypotheses, start=1):
            lines.append(f"    {number}. {claim} (check: {', '.join(kinds)})")
    return "\n".join(lines) + "\n"


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
        str | None, typer.Option("--events", help="Saved JSON or text file; '-' for stdin.")
    ] = None,
    fmt: FormatOpt = Format.TEXT,
    as_json: JsonOpt = False,
    offline: Annotated[bool, typer.Option("--offline", help="Make no AWS call.")] = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    role_arn: RoleOpt = None,
    knowledge: KnowledgeOpt = None,
) -> None:
    """Diagnose a stopped task, a service or saved events; name the root cause with its evidence."""
    kb = load_knowledge(knowledge)
    access = _access(region, profile, endpoint_url, role_arn, kb)
    if sum(x is not None for x in (task, service, events)) != 1:
        raise InputError("give exactly one of --task ARN, --service NAME or --events FILE")
    if service is not None:
        if offline:
            raise InputError("--service needs AWS; drop --offline or use --events")
        with _progress("reading the service, its events and stopped tasks"):
            diagnosis = diagnose_service(service, cluster=cluster, **access)
    elif events is not None:
        if not offline:
            raise InputError("saved events are diagnosed offline: add --offline")
        diagnosis = diagnose_events(events, kb)
    else:
        if offline:
            raise InputError("--task needs AWS; drop --offline or use --events")
        assert task is not None
        with _progress("reading the task and its dependencies"):
            diagnosis = diagnose_task(task, cluster=cluster, **access)
    _out(render(Format.JSON if as_json else fmt, diagnosis))
    raise typer.Exit(0 if diagnosis.root_causes else 1)


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
) -> None:
    """Every service of a cluster: which are unhealthy, and their root causes, grouped."""
    if (cluster is None) == (not all_clusters):
        raise InputError("give exactly one of --cluster NAME or --all-clusters")
    kb = load_knowledge(knowledge)
    with _progress("scanning the services"):
        diagnosis = scan_cluster(
            cluster,
            all_clusters=all_clusters,
            **_access(region, profile, endpoint_url, role_arn, kb),
        )
    _out(render(Format.JSON if as_json else fmt, diagnosis))
    raise typer.Exit(0 if diagnosis.root_causes else 1)


def _access(
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    role_arn: str | None,
    kb: KnowledgeBase,
) -> dict[str, Any]:
    """The keyword arguments every live entry point takes: how to reach AWS, which knowledge."""
    return {
        "region": region,
        "profile": profile,
        "endpoint_url": endpoint_url,
        "role_arn": role_arn,
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
    try:
        from ecsdoctor.demo import DEFAULT_SCENARIO
        from ecsdoctor.demo.run import run_scenario, scenario_titles
    except ImportError as err:
        raise InputError("the demo needs the 'demo' extra: pip install 'ecsdoctor[demo]'") from err
    titles = scenario_titles()
    if list_only:
        for spec_name, title in titles.items():
            mark = " (default)" if spec_name == DEFAULT_SCENARIO else ""
            _out(f"{spec_name:<30} {title}{mark}")
        raise typer.Exit(0)
    name = scenario or DEFAULT_SCENARIO
    if name not in titles:
        raise InputError(f"no demo scenario {name!r} (see `ecsdoctor demo --list`)")
    with _progress(f"building the emulated account '{name}'"):
        title, diagnosis = run_scenario(name)
    if not as_json and fmt is Format.TEXT:
        sys.stderr.write(f"demo: {title} (emulated account, moto)\n")
    _out(render(Format.JSON if as_json else fmt, diagnosis))
    raise typer.Exit(0 if diagnosis.root_causes else 1)


@app.command("permissions")
def permissions_cmd() -> None:
    """Print the least-privilege IAM policy ecsdoctor needs (read-only, no secret values)."""
    from ecsdoctor.aws.operations import policy_document

    _out(json.dumps(policy_document(), indent=2))


@app.command("checks")
def checks_cmd() -> None:
    """List the live checks and what each one proves."""
    from ecsdoctor.checks import REGISTRY

    for check in sorted(REGISTRY.values(), key=lambda c: c.id):
        _out(f"{check.id:<42} {check.kind:<16} {check.doc.splitlines()[0]}")


@kb_app.command("list")
def kb_list(knowledge: KnowledgeOpt = None) -> None:
    """List the knowledge entries."""
    for entry in load_knowledge(knowledge).entries:
        _out(f"{entry.id:<45} {entry.severity.value:<8} {entry.title}")


@kb_app.command("show")
def kb_show(entry_id: str, knowledge: KnowledgeOpt = None) -> None:
    """Show one knowledge entry."""
    kb = load_knowledge(knowledge)
    entry = kb.by_id.get(entry_id)
    if entry is None:
        raise InputError(f"no knowledge entry {entry_id!r} (see `ecsdoctor kb list`)")
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
    kb = load_knowledge(directory)
    problems = lint_examples(kb)
    if samples is not None:
        problems.extend(lint_samples(kb, samples))
    for problem in problems:
        _out(printable(problem))
    _out(f"{len(kb.entries)} entries, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


@kb_app.command("stats")
def kb_stats(
    knowledge: KnowledgeOpt = None,
    samples: Annotated[Path, typer.Option("--samples")] = Path("sample_events"),
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
    from ecsdoctor.kb.loader import default_knowledge_dir

    if fmt not in ("text", "markdown"):
        raise InputError(f"unknown format {fmt!r}: text or markdown")
    kb = load_knowledge(knowledge)
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


def main() -> None:
    """Console entry point: run the app and turn every error into one line and an exit code."""
    try:
        code = app(standalone_mode=False)
    except EcsDoctorError as err:
        sys.stderr.write(f"ecsdoctor: {printable(str(err))}\n")
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("ecsdoctor: aborted\n")
        sys.exit(130)
    except click.ClickException as err:
        sys.stderr.write(f"ecsdoctor: {printable(err.format_message())}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("ecsdoctor: interrupted\n")
        sys.exit(130)
    except Exception as err:
        # typer may vendor its own click: recognise its usage errors by their class hierarchy.
        names = {cls.__name__ for cls in type(err).__mro__}
        if "ClickException" in names and hasattr(err, "format_message"):
            sys.stderr.write(f"ecsdoctor: {printable(str(err.format_message()))}\n")
            sys.exit(2)
        if "Abort" in names:
            sys.stderr.write("ecsdoctor: aborted\n")
            sys.exit(130)
        if os.environ.get("ECSDOCTOR_DEBUG"):
            raise
        sys.stderr.write(
            f"ecsdoctor: internal error ({type(err).__name__}: {printable(str(err))[:300]}); "
            "set ECSDOCTOR_DEBUG=1 for details\n"
        )
        sys.exit(4)
    sys.exit(code if isinstance(code, int) else 0)
