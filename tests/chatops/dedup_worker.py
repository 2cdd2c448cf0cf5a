"""One "Lambda container" for the two-process dedup test: N invocations on a few threads.

Run as `python dedup_worker.py EVENT_FILE COUNT START_AT`; prints the handler's answers as JSON.
The environment configures the handler exactly as Lambda would (ECSDOCTOR_* variables).
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> None:
    from ecsdoctor.chatops import handler

    event = json.loads(Path(sys.argv[1]).read_text())
    count = int(sys.argv[2])
    start_at = float(sys.argv[3])
    handler({"detail-type": "warm-up"})  # cold start (settings, knowledge) before the race
    time.sleep(max(0.0, start_at - time.time()))
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: handler(event), range(count)))
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
