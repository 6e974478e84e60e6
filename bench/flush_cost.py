"""What one store flush costs over a big history: the agent's write path without the agent.

Copies each store (or makes an empty one), then plays the agent's load through the store's
public API: nodes as :func:`bench.history_store.nodes` declares them (one probe every 30-60 s,
two SLOs each: ~110 runs/s at 5,000 nodes), recorded second by second of simulated time that
starts now and crosses minutes as it goes, one ``flush`` per simulated second, then ``upkeep``
for the agent's budget when a pass is due (every 300 simulated seconds), as the agent does.
The seconds are simulated, ``--speed`` (4) of them per wall second, and the work is real; the
store's checkpoint thread, which counts wall seconds, runs ``--speed`` times as often, so it
checkpoints as often per simulated second as it would in the agent.

Prints one JSON line per store and ``--checkpoint-every`` value: the flushes' write time (wall
ms: p50, p90, p99, max, mean; CPU ms mean), the upkeep time per flush tick, the pages (WAL
frames) each flush appended, the most frames the WAL held and its file's largest size, and the
checkpoints: how many ran in the store's checkpoint thread (:mod:`agent.store.checkpoints`) and
their mean wall ms or, with ``--checkpoint-every 0`` (SQLite's automatic checkpoints: the store
before it had that thread), how many ran inside a flush or an upkeep step, seen in SQLite's WAL
index (the ``-shm`` file: ``mxFrame`` and ``nBackfill``) read before and after each call.

    .venv/bin/python -m bench.flush_cost h5000-28-now.db h500-28-now.db empty --checkpoint-every 0,2

Give it stores whose history ends now (``bench.history_shift`` moves a copy), so the flushes
land in their newest minutes as the agent's do.

``--pragma cache_size=-65536`` (repeatable) sets a PRAGMA on the store's connection after it
opens, to try a setting before it becomes the store's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.events import SliEvent, series_key
from agent.store import SqliteStore
from agent.store.checkpoints import CHECKPOINT_EVERY
from bench.history_store import PROBE, nodes

UPKEEP_BUDGET = 0.15  # seconds of upkeep after each flush while a pass is due (the agent's)
UPKEEP_EVERY = 300  # simulated seconds between passes (the agent's prune interval)


class WalIndex:
    """``mxFrame`` (frames in the WAL) and ``nBackfill`` (frames checkpointed) from the WAL
    index of an SQLite database in WAL mode (the ``-shm`` file, native byte order)."""

    def __init__(self, db: Path) -> None:
        self._shm = Path(f"{db}-shm")
        self._wal = Path(f"{db}-wal")

    def read(self) -> tuple[int, int]:
        try:
            with self._shm.open("rb") as f:
                head = f.read(136)
        except FileNotFoundError:
            return 0, 0
        if len(head) < 136:
            return 0, 0
        (mx_frame,) = struct.unpack_from("=I", head, 16)
        (backfill,) = struct.unpack_from("=I", head, 96)
        return mx_frame, backfill

    def wal_bytes(self) -> int:
        try:
            return self._wal.stat().st_size
        except FileNotFoundError:
            return 0


class Watch:
    """Frames appended and checkpoints seen across calls."""

    def __init__(self, index: WalIndex) -> None:
        self.index = index
        self.frames: list[int] = []  # per flush
        self.checkpoints: dict[str, list[float]] = {"flush": [], "upkeep": []}
        self.wal_max = 0  # bytes of the -wal file (it is reused from the start, not shrunk)
        self.frames_max = 0  # the most frames the log held

    def call(self, part: str, work: Callable[[], object]) -> float:
        """Run ``work``; return its wall seconds, noting frames and checkpoints."""
        frame0, fill0 = self.index.read()
        started = time.perf_counter()
        work()
        took = time.perf_counter() - started
        frame1, fill1 = self.index.read()
        restarted = frame1 < frame0
        if part == "flush":
            self.frames.append(frame1 if restarted else frame1 - frame0)
        if fill1 > (0 if restarted else fill0):
            self.checkpoints[part].append(took)
        self.wal_max = max(self.wal_max, self.index.wal_bytes())
        self.frames_max = max(self.frames_max, frame1)
        return took


def schedule(count: int, seed: int) -> list[list[int]]:
    """Per node, ``[phase, interval]``: node ``i`` runs every ``30 + i % 31`` s (as
    :func:`bench.history_store.nodes` declares it) from a random phase."""
    rng = random.Random(seed)
    return [[rng.randrange(30 + i % 31), 30 + i % 31] for i in range(count)]


def results_at(
    second: int, start: float, plan: list[list[int]], names: list[str], rng: random.Random
) -> list[tuple[ProbeResult, list[SliEvent]]]:
    out = []
    for i, (phase, every) in enumerate(plan):
        if (second - phase) % every:
            continue
        ok = rng.random() >= 0.001
        duration = rng.uniform(0.004, 0.06) if ok else 5.0
        observation = Observation(
            Outcome.SUCCESS if ok else Outcome.FAILURE,
            Reason.OK if ok else Reason.TIMEOUT,
            duration,
            200 if ok else None,
        )
        node = names[i]
        result = ProbeResult(node, PROBE, start + second + rng.random(), observation)
        events = [
            SliEvent(series_key(node, "availability"), ok),
            SliEvent(series_key(node, "latency"), ok and duration <= 0.3),
        ]
        out.append((result, events))
    return out


def _upkeep(store: SqliteStore, now: float, over: list[bool]) -> None:
    over.append(store.upkeep(now, UPKEEP_BUDGET))


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def measure(
    source: str,
    count: int,
    seconds: int,
    pragmas: list[str],
    workdir: Path,
    seed: int,
    checkpoint_every: float,
    speed: float,
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-flush-", dir=workdir) as tmp:
        path = Path(tmp) / "store.db"
        if source != "empty":
            shutil.copyfile(source, path)
        start = float(int(time.time()))
        clock = [start]
        plan = schedule(count, seed)
        names = [n.name for n in nodes(count)]
        rng = random.Random(seed)
        with SqliteStore(
            path, clock=lambda: clock[0], checkpoint_every=checkpoint_every / speed
        ) as store:
            conn = store._conn  # the bench's own look at the connection
            assert conn is not None
            for pragma in pragmas:
                conn.execute(f"PRAGMA {pragma}")
            settings = {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("cache_size", "wal_autocheckpoint", "synchronous", "page_size")
            }
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
            watch = Watch(WalIndex(path))
            writes: list[float] = []
            cpu: list[float] = []
            upkeeps: list[float] = []
            due = False
            store.take_work()
            background: list[float] = []
            paced = time.monotonic()
            for second in range(seconds):
                ahead = paced + second / speed - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                clock[0] = start + second + 1
                for result, events in results_at(second, start, plan, names, rng):
                    store.record(result, events)
                if second % UPKEEP_EVERY == UPKEEP_EVERY - 1:
                    due = True
                cpu0 = time.process_time()
                watch.call("flush", store.flush)
                cpu.append(time.process_time() - cpu0)
                work = store.take_work()
                writes.append(work["write"])
                background.append(work["checkpoint"])
                if due:
                    over: list[bool] = []
                    step = partial(_upkeep, store, clock[0], over)
                    upkeeps.append(watch.call("upkeep", step))
                    due = not over[0]
                    background.append(store.take_work()["checkpoint"])
            checkpointer = store._checkpointer
            done = checkpointer.done if checkpointer is not None else 0
            restarts = checkpointer.restarts if checkpointer is not None else 0
            size = path.stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # with a background checkpointer the WAL index changes under the calls: count its own
    checkpoints: dict[str, object] = {"every_s": checkpoint_every}
    if checkpoint_every > 0:
        checkpoints["background"] = done
        checkpoints["restarts"] = restarts
        checkpoints["background_ms_mean"] = round(1000 * sum(background) / max(done, 1), 1)
    else:
        for part, times in watch.checkpoints.items():
            checkpoints[f"in_{part}"] = len(times)
            checkpoints[f"in_{part}_ms_mean"] = round(1000 * statistics.fmean(times or [0]), 1)
    return {
        "store": source,
        "mb": round(size / 2**20),
        "pages": pages,
        "nodes": count,
        "flushes": seconds,
        "settings": settings,
        "write_ms": {
            "p50": _ms(writes, 0.5),
            "p90": _ms(writes, 0.9),
            "p99": _ms(writes, 0.99),
            "max": _ms(writes, 1.0),
            "mean": round(1000 * statistics.fmean(writes), 1),
        },
        "write_cpu_ms_mean": round(1000 * statistics.fmean(cpu), 1),
        "upkeep_ms": {"calls": len(upkeeps), "p99": _ms(upkeeps, 0.99), "max": _ms(upkeeps, 1.0)},
        "frames_per_flush": {
            "mean": round(statistics.fmean(watch.frames), 1),
            "max": max(watch.frames),
        },
        "wal_file_max_mb": round(watch.wal_max / 2**20, 1),
        "wal_frames_max": watch.frames_max,
        "checkpoints": checkpoints,
        "max_rss_mb": round(rss),
    }


def _node_count(source: str, given: int | None) -> int:
    if given is not None:
        return given
    if source == "empty":
        return 5_000
    import sqlite3

    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT count(*) FROM series WHERE kind = 'probe'").fetchone()
    return int(row[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stores", nargs="+", help="store files (copied, never changed) or 'empty'")
    ap.add_argument("--nodes", type=int, help="nodes (default: the store's probes; 5,000 empty)")
    ap.add_argument("--seconds", type=int, default=600, help="simulated seconds (one flush each)")
    ap.add_argument("--pragma", action="append", default=[], help="NAME=VALUE after opening")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="simulated seconds per wall second (the checkpoint thread's period is divided by it)",
    )
    ap.add_argument(
        "--checkpoint-every",
        default=str(CHECKPOINT_EVERY),
        help="seconds between the store's checkpoints, comma-separated to compare (0: SQLite's "
        "automatic checkpoint inside the commit, the store before it had a checkpointer)",
    )
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    everies = [float(x) for x in args.checkpoint_every.split(",")]
    for source in args.stores:
        count = _node_count(source, args.nodes)
        for every in everies:
            row = measure(
                source, count, args.seconds, args.pragma, args.workdir, args.seed, every, args.speed
            )
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
