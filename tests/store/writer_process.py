"""A process that records SLI events at a steady pace and flushes periodically.

Usage: ``python writer_process.py DB FLUSH_INTERVAL PACE MAX_SECONDS [CHECKPOINT_EVERY]``.
After each record it prints ``R <recorded so far>``, after each flush ``F <recorded so far>``
(everything recorded is then on disk); line-buffered, so a reader sees each line as soon as it
is written. Event
``i`` (0-based) is bad when ``i % 7 == 0``. Runs until killed, or MAX_SECONDS at most.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.events import SliEvent
from agent.store import SqliteStore
from agent.store.checkpoints import CHECKPOINT_EVERY

SERIES = "shop/availability"
START = 1_700_000_040.0


def main(argv: list[str]) -> int:
    path, interval, pace, max_seconds = argv[1], float(argv[2]), float(argv[3]), float(argv[4])
    every = float(argv[5]) if len(argv) > 5 else CHECKPOINT_EVERY
    # every result kept, to count them
    store = SqliteStore(path, raw_success_every=timedelta(0), checkpoint_every=every)
    recorded = 0
    now = time.monotonic()
    deadline, next_flush = now + max_seconds, now + interval
    while time.monotonic() < deadline:
        good = recorded % 7 != 0
        observation = Observation(
            Outcome.SUCCESS if good else Outcome.FAILURE, Reason.OK if good else Reason.STATUS, 0.01
        )
        result = ProbeResult("shop", "home", START + recorded * 0.5, observation)
        store.record(result, [SliEvent(SERIES, good)])
        recorded += 1
        print(f"R {recorded}", flush=True)
        if time.monotonic() >= next_flush:
            store.flush()
            print(f"F {recorded}", flush=True)
            next_flush = time.monotonic() + interval
        time.sleep(pace)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
