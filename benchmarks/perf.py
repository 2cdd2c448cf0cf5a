"""The performance benchmark: every figure of issue 15 beside a naive baseline measured in the same
run, printed as one table.

    PYTHONPATH=. python benchmarks/perf.py            # full size, a few minutes
    PYTHONPATH=. python benchmarks/perf.py --quick    # seconds: smaller counts, 10/30 services
    PYTHONPATH=. python benchmarks/perf.py --only diagnose,scan --latency 0.2

AWS is moto's ThreadedMotoServer on 127.0.0.1 behind a local proxy that adds a fixed latency to
every request (tests/faults/proxy.py), so the diagnosis' overlapped reads show as wall time.
Rows, each with its baseline and the ratio ecsdoctor / baseline:

- start-up: `ecsdoctor --help` and `explain MSG` against `python -c "import boto3"` (the issue's
  yardstick) and against importing eagerly what every command used to load (boto3, networkx and
  the whole CLI);
- explain: messages per second on one core (the realistic mix of tests/kb/bench_matching.py)
  against trying every pattern of every entry in turn, and peak memory streaming 1 and N messages
  against holding every result in memory;
- diagnose: requests, sequential rounds and wall time of one Fargate task with secrets, logs and a
  load balancer, at 0 ms and at the fixed latency, against the same reader running every read one
  after the other;
- scan: requests for 10, 100 and 500 services against a per-service loop (describe, list and
  describe the stopped tasks of each service, one at a time).

Figures belong in docs/performance.md, not in timed tests (shared machines make them flaky).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T = TypeVar("T")

SECTIONS = ("startup", "explain", "diagnose", "scan")
EXPLAIN_MESSAGE = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1: not found"
)
#: Targets of issue 15 a row is judged against (ratio ecsdoctor / baseline, or an absolute).
TARGETS = {
    "help": 0.5,
    "explain": 0.8,
    "throughput": 20_000.0,
    "memory": 50.0,
    "requests": 40,
    "rounds": 6,
    "wall": 1.3,
    "scan": 2.0,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: what, ecsdoctor's figure, the baseline's, their ratio, verdict."""

    section: str
    what: str
    value: str
    baseline: str
    ratio: str
    target: str = ""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for key in [k for k in env if k.startswith("AWS_ENDPOINT_URL")]:
        del env[key]
    return env


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "-"


# -- start-up ---------------------------------------------------------------------------------


def _time_command(args: Sequence[str], repeat: int) -> float:
    """Median wall seconds of a fresh interpreter running `args` (after one warm-up run)."""
    env = _env()
    subprocess.run(args, env=env, capture_output=True, check=False)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def startup(repeat: int) -> list[Row]:
    """`ecsdoctor --help` / `explain MSG` against importing boto3, and against eager imports."""
    py = sys.executable
    boto3_import = _time_command([py, "-c", "import boto3"], repeat)
    eager = _time_command(
        [py, "-c", "import boto3, networkx, ecsdoctor.cli, ecsdoctor.diagnose, ecsdoctor.scan"],
        repeat,
    )
    help_ = _time_command([py, "-m", "ecsdoctor", "--help"], repeat)
    explain = _time_command([py, "-m", "ecsdoctor", "explain", EXPLAIN_MESSAGE], repeat)
    return [
        Row("start-up", "python -c 'import boto3' (yardstick)", _ms(boto3_import), "", ""),
        Row(
            "start-up",
            "ecsdoctor --help vs import boto3",
            _ms(help_),
            _ms(boto3_import),
            _ratio(help_, boto3_import),
            f"< {TARGETS['help']}x",
        ),
        Row(
            "start-up",
            "ecsdoctor explain MSG vs import boto3",
            _ms(explain),
            _ms(boto3_import),
            _ratio(explain, boto3_import),
            f"< {TARGETS['explain']}x",
        ),
        Row(
            "start-up",
            "ecsdoctor --help vs eager imports (boto3, networkx, CLI)",
            _ms(help_),
            _ms(eager),
            _ratio(help_, eager),
        ),
        Row(
            "start-up",
            "ecsdoctor explain MSG vs eager imports",
            _ms(explain),
            _ms(eager),
            _ratio(explain, eager),
        ),
    ]


# -- explain ----------------------------------------------------------------------------------


def _mix(count: int) -> Iterator[str]:
    from tests.kb.bench_matching import mix

    return mix(count)


def _naive_rate(count: int) -> float:
    """Messages per CPU second trying every pattern of every entry in turn (no prefilter)."""
    from ecsdoctor.kb import default_knowledge_dir, load_entries

    entries = sorted(load_entries(default_knowledge_dir()), key=lambda e: -e.priority)
    patterns = [(e, p.regex) for e in entries for p in e.patterns]
    messages = list(_mix(count))
    start = time.process_time()
    for message in messages:
        best = None
        for entry, regex in patterns:
            if regex.search(message) and (best is None or entry.priority > best.priority):
                best = entry
    return count / (time.process_time() - start)


def _stream_rate(count: int) -> float:
    """Messages per CPU second through the stream `explain -` uses."""
    from ecsdoctor.explain import explanation_doc, iter_explanations

    messages = list(_mix(count))
    start = time.process_time()
    for explanation in iter_explanations(messages):
        json.dumps(explanation_doc(explanation))
    return count / (time.process_time() - start)


def _rss_child(count: int, keep: bool) -> None:
    """(child process) Explain `count` messages, streaming or keeping every result; print peak
    RSS in KiB."""
    from ecsdoctor.explain import explanation_doc, iter_explanations

    kept: list[dict[str, object]] = []
    for explanation in iter_explanations(_mix(count)):
        doc = explanation_doc(explanation)
        if keep:
            kept.append(doc)  # what explain did before it streamed: every result, then print
        else:
            json.dumps(doc)
    if keep:
        json.dumps(kept)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _peak_mib(count: int, keep: bool) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(count), *(["--keep"] if keep else [])],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def explain(count: int, memory: int, kept: int) -> list[Row]:
    """Throughput against every pattern in turn; memory streaming against keeping results."""
    _stream_rate(200)  # load the knowledge base and warm the caches outside the timing
    rate = _stream_rate(count)
    naive = _naive_rate(max(200, count // 20))
    one = _peak_mib(1, keep=False)
    many = _peak_mib(memory, keep=False)
    same = _peak_mib(kept, keep=False)
    hoard = _peak_mib(kept, keep=True)
    return [
        Row(
            "explain",
            f"messages/s, one core ({count:,} mixed) vs every pattern in turn",
            f"{rate:,.0f}",
            f"{naive:,.0f}",
            _ratio(rate, naive),
            f">= {TARGETS['throughput']:,.0f}/s",
        ),
        Row(
            "explain",
            f"peak RSS streaming 1 vs {memory:,} messages",
            f"{many:.1f} MiB",
            f"{one:.1f} MiB",
            f"+{many - one:.1f} MiB",
            f"+< {TARGETS['memory']:.0f} MB",
        ),
        Row(
            "explain",
            f"peak RSS, {kept:,} messages: streamed vs every result kept",
            f"{same:.1f} MiB",
            f"{hoard:.1f} MiB",
            _ratio(same, hoard),
        ),
    ]


# -- AWS in moto, behind the latency proxy ----------------------------------------------------


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's ThreadedMotoServer on 127.0.0.1 (an ephemeral port), stopped on the way out."""
    from moto.server import ThreadedMotoServer

    from ecsdoctor.demo.account import pin_task_state

    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_PROFILE", None)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    pin_task_state()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _reset(server: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{server}/moto-api/reset", method="POST"))


def _session(endpoint: str) -> Any:
    """A boto3 session whose clients talk to `endpoint` (building scenarios, counting loops)."""
    import boto3

    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return boto3.session.Session(region_name="us-east-1")


def _reader(endpoint: str, sequential: bool = False) -> Any:
    """ecsdoctor's live reader on `endpoint`; `sequential`: every `parallel` runs one by one."""
    import boto3

    from ecsdoctor.aws.reader import AwsReader
    from ecsdoctor.errors import ReadError

    class SequentialReader(AwsReader):
        """The naive reader: the same memo, but no read overlaps another."""

        def parallel(self, thunks: Sequence[Callable[[], T]]) -> list[T | ReadError]:
            out: list[T | ReadError] = []
            for thunk in thunks:
                try:
                    out.append(thunk())
                except ReadError as err:
                    out.append(err)
            return out

    kind = SequentialReader if sequential else AwsReader
    session = boto3.session.Session(region_name="us-east-1")
    return kind(session, region="us-east-1", endpoint_url=endpoint, deadline=None)


def target_task(server: str) -> tuple[str, str]:
    """Build the target account: a Fargate service behind a load balancer whose tasks read an SSM
    parameter and a Secrets Manager secret and log with awslogs; one of its stopped tasks."""
    from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS

    _reset(server)
    session = _session(server)
    try:
        scenario = SERVICE_SCENARIOS["service-targets-blocked"].build(session)
        ecs = session.client("ecs")
        arns = ecs.list_tasks(
            cluster=scenario.cluster, serviceName=scenario.service, desiredStatus="STOPPED"
        )["taskArns"]
    finally:
        del os.environ["AWS_ENDPOINT_URL"]
    return arns[0], scenario.cluster


@dataclass(frozen=True, slots=True)
class Run:
    """One diagnosis: requests sent, sequential rounds, wall seconds."""

    requests: int
    rounds: int
    seconds: float


def diagnose_once(endpoint: str, task: str, cluster: str, sequential: bool) -> Run:
    """Diagnose `task` through `endpoint` with a fresh reader (nothing memoised)."""
    from ecsdoctor.aws.rounds import rounds_of
    from ecsdoctor.diagnose import diagnose_task, load_knowledge

    load_knowledge()
    reader = _reader(endpoint, sequential)
    try:
        start = time.perf_counter()
        diagnosis = diagnose_task(task, cluster=cluster, reader=reader)
        seconds = time.perf_counter() - start
    finally:
        reader.close()
    return Run(diagnosis.api_calls, rounds_of(reader) or 0, seconds)


def _best(runs: Sequence[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def diagnose(server: str, latency: float, repeat: int) -> list[Row]:
    """The target task at 0 ms and at `latency` per request, overlapped and sequential."""
    from tests.faults.proxy import Fault, FaultProxy, Replace

    task, cluster = target_task(server)
    runs: dict[tuple[bool, float], Run] = {}
    # moto lacks CloudTrail (a 500, retried with back-off): answer as an account without
    # recent changes does, so every run asks what it would ask of AWS.
    quiet = [Fault(Replace(b'{"Events": []}'), targets=("cloudtrail:LookupEvents",))]
    with FaultProxy(server) as proxy:
        for delay in (0.0, latency):
            proxy.set_faults(quiet, latency=delay)
            for sequential in (False, True):
                diagnose_once(proxy.url, task, cluster, sequential)  # warm clients and models
                runs[(sequential, delay)] = _best(
                    [diagnose_once(proxy.url, task, cluster, sequential) for _ in range(repeat)]
                )
    fast, slow = runs[(False, 0.0)], runs[(False, latency)]
    naive_fast, naive_slow = runs[(True, 0.0)], runs[(True, latency)]
    bound = TARGETS["wall"] * fast.rounds * latency + fast.seconds
    ms = latency * 1000
    return [
        Row(
            "diagnose",
            "requests (Fargate task: secrets, logs, load balancer) vs sequential reads",
            str(slow.requests),
            str(naive_slow.requests),
            _ratio(slow.requests, naive_slow.requests),
            f"<= {TARGETS['requests']}",
        ),
        Row(
            "diagnose",
            "sequential rounds vs sequential reads",
            str(slow.rounds),
            str(naive_slow.rounds),
            _ratio(slow.rounds, naive_slow.rounds),
            f"<= {TARGETS['rounds']}",
        ),
        Row(
            "diagnose",
            "wall at 0 ms per request vs sequential reads",
            f"{fast.seconds * 1000:.0f} ms",
            f"{naive_fast.seconds * 1000:.0f} ms",
            _ratio(fast.seconds, naive_fast.seconds),
        ),
        Row(
            "diagnose",
            f"wall at {ms:.0f} ms per request vs sequential reads",
            f"{slow.seconds * 1000:.0f} ms",
            f"{naive_slow.seconds * 1000:.0f} ms",
            _ratio(slow.seconds, naive_slow.seconds),
            f"<= {bound * 1000:.0f} ms (1.3 x rounds x {ms:.0f} ms + 0 ms run)",
        ),
    ]


# -- scan -------------------------------------------------------------------------------------


def _mix_for(services: int) -> Any:
    """The benchmark cluster of tests/services scaled: 64% healthy, 24% sharing one cause
    (a missing log group), 6% each with a wrong health-check port or a repository typo."""
    from ecsdoctor.demo.service_scenarios import ClusterMix

    unreachable = max(1, services * 12 // 50)
    wrong_port = max(1, services * 3 // 50)
    typo = max(1, services * 3 // 50)
    return ClusterMix(
        healthy=services - unreachable - wrong_port - typo,
        unreachable=unreachable,
        wrong_port=wrong_port,
        typo=typo,
        stopped_per_service=2,
    )


def _naive_scan_requests(session: Any, cluster: str) -> int:
    """Requests of a per-service loop: each service described, its stopped tasks listed and
    described, one service at a time (what a script around the AWS CLI does)."""
    ecs = session.client("ecs", region_name="us-east-1")
    count = 0

    def counted(**_: Any) -> None:
        nonlocal count
        count += 1

    ecs.meta.events.register("before-send", counted)
    names: list[str] = []
    for page in ecs.get_paginator("list_services").paginate(cluster=cluster):
        names += page["serviceArns"]
    for name in names:
        ecs.describe_services(cluster=cluster, services=[name])
        tasks = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")
        if tasks["taskArns"]:
            ecs.describe_tasks(cluster=cluster, tasks=tasks["taskArns"][:100])
    return count


def scan(server: str, sizes: Sequence[int]) -> list[Row]:
    """Requests of `ecsdoctor scan` for each cluster size, against the per-service loop."""
    from ecsdoctor.demo.service_scenarios import build_cluster
    from ecsdoctor.scan import scan_cluster

    rows: list[Row] = []
    first: int | None = None
    for services in sizes:
        _reset(server)
        session = _session(server)
        try:
            build_cluster(session, _mix_for(services))
            naive = _naive_scan_requests(session, "prod")
        finally:
            del os.environ["AWS_ENDPOINT_URL"]
        reader = _reader(server)
        start = time.perf_counter()
        try:
            scan_cluster("prod", reader=reader)
        finally:
            reader.close()
        seconds = time.perf_counter() - start
        calls = reader.api_calls
        first = first if first is not None else calls
        growth = f"{calls / first:.2f}x of {sizes[0]}" if services != sizes[0] else ""
        rows.append(
            Row(
                "scan",
                f"requests, {services} services ({seconds:.1f} s) vs per-service loop"
                + (f"; {growth}" if growth else ""),
                str(calls),
                str(naive),
                _ratio(calls, naive),
                f"10x services <= {TARGETS['scan']}x requests" if growth else "",
            )
        )
    return rows


# -- the table --------------------------------------------------------------------------------


def machine() -> str:
    """Where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} CPU {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average {load:.1f}"
    )


def render(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table (readable in a terminal, pasteable into docs)."""
    head = ("section", "measure", "ecsdoctor", "naive baseline", "ratio", "target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines.extend(
        "| " + " | ".join((r.section, r.what, r.value, r.baseline, r.ratio, r.target)) + " |"
        for r in rows
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: seconds, not minutes")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added per request")
    parser.add_argument("--repeat", type=int, help="runs per timed figure (best or median)")
    parser.add_argument("--json", action="store_true", help="the rows as JSON, not a table")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child is not None:
        _rss_child(args.rss_child, args.keep)
        return 0
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)
    rows: list[Row] = []
    started = time.perf_counter()

    def add(section: list[Row]) -> None:
        """Keep the rows, and print them at once: a long run shows its figures as it goes."""
        if not args.json:
            for line in render(section).splitlines()[2:]:
                print(line, flush=True)
        rows.extend(section)

    if not args.json:
        print(f"ecsdoctor benchmark ({'quick' if quick else 'full'}), {machine()}")
        print("\n".join(render([]).splitlines()[:2]), flush=True)
    if "startup" in chosen:
        add(startup(repeat if quick else 5))
    if "explain" in chosen:
        add(explain(2_000, 5_000, 1_000) if quick else explain(100_000, 1_000_000, 20_000))
    if {"diagnose", "scan"} & set(chosen):
        with moto_server() as server:
            if "diagnose" in chosen:
                add(diagnose(server, args.latency, repeat))
            if "scan" in chosen:
                add(scan(server, (10, 30) if quick else (10, 100, 500)))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
