"""A store flush beside the advisor's replay and the evaluations: how long it waits for the
connection and how long it writes.

The case where the agent's flushes were late: the first start after an upgrade at 10,000 SLOs,
when the advisor replays its reviews of the stored history in a thread (paced at half, as the
agent paces it) while evaluations run in steps in another, both reading window sums under the
store's connection lock. Here both run for real on a copy of a history store moved to end now,
with the agent's own code (``Advisor.review``, ``evaluate_in_steps``), while the main thread
records the results of the generated nodes' probe runs (~110 a second at 5,000 nodes) and
flushes once a second, as the agent does, for ``--seconds``.

Prints the flush's wall time (p50, p90, p99, max, mean, ms), its lag as the agent measures it
(``flush_lag_ms``: the start of the flush before to the end of this one; 1,000 when on time,
the bench sleeping to each whole second), the p99 and max of the store's own
parts of a flush (``wait`` for the connection, ``write``) and, with ``--holds``, how often each
reader held the connection for over 50 ms (the bench wraps the store's lock to see it), then a
JSON line. To compare with another checkout (e.g. a ``git worktree`` of the code before), run
this file with that checkout first on the path:

    .venv/bin/python -m bench.flush_beside_replay --store /path/h5000-7.db --seconds 120
    .venv/bin/python -m bench.flush_beside_replay --store ... --write-switch-interval 0.005,0.0005
    PYTHONPATH=/path/other-checkout .venv/bin/python bench/flush_beside_replay.py --store ...

``--replay-in thread,process`` runs the same measure in turn (each on a fresh copy) with the
replay's past steps in the agent's thread (paced, the agent before
agent/runtime/replay_process.py) and in a child process (niced, the agent's way now), and adds
each run's replay time (``replay_s``: seconds to the state, or ``null`` if it was still
replaying at the end) and the CPU seconds of this process and of the child:

    .venv/bin/python -m bench.flush_beside_replay --store ... --replay-in thread,process
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import ClassVar

from agent.model import SpecSet
from agent.runtime.advice import Advisor, ReplayStopped, rest_unless
from agent.runtime.evaluator import evaluate_in_steps
from agent.runtime.replay_process import ReplayProcess
from agent.spec.defaults import default_alert_windows
from agent.store import sqlite as sqlite_store
from agent.store import switching
from agent.store.turns import TurnLock
from bench import history_store
from bench.flush_cost import _ms, results_at, schedule
from bench.history_shift import shift_to

EVALUATE_EVERY = 10.0  # seconds, as the agent
LONG_HOLD = 0.05  # seconds: holds of the connection counted by --holds


class _TimedLock(TurnLock):
    """The store's lock, noting holds over :data:`LONG_HOLD` by the agent functions that took
    it (the bench's own look; the agent has no such counter)."""

    holds: ClassVar[collections.Counter[str]] = collections.Counter()
    longest: ClassVar[dict[str, float]] = {}

    def acquire(self) -> None:
        super().acquire()
        self._taken = time.monotonic()

    def release(self) -> None:
        took = time.monotonic() - self._taken
        if took > LONG_HOLD:
            frames = traceback.extract_stack()[:-1]
            where = " > ".join([f.name for f in frames if "/agent/" in f.filename][-4:])
            self.holds[where] += 1
            self.longest[where] = max(self.longest.get(where, 0.0), took)
        super().release()


REPLAY_IN = ("thread", "process")  # where the replay's past steps run (--replay-in)
CHILD = [sys.executable, "-m", "agent.cli.replay_worker", "--log-level=warning"]


def _replay(
    advisor: Advisor, specs: SpecSet, store: object, stop: threading.Event, took: list[float]
) -> None:
    snapshot = asyncio.run(evaluate_in_steps(specs, store, time.time()))  # type: ignore[arg-type]
    began = time.monotonic()
    with contextlib.suppress(ReplayStopped):
        advisor.review(specs, snapshot, stop.is_set, rest_unless(stop.is_set))
        took.append(time.monotonic() - began)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _evaluations(specs: SpecSet, store: object, stop: threading.Event) -> None:
    async def run() -> None:
        previous = None
        while not stop.is_set():
            began = time.monotonic()
            previous = await evaluate_in_steps(
                specs,
                store,  # type: ignore[arg-type]
                time.time(),
                previous=previous,
            )
            await asyncio.sleep(max(0.0, EVALUATE_EVERY - (time.monotonic() - began)))

    asyncio.run(run())


def measure(
    store_file: Path,
    count: int,
    seconds: int,
    holds: bool,
    switch: float | None = None,
    replay_in: str = "thread",
) -> dict[str, object]:
    if switch is not None:  # the flush's switch interval (agent/store/switching.py)
        switching.WRITE_SWITCH_INTERVAL = switch
    specs = SpecSet(
        nodes=history_store.nodes(count), alert_windows={"default": default_alert_windows()}
    )
    if holds:
        sqlite_store.TurnLock = _TimedLock  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="bench-flush-replay-") as tmp:
        path = Path(tmp) / "store.db"
        shutil.copyfile(store_file, path)
        shift_to(path, time.time())
        stop = threading.Event()
        replayed: list[float] = []
        cpu = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        with sqlite_store.SqliteStore(path) as store:
            past = ReplayProcess(CHILD, path) if replay_in == "process" else None
            advisor = Advisor(store, clock=time.time, past=past)
            threads = [
                threading.Thread(target=_replay, args=(advisor, specs, store, stop, replayed)),
                threading.Thread(target=_evaluations, args=(specs, store, stop)),
            ]
            for thread in threads:
                thread.start()
            plan, names = schedule(count, 1), [n.name for n in specs.nodes]
            rng, start = random.Random(1), time.time()
            flushes: list[float] = []
            lags: list[float] = []  # the agent's flush lag: previous flush's start to this end
            previous: float | None = None
            parts: dict[str, list[float]] = {}
            store.take_work()
            try:
                for second in range(seconds):
                    time.sleep(max(0.0, start + second + 1 - time.time()))
                    for result, events in results_at(second, start, plan, names, rng):
                        store.record(result, events)
                    began = time.monotonic()
                    store.flush()
                    ended = time.monotonic()
                    flushes.append(ended - began)
                    if previous is not None:
                        lags.append(ended - previous)
                    previous = began
                    for part, took in store.take_work().items():
                        parts.setdefault(part, []).append(took)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
        cpu_self = _cpu(resource.RUSAGE_SELF) - cpu[0]
        cpu_child = _cpu(resource.RUSAGE_CHILDREN) - cpu[1]  # the replay process, once reaped
    out: dict[str, object] = {
        "store": str(store_file),
        "nodes": count,
        "replay_in": replay_in,
        "replay_s": round(replayed[0], 1) if replayed else None,
        "cpu_s": {"bench": round(cpu_self, 1), "replay_process": round(cpu_child, 1)},
        "write_switch_interval_ms": 1000 * switching.WRITE_SWITCH_INTERVAL,
        "flushes": len(flushes),
        # slo_agent_store_flush_lag_seconds as the agent measures it (1,000 ms when on time)
        "flush_lag_ms": {"p50": _ms(lags, 0.5), "p99": _ms(lags, 0.99), "max": _ms(lags, 1.0)},
        "flush_ms": {
            "p50": _ms(flushes, 0.5),
            "p90": _ms(flushes, 0.9),
            "p99": _ms(flushes, 0.99),
            "max": _ms(flushes, 1.0),
            "mean": round(1000 * sum(flushes) / max(len(flushes), 1), 1),
        },
        **{
            f"{part}_ms": {"p99": _ms(parts[part], 0.99), "max": _ms(parts[part], 1.0)}
            for part in ("wait", "write")
            if part in parts
        },
    }
    if holds:
        out["holds_over_50ms"] = {
            where: {"count": n, "max_ms": round(1000 * _TimedLock.longest[where])}
            for where, n in _TimedLock.holds.most_common(8)
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True, help="history store (copied)")
    ap.add_argument("--nodes", type=int, default=5000, help="nodes the store was built for")
    ap.add_argument("--seconds", type=int, default=120, help="seconds (one flush each)")
    ap.add_argument("--holds", action="store_true", help="count the connection's long holds")
    ap.add_argument(
        "--write-switch-interval",
        default="",
        help="comma-separated seconds to run in turn, each on a fresh copy: the switch interval "
        "during a flush (the agent's 0.0005; 0.005, the interpreter's default, is the agent "
        "before agent/store/switching.py)",
    )
    ap.add_argument(
        "--replay-in",
        default="thread",
        help="comma-separated places for the replay's past steps to run in turn, each on a "
        f"fresh copy: {', '.join(REPLAY_IN)} (the agent's way: process)",
    )
    args = ap.parse_args()
    switches: list[float | None] = [float(x) for x in args.write_switch_interval.split(",") if x]
    switches = switches or [None]
    places = [x for x in args.replay_in.split(",") if x]
    if not places or any(x not in REPLAY_IN for x in places):
        ap.error(f"--replay-in: one or more of {', '.join(REPLAY_IN)}, comma-separated")
    for place in places:
        for switch in switches:
            row = measure(args.store, args.nodes, args.seconds, args.holds, switch, place)
            for key, value in row.items():
                print(f"{key}: {value}")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
