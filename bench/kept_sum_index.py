"""What a roll-up chunk of ``sli_bucket`` costs with and without the index on ``kept_sum (lo)``
(layout 8): each chunk deletes the saved window sums its slice spoils
(:func:`agent.store.saved_sums.forget_inside`), a scan of every saved sum without the index.

On a copy of a history store (its times kept: give one that ends about now, such as a store
moved by ``bench.history_shift``, so that a roll-up is due), with the evaluator's seven window
sums saved for every SLI series (70,000 rows at 10,000 SLOs). Blocks of ``--chunks`` chunks
alternate between the file without the index and with it (dropped and created between blocks;
the sums of the pass before written again before each block; neither timed), so that both see
the same load of a shared machine. Prints, per setting, the median CPU milliseconds per chunk of
the roll-up itself, of the delete and of the two, and of a pruning step's delete
(:func:`~agent.store.saved_sums.forget_below`), and what a periodic save's pass over the sums of
the pass before costs (every rolling window's ``lo`` moved: the index is written too): the wall
milliseconds each slice holds the file, and the pass's CPU; then the delete's ratio.

    .venv/bin/python -m bench.kept_sum_index /work/benchdata/h5000-28-now.db --blocks 6 --chunks 20
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TypeVar

from agent.slo.events import Counts
from agent.store import saved_sums, schema, tiers
from agent.store.periodic_saves import SAVE_EVERY, PeriodicSaves
from agent.store.window_sums import FROZEN_AFTER, WindowSums
from bench.sum_saves import WINDOWS

T = TypeVar("T")
ROOM = 1_000  # rows a chunk reads: the store's default prune_batch
SETTINGS = ("without index", "with index")
SAVE_MINUTES = int(SAVE_EVERY // 60)  # from one periodic save to the next


def _cpu(action: Callable[[], T]) -> tuple[T, float]:
    started = time.process_time()
    value = action()
    return value, (time.process_time() - started) * 1000


def _kept(conn: sqlite3.Connection, now_minute: int) -> WindowSums:
    """The evaluator's kept sums of every SLI series of the file, ending ``now_minute``."""
    kept = WindowSums()
    for name in saved_sums.series_ids(conn):
        for label, minutes in WINDOWS.items():
            frozen = (now_minute - minutes, now_minute - FROZEN_AFTER)
            kept.keep(name, label, frozen, Counts(1000, 3))
    return kept


def _pass(conn: sqlite3.Connection, kept: WindowSums) -> tuple[list[float], float]:
    """A periodic save's pass, a slice per transaction as the store runs it: the wall
    milliseconds each slice holds the file, and the pass's CPU milliseconds."""
    saves = PeriodicSaves(0.0)
    walls: list[float] = []
    cpu = time.process_time()
    for _ in range(10_000):  # bounded: 20 slices at 10,000 SLOs
        wall = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        over = saves.step(conn, kept)
        conn.execute("COMMIT")
        walls.append((time.perf_counter() - wall) * 1000)
        if over:
            break
    return walls, (time.process_time() - cpu) * 1000


def _index(conn: sqlite3.Connection, on: bool) -> None:
    if on:
        for statement in saved_sums.KEPT_SUM_INDEX_DDL:
            conn.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    else:
        conn.execute("DROP INDEX IF EXISTS kept_sum_by_lo")


def _chunks(conn: sqlite3.Connection, now_minute: int) -> Iterator[tuple[float, float]]:
    """Roll ``sli_bucket`` chunk by chunk, each in its own transaction as the store does;
    yield the CPU milliseconds of the roll-up and of the delete of each chunk with a slice."""
    for tier in tiers.TIERS:
        while True:
            conn.execute("BEGIN IMMEDIATE")
            chunk = partial(tiers.roll_chunk, conn, tiers.SLI_SHAPE, tier, now_minute, ROOM)
            rolled, roll = _cpu(chunk)
            forget = 0.0
            if rolled.slice is not None:
                _, forget = _cpu(partial(saved_sums.forget_inside, conn, *rolled.slice))
            conn.execute("COMMIT")
            if rolled.slice is not None:
                yield roll, forget
            if rolled.done:
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path, help="a history store (copied, never changed)")
    parser.add_argument("--blocks", type=int, default=6, help="blocks per setting (1-50)")
    parser.add_argument("--chunks", type=int, default=20, help="chunks per block (1-1000)")
    args = parser.parse_args(argv)
    if not 1 <= args.blocks <= 50 or not 1 <= args.chunks <= 1000:
        parser.error("--blocks: 1 to 50; --chunks: 1 to 1000")
    with tempfile.TemporaryDirectory(prefix="bench-kept-sum-index-") as tmp:
        path = Path(tmp) / "store.db"
        shutil.copyfile(args.store, path)
        conn = schema.connect(path, 5.0)  # migrates a copy of an older layout
        try:
            return _measure(conn, args.blocks, args.chunks)
        finally:
            conn.close()


def _measure(conn: sqlite3.Connection, blocks: int, chunks: int) -> int:
    now_minute = int(time.time() // 60)
    earlier = _kept(conn, now_minute - SAVE_MINUTES)  # the previous periodic save's sums
    kept = _kept(conn, now_minute)
    roll: dict[str, list[float]] = {s: [] for s in SETTINGS}
    forget: dict[str, list[float]] = {s: [] for s in SETTINGS}
    below: dict[str, list[float]] = {s: [] for s in SETTINGS}
    slices: dict[str, list[float]] = {s: [] for s in SETTINGS}
    passes: dict[str, list[float]] = {s: [] for s in SETTINGS}
    stream = _chunks(conn, now_minute)
    over = False
    _pass(conn, earlier)  # a first pass, untimed: its first slice alone took ~0.4 s (a cold file)
    for block in range(blocks):
        for setting in SETTINGS if block % 2 == 0 else SETTINGS[::-1]:  # each goes first by turns
            _index(conn, setting == "with index")
            conn.execute("BEGIN IMMEDIATE")
            saved_sums.discard(conn)
            saved_sums.save(conn, list(earlier.own()))
            conn.execute("COMMIT")
            walls, cpu = _pass(conn, kept)  # a pass over them: every rolling window moved
            slices[setting].extend(walls)
            passes[setting].append(cpu)
            for _ in range(chunks):
                step = next(stream, None)
                if step is None:
                    over = True
                    break
                roll[setting].append(step[0])
                forget[setting].append(step[1])
            conn.execute("BEGIN IMMEDIATE")  # a pruning step's delete: the oldest minute's sums
            below[setting].append(
                _cpu(lambda: saved_sums.forget_below(conn, now_minute - 40_320))[1]
            )
            conn.execute("ROLLBACK")
        if over:
            break
    rows = len(list(kept.own()))
    print(f"{rows:,} saved sums; {len(roll[SETTINGS[0]])} + {len(roll[SETTINGS[1]])} chunks")
    for s in SETTINGS:
        if not roll[s]:
            continue
        both = [r + f for r, f in zip(roll[s], forget[s], strict=True)]
        print(
            f"{s}: chunk CPU median {statistics.median(both):.2f} ms (roll-up "
            f"{statistics.median(roll[s]):.2f} ms, delete {statistics.median(forget[s]):.3f} ms);"
            f" pruning step's delete {statistics.median(below[s]):.3f} ms; periodic save:"
            f" slice median {statistics.median(slices[s]):.1f} ms (max {max(slices[s]):.1f}),"
            f" pass {statistics.median(passes[s]):.0f} ms CPU",
            flush=True,
        )
    if all(forget[s] for s in SETTINGS):
        without, with_ = (statistics.median(forget[s]) for s in SETTINGS)
        print(f"delete: {without / max(with_, 1e-6):.0f}x less CPU with the index (shared machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
