"""A store flush beside the advisor's replay and the evaluation, with and without flushes
held as foreground work (:mod:`agent.runtime.foreground`).

The case where a flush's write took up to 0.5-2 s: the first start after an upgrade at 10,000
SLOs, when the advisor replays its reviews of the stored history in a thread (paced at half,
as the agent paces it) while evaluations run in steps in another. Here both run for real on a
copy of a history store moved to end now, with the agent's own code (``Advisor.review``,
``evaluate_in_steps``), while the main thread records the results of ~110 probe runs a second
(the generated nodes' schedule) and flushes once a second. Phases of ``--seconds`` alternate:
``held`` (the flush holds the gate, as the agent's does: the replay and the evaluation's steps
wait at their pause points) and ``free`` (the flush does not: what the agent did before). The
same threads run through every phase, so the phases see the same replay and machine.

Prints per phase the flush's wall time (p50, p90, p99, max, mean, ms) and the p99 of the
store's own parts of a flush (``wait`` for the connection, ``write``), then a JSON line with
the seconds the background waited at pause points.

    .venv/bin/python -m bench.foreground --store /path/h5000-7.db --seconds 30 --phases 6
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path

from agent.model import SpecSet
from agent.runtime.advice import Advisor, ReplayStopped, rest_unless
from agent.runtime.evaluator import evaluate_in_steps
from agent.runtime.foreground import Foreground
from agent.spec.defaults import default_alert_windows
from agent.store import SqliteStore
from bench import history_store
from bench.flush_cost import _ms, results_at, schedule
from bench.history_shift import shift_to

EVALUATE_EVERY = 10.0  # seconds, as the agent


def _replay(advisor: Advisor, specs: SpecSet, store: SqliteStore, stop: threading.Event) -> None:
    snapshot = asyncio.run(evaluate_in_steps(specs, store, time.time()))
    with contextlib.suppress(ReplayStopped):
        advisor.review(specs, snapshot, stop.is_set, rest_unless(stop.is_set))


def _evaluations(
    specs: SpecSet, store: SqliteStore, foreground: Foreground, stop: threading.Event
) -> None:
    async def run() -> None:
        previous = None
        while not stop.is_set():
            began = time.monotonic()
            previous = await evaluate_in_steps(
                specs, store, time.time(), previous=previous, foreground=foreground
            )
            await asyncio.sleep(max(0.0, EVALUATE_EVERY - (time.monotonic() - began)))

    asyncio.run(run())


def measure(store_file: Path, count: int, seconds: int, phases: int) -> dict[str, object]:
    specs = SpecSet(
        nodes=history_store.nodes(count), alert_windows={"default": default_alert_windows()}
    )
    with tempfile.TemporaryDirectory(prefix="bench-foreground-") as tmp:
        path = Path(tmp) / "store.db"
        shutil.copyfile(store_file, path)
        shift_to(path, time.time())
        foreground, stop = Foreground(), threading.Event()
        with SqliteStore(path) as store:
            advisor = Advisor(store, clock=time.time, foreground=foreground)
            threads = [
                threading.Thread(target=_replay, args=(advisor, specs, store, stop)),
                threading.Thread(target=_evaluations, args=(specs, store, foreground, stop)),
            ]
            for thread in threads:
                thread.start()
            plan, names = schedule(count, 1), [n.name for n in specs.nodes]
            rng, start = random.Random(1), time.time()
            rows: dict[str, list[float]] = {"held": [], "free": []}
            parts: dict[str, dict[str, list[float]]] = {"held": {}, "free": {}}
            store.take_work()
            try:
                for second in range(seconds * phases):
                    mode = "held" if (second // seconds) % 2 == 0 else "free"
                    time.sleep(max(0.0, start + second + 1 - time.time()))
                    for result, events in results_at(second, start, plan, names, rng):
                        store.record(result, events)
                    began = time.monotonic()
                    if mode == "held":
                        with foreground.held():
                            store.flush()
                    else:
                        store.flush()
                    rows[mode].append(time.monotonic() - began)
                    for part, took in store.take_work().items():
                        parts[mode].setdefault(part, []).append(took)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
    out: dict[str, object] = {"store": str(store_file), "nodes": count, "seconds": seconds}
    # only a held flush makes a pause point wait: all of it was in the held phases
    out["background_waited_s"] = round(foreground.yielded, 2)
    for mode, times in rows.items():
        out[mode] = {
            "flushes": len(times),
            "p50_ms": _ms(times, 0.5),
            "p90_ms": _ms(times, 0.9),
            "p99_ms": _ms(times, 0.99),
            "max_ms": _ms(times, 1.0),
            "mean_ms": round(1000 * sum(times) / max(len(times), 1), 1),
            **{f"{part}_p99_ms": _ms(took, 0.99) for part, took in parts[mode].items()},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True, help="history store (copied)")
    ap.add_argument("--nodes", type=int, default=5000, help="nodes the store was built for")
    ap.add_argument("--seconds", type=int, default=30, help="seconds per phase")
    ap.add_argument("--phases", type=int, default=6, help="phases, held and free in turn")
    args = ap.parse_args()
    row = measure(args.store, args.nodes, args.seconds, args.phases)
    for mode in ("held", "free"):
        figures = row[mode]
        assert isinstance(figures, dict)
        print(f"{mode:>5}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
