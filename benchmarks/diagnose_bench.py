"""Benchmark: wall time, AWS requests and peak memory of live diagnosis, per demo scenario.

The issue-15 table (start-up, explain, diagnose rounds at a fixed latency, scans, each beside a
naive baseline) is `benchmarks/perf.py`; this script keeps the per-scenario detail.

Run: python benchmarks/diagnose_bench.py [--repeat 3] [--services]. `--services` measures the
service scenarios and cluster scans (10 and 50 services, few and many stopped tasks; then 10, 100
and 500 services of fleets sharing their resources, tests/services/cluster_scale.py, with the
requests of each operation). Numbers are recorded in docs/performance.md;
they are goals to watch, not asserted by tests (timing tests are flaky on shared machines).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.services.cluster_scale

from ecsdoctor.aws.rate import DEFAULT_BURST, DEFAULT_MAX_RPS
from ecsdoctor.aws.session import AwsAccess, open_reader
from ecsdoctor.demo import SCENARIOS
from ecsdoctor.demo.account import pin_task_state
from ecsdoctor.demo.service_scenarios import SERVICE_SCENARIOS, ClusterMix, build_cluster
from ecsdoctor.diagnose import diagnose_task
from ecsdoctor.scan import diagnose_service, scan_cluster
from tests.services.cluster_scale import build_scaled_cluster


def _measure(run: object) -> tuple[float, int, float]:
    """(ms, requests, peak MiB) of one diagnosis."""
    tracemalloc.start()
    start = time.perf_counter()
    diagnosis = run()  # type: ignore[operator]
    elapsed = (time.perf_counter() - start) * 1000
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, diagnosis.api_calls, peak


def _free(session: boto3.session.Session) -> Any:
    """A live reader without the rate cap: the benchmark counts requests, pacing is computed."""
    return open_reader(AwsAccess(session=session, max_rps=0))


def services(repeat: int) -> None:
    """Service diagnoses and cluster scans."""
    print(f"{'service scenario':<32} {'median ms':>9} {'requests':>8} {'peak MiB':>8}")
    for name, spec in SERVICE_SCENARIOS.items():
        runs = []
        for _ in range(repeat):
            with mock_aws():
                session = boto3.session.Session(region_name="us-east-1")
                spec.build(session)
                runs.append(
                    _measure(lambda s=session: diagnose_service("web", cluster="prod", session=s))
                )
        ms = statistics.median(r[0] for r in runs)
        print(f"{name:<32} {ms:>9.0f} {runs[-1][1]:>8} {max(r[2] for r in runs):>8.1f}")
    print()
    print(f"{'cluster scan':<32} {'tasks':>6} {'ms':>7} {'requests':>8} {'peak MiB':>8}")
    for label, mix in (
        (
            "10 services, 2 tasks each",
            ClusterMix(healthy=6, unreachable=2, wrong_port=1, typo=1, stopped_per_service=2),
        ),
        ("50 services, 2 tasks each", ClusterMix(stopped_per_service=2)),
        ("50 services, 6 tasks each", ClusterMix(stopped_per_service=6)),
        ("50 services, 12 tasks each", ClusterMix(stopped_per_service=12)),
    ):
        with mock_aws():
            session = boto3.session.Session(region_name="us-east-1")
            build_cluster(session, mix)
            ms, calls, peak = _measure(lambda s=session: scan_cluster("prod", reader=_free(s)))
            diagnosis = scan_cluster("prod", reader=_free(session))
            tasks = sum(x.failed_tasks for x in diagnosis.services)
        print(f"{label:<32} {tasks:>6} {ms:>7.0f} {calls:>8} {peak:>8.1f}")
    scaled()


def scaled(sizes: tuple[int, ...] = (10, 100, 500)) -> None:
    """Scans of fleets sharing resources: requests by size, uncapped, and the default pacing."""
    print()
    print(f"{'services':>8} {'failing':>7} {'requests':>8} {'ms':>7} {'paced s':>7}  largest reads")
    for size in sizes:
        with mock_aws():
            names = build_scaled_cluster(boto3.session.Session(region_name="us-east-1"), size)
            session = boto3.session.Session(region_name="us-east-1")
            ops: Counter[str] = Counter()

            def count(event_name: str, ops: Counter[str] = ops, **_: Any) -> None:
                ops[event_name.split(".", 2)[2]] += 1

            session.events.register("before-send", count)
            start = time.perf_counter()
            diagnosis = scan_cluster("prod", reader=_free(session))
            ms = (time.perf_counter() - start) * 1000
        failing = size - len(names["healthy"])
        # What the default cap (ecsdoctor/aws/rate.py) adds on real AWS: the burst goes at once.
        paced = max(0.0, (diagnosis.api_calls - DEFAULT_BURST) / DEFAULT_MAX_RPS)
        top = ", ".join(f"{op} {n}" for op, n in ops.most_common(3))
        print(f"{size:>8} {failing:>7} {diagnosis.api_calls:>8} {ms:>7.0f} {paced:>7.1f}  {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--services", action="store_true", help="services and cluster scans")
    args = parser.parse_args()
    pin_task_state()
    if args.services:
        services(args.repeat)
        return
    print(f"{'scenario':<30} {'median ms':>9} {'requests':>8} {'peak MiB':>8}")
    totals: list[float] = []
    for name, spec in SCENARIOS.items():
        times: list[float] = []
        calls = 0
        peak = 0
        for _ in range(args.repeat):
            with mock_aws():
                session = boto3.session.Session(region_name="us-east-1")
                scenario = spec.build(session)
                tracemalloc.start()
                start = time.perf_counter()
                diagnosis = diagnose_task(
                    scenario.task_arn, cluster=scenario.cluster, session=session
                )
                times.append((time.perf_counter() - start) * 1000)
                peak = max(peak, tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                calls = diagnosis.api_calls
        median = statistics.median(times)
        totals.append(median)
        print(f"{name:<30} {median:>9.0f} {calls:>8} {peak / 2**20:>8.1f}")
    print(f"{'median over scenarios':<30} {statistics.median(totals):>9.0f}")


if __name__ == "__main__":
    main()
