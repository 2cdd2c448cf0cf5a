"""Measure knowledge matching: messages per second on one core and peak memory when streaming.

Not collected by pytest (no `test_` prefix): figures belong in docs/performance.md, not in timed
tests. Run from the repository root:

    PYTHONPATH=. python tests/kb/bench_matching.py            # throughput, then memory
    PYTHONPATH=. python tests/kb/bench_matching.py --rss N     # peak RSS streaming N messages

The realistic mix cycles through every real sample message of sample_events/ and the held-out
messages (stopped reasons, service events, wrapped deploy errors, truncated console text), 30%
service events whose task ids differ on every line (so they never repeat), and 10% unrecognised
application log lines that also never repeat.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _real_messages() -> list[str]:
    lines: list[str] = []
    for path in sorted((ROOT / "sample_events").rglob("*.txt")):
        lines += [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    for holdout in sorted((ROOT / "tests" / "kb").glob("holdout*.txt")):
        for line in holdout.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                lines.append(line.split("\t", 1)[1])
    return lines


def mix(count: int) -> Iterator[str]:
    """`count` messages of the realistic mix (60% real messages, 30% fresh events, 10% noise)."""
    real = _real_messages()
    for i in range(count):
        slot = i % 10
        if slot < 6:
            yield real[(i * 7) % len(real)]
        elif slot < 9:
            yield f"(service web-{i % 50}) has started 1 tasks: (task {i:032x})."
        else:
            yield f"worker {i} finished batch {i * 7} in {i % 13} seconds without incident"


def throughput(count: int, cache: bool, ingest: bool = True) -> float:
    """Messages per CPU second (one core, this process): through iter_explanations (`cache`), or
    each message explained anew, with or without ingest's per-message work (redaction)."""
    from ecsdoctor.explain import Explainer, iter_explanations
    from ecsdoctor.ingest import plain_signal
    from ecsdoctor.kb import KnowledgeBase, default_knowledge_dir, load_entries

    kb = KnowledgeBase(load_entries(default_knowledge_dir()))
    messages = list(mix(count))
    start = time.process_time()
    if cache:
        for _ in iter_explanations(messages, kb):
            pass
    elif ingest:
        explainer = Explainer(kb, cache_size=0)
        for message in messages:
            explainer.explain(plain_signal(message))
    else:
        signals = [plain_signal(message) for message in messages]
        start = time.process_time()
        for signal in signals:
            kb.recognize(signal)
    return count / (time.process_time() - start)


def rss_run(count: int) -> None:
    """Stream `count` messages through explain, writing JSON lines to a sink; print peak RSS."""
    from ecsdoctor.explain import explanation_doc, iter_explanations

    sink = io.StringIO()
    for number, explanation in enumerate(iter_explanations(mix(count)), start=1):
        sink.write(json.dumps(explanation_doc(explanation)) + "\n")
        if number % 1000 == 0:
            sink.seek(0)
            sink.truncate()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--rss", type=int, help="stream this many messages and print peak RSS (KiB)"
    )
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--memory", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.rss is not None:
        rss_run(args.rss)
        return
    print(f"realistic mix, {args.count} messages, one core:")
    start = time.process_time()
    sum(range(10**7))
    print(f"calibration: sum(range(10**7)) took {time.process_time() - start:.3f} s of CPU")
    print(
        f"  iter_explanations (stream, line cache) : {throughput(args.count, cache=True):>10,.0f} messages/s"
    )
    anew = throughput(args.count // 4, cache=False)
    matching = throughput(args.count // 4, cache=False, ingest=False)
    print(f"  every message anew (ingest + matching) : {anew:>10,.0f} messages/s")
    print(f"  every message anew, matching alone     : {matching:>10,.0f} messages/s")
    peaks = {}
    for n in (1, args.memory):
        out = subprocess.run(
            [sys.executable, __file__, "--rss", str(n)], capture_output=True, text=True, check=True
        )
        peaks[n] = int(out.stdout.strip()) / 1024
    print(
        f"peak RSS streaming 1 message: {peaks[1]:.1f} MiB; {args.memory:,}: {peaks[args.memory]:.1f} MiB"
    )
    print(f"difference: {peaks[args.memory] - peaks[1]:.1f} MiB")


if __name__ == "__main__":
    main()
