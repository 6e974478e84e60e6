"""Move a copied history store in time so that its history ends now.

:mod:`bench.history_store` writes history ending at a fixed instant, so that runs are
comparable. An agent started on it weeks later would find every bucket older than its
retention: it would spend the run deleting them and rolling empty days, and its windows would
hold no history at all. :func:`shift_to` moves every time in the file by whole hours (so every
rolled bucket stays on its tier's grain) so that the newest bucket lies in the current hour.
Only ever run it on a copy.

    python -m bench.history_shift store-copy.db
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

# (table, column, unit): unit 1 for minute columns, 60 for unix seconds
_COLUMNS = (
    ("sli_bucket", "minute", 1),
    ("probe_bucket", "minute", 1),
    ("probe_reason_bucket", "minute", 1),
    ("latency_bucket", "minute", 1),
    ("journey_step_bucket", "minute", 1),
    ("journey_blame_bucket", "minute", 1),
    ("rollup", "below", 1),
    ("probe_result", "started_at", 60),
    ("journey_blamed_run", "at", 60),
    ("drill_run", "started_at", 60),
    ("failure_run", "started_at", 60),
    ("failure_run", "ended_at", 60),
)
_FAR = 10**8  # minutes: farther than any history, so a first move collides with no row


def shift_to(path: Path, now: float, grain: int = 60) -> int:
    """Move every time in the store at ``path`` by whole hours so that its newest bucket lies
    in the hour of ``now``; return the minutes moved (0 if it is already there). ``grain``:
    move by whole multiples of that many minutes instead (1 for a history of a few hours,
    which holds no rolled-up tier, to end in the minute of ``now``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        newest = conn.execute("SELECT MAX(minute) FROM sli_bucket").fetchone()[0]
        if newest is None:
            return 0
        delta = (int(now // 60) - int(newest)) // grain * grain
        if delta == 0:
            return 0
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'kept_sum'").fetchone():
            conn.execute("DELETE FROM kept_sum")  # saved window sums: the next start sums afresh
        # primary keys hold the minute: go far first, then back, so no row meets another
        for step in (_FAR, delta - _FAR):
            for table, column, unit in _COLUMNS:
                conn.execute(f"UPDATE {table} SET {column} = {column} + ? ", (step * unit,))
        conn.execute("COMMIT")
        return delta
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", type=Path, help="a copy of a history store (changed in place)")
    args = ap.parse_args()
    started = time.perf_counter()
    moved = shift_to(args.store, time.time())
    print(f"{args.store}: moved {moved / 1440:.2f} days in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
