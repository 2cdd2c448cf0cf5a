"""Benchmark: wall time, AWS requests and peak memory of live diagnosis, per demo scenario.

Run: python benchmarks/diagnose_bench.py [--repeat 3]. Numbers are recorded in docs/performance.md;
they are goals to watch, not asserted by tests (timing tests are flaky on shared machines).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import boto3
from moto import mock_aws

from ecsdoctor.demo import SCENARIOS
from ecsdoctor.demo.account import pin_task_state
from ecsdoctor.diagnose import diagnose_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pin_task_state()
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
