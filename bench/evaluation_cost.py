"""What one evaluation of every SLO costs, first and steady, split into reading and status building.

Builds the spec set of ``--nodes`` nodes (``bench.scale.write_specs``: one probe every 30-60 s and
two SLOs each) over a store (empty, or a copy of ``--store``: a pre-built history such as
``bench.history_store`` writes; the copy is deleted afterwards, the file given is never
written), records the probe results the nodes' own intervals give between evaluations (each
node's runs at its interval from a random phase, 2% failures, durations 50-800 ms, flushed every
simulated second), and evaluates every ``--every`` seconds of simulated time (the store's clock
is injected). Each evaluation is timed in CPU seconds (``time.process_time``) as a whole and in
its store reads (``sums_many``); building the statuses is the rest.

With ``--agent-root`` given (e.g. a clean checkout of main), each round runs this checkout's
agent and then that one's, each in a fresh process over a fresh copy of the store, so the two
are compared in one invocation on a shared machine; figures are medians over rounds and steady
evaluations. ``--profile`` prints a cProfile of the last steady evaluation of this checkout.

    .venv/bin/python -m bench.evaluation_cost --nodes 5000 --agent-root /tmp/evalbase
    .venv/bin/python -m bench.evaluation_cost --nodes 500 \\
        --store /work/benchdata/h500-28-now.db --agent-root /tmp/evalbase
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=500, help="nodes (2 SLOs each)")
    parser.add_argument("--store", type=Path, help="pre-built store (copied; default: empty)")
    parser.add_argument("--evaluations", type=int, default=12, help="steady evaluations")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between evaluations")
    parser.add_argument(
        "--warmup",
        type=float,
        default=61.0,
        help="minutes of runs after the first evaluation, evaluated every 5 minutes, before the"
        " steady ones (the fine slots take over from minute buckets within the first hour)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each checkout")
    parser.add_argument("--agent-root", type=Path, help="also run this checkout's agent (A/B)")
    parser.add_argument("--profile", type=int, default=0, help="cProfile lines to print")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child: run this root
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(_child(args)))
        return 0
    roots = [REPO] + ([args.agent_root.resolve()] if args.agent_root else [])
    runs: dict[str, list[dict[str, float]]] = {str(root): [] for root in roots}
    for _ in range(args.rounds):
        for root in roots:
            runs[str(root)].append(_spawn(root, args, profile=args.profile if root == REPO else 0))
    figures = {root: _summary(results) for root, results in runs.items()}
    for root, summary in figures.items():
        print(f"{root}: {json.dumps(summary)}")
    if len(roots) == 2:
        mine, base = figures[str(roots[0])], figures[str(roots[1])]
        print(
            f"steady CPU per evaluation: {mine['steady_cpu_s']:.3f} s here, "
            f"{base['steady_cpu_s']:.3f} s at {roots[1]} "
            f"({mine['steady_cpu_s'] / base['steady_cpu_s']:.2f}x)"
        )
    return 0


def _spawn(root: Path, args: argparse.Namespace, profile: int) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(root)]
    command += ["--nodes", str(args.nodes), "--evaluations", str(args.evaluations)]
    command += ["--every", str(args.every), "--profile", str(profile)]
    command += ["--warmup", str(args.warmup)]
    if args.store is not None:
        command += ["--store", str(args.store.resolve())]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root)
    sys.stderr.write(out.stderr)
    lines = out.stdout.strip().splitlines()
    print("\n".join(lines[:-1]))  # the profile, if any
    result: dict[str, float] = json.loads(lines[-1])
    return result


def _summary(results: list[dict[str, float]]) -> dict[str, float]:
    keys = results[0].keys()
    return {k: round(statistics.median(r[k] for r in results), 4) for k in keys}


def _child(args: argparse.Namespace) -> dict[str, float]:
    sys.path[:0] = [str(args.one), str(REPO)]
    with tempfile.TemporaryDirectory(prefix="bench-evalcost-") as tmp:
        work = Path(tmp)
        path = work / "agent.db"
        if args.store is not None:
            shutil.copyfile(args.store, path)
        return _measure(args, work, path)


def _measure(args: argparse.Namespace, work: Path, path: Path) -> dict[str, float]:
    import cProfile
    import inspect
    import pstats
    import random
    import time

    from agent.model import Node
    from agent.probes.result import Observation, Outcome, ProbeResult, Reason
    from agent.runtime.evaluator import evaluate
    from agent.runtime.source import SpecSource
    from agent.slo.events import Counts, sli_events
    from agent.slo.status import SloKey, Snapshot, TierKey
    from agent.store.sqlite import SqliteStore
    from bench.scale import write_specs

    specs_dir = work / "specs"
    specs_dir.mkdir()
    write_specs(specs_dir, args.nodes, "http://127.0.0.1:9/health", None)
    from agent.runtime.heap import freeze_long_lived, tune_collector

    tune_collector()  # the collector as the agent runs it
    specs = SpecSource([str(specs_dir)], os.environ).load()
    freeze_long_lived()
    now = [_newest(path) or 60.0 * (time.time() // 60) + 5.0]  # 5 s into a minute
    store = SqliteStore(path, clock=lambda: now[0])

    class Timed:
        """The store's reads, their CPU seconds added up."""

        cpu = 0.0

        def sums_many(
            self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
        ) -> dict[str, dict[str, Counts]]:
            started = time.process_time()
            try:
                return store.sums_many(requests)
            finally:
                self.cpu += time.process_time() - started

    reader = Timed()
    memo = None
    if "memo" in inspect.signature(evaluate).parameters:  # this checkout's agent, not main's
        from agent.slo.status_memo import StatusMemo

        memo = StatusMemo()
    rng = random.Random(14)
    schedule: list[tuple[Node, float, float]] = []  # node, interval, next run
    for node in specs.nodes:
        every = node.probes[0].interval.total_seconds()
        schedule.append((node, every, now[0] + rng.uniform(-every, 0)))
    ok = Observation(Outcome.SUCCESS, Reason.OK, 0.1, 200)
    failed = Observation(Outcome.FAILURE, Reason.STATUS, 0.1, 503)

    def record_until(end: float) -> int:
        """Every run due before ``end``, flushed once per simulated second."""
        recorded = 0
        while now[0] < end:
            now[0] = min(end, now[0] + 1.0)
            for i, (node, every, due) in enumerate(schedule):
                while due < now[0]:
                    observation = failed if rng.random() < 0.02 else ok
                    duration = rng.uniform(0.05, 0.8)
                    observation = Observation(
                        observation.outcome, observation.reason, duration, observation.status
                    )
                    result = ProbeResult(node.name, node.probes[0].name, due, observation)
                    store.record(result, sli_events(node, result))
                    recorded += 1
                    due += every
                schedule[i] = (node, every, due)
            store.flush()
        return recorded

    def one() -> tuple[float, float, Snapshot]:
        reader.cpu = 0.0
        started = time.process_time()
        if memo is None:
            snapshot = evaluate(specs, reader, now[0], firing_before=firing[0])
        else:
            snapshot = evaluate(specs, reader, now[0], firing_before=firing[0], memo=memo)
        return time.process_time() - started, reader.cpu, snapshot

    record_until(now[0] + 60.0)  # a minute of runs before the first evaluation
    firing: list[Mapping[SloKey, Collection[TierKey]]] = [{}]
    first_cpu, first_read, snapshot = one()
    firing[0] = snapshot.firing_tiers()
    warm_until = now[0] + 60.0 * args.warmup
    while now[0] < warm_until:
        record_until(min(warm_until, now[0] + 300.0))
        snapshot = one()[2]
        firing[0] = snapshot.firing_tiers()
    steady: list[tuple[float, float, bool]] = []  # CPU s, of which reading; a minute crossed
    runs: list[int] = []
    profiled = not args.profile
    for k in range(args.evaluations):
        before = now[0]
        runs.append(record_until(now[0] + args.every))
        crossed = before // 60 != now[0] // 60
        if not profiled and not crossed and k >= args.evaluations - 6:
            profiled = True
            profiler = cProfile.Profile()
            profiler.enable()
            cpu, read, snapshot = one()
            profiler.disable()
            print(f"# cProfile of steady evaluation {k} (within a minute)")
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(args.profile)
        else:
            cpu, read, snapshot = one()
        firing[0] = snapshot.firing_tiers()
        steady.append((cpu, read, crossed))
    store.close()
    slos = sum(len(node.slos) for node in specs.nodes)
    cpu = statistics.median(s[0] for s in steady)
    read = statistics.median(s[1] for s in steady)
    within = [s[0] for s in steady if not s[2]] or [0.0]
    crossing = [s[0] for s in steady if s[2]] or [0.0]
    return {
        "slos": slos,
        "runs_per_evaluation": statistics.median(runs),
        "first_cpu_s": round(first_cpu, 4),
        "first_read_s": round(first_read, 4),
        "steady_cpu_s": round(cpu, 4),
        "steady_read_s": round(read, 4),
        "steady_build_s": round(cpu - read, 4),
        "steady_mean_cpu_s": round(statistics.fmean(s[0] for s in steady), 4),
        "within_minute_cpu_s": round(statistics.median(within), 4),
        "minute_crossing_cpu_s": round(statistics.median(crossing), 4),
        "steady_us_per_slo": round(cpu / slos * 1e6, 1),
        "steady_read_us_per_slo": round(read / slos * 1e6, 1),
        "steady_build_us_per_slo": round((cpu - read) / slos * 1e6, 1),
    }


def _newest(path: Path) -> float | None:
    """A few seconds past the newest bucket of the store at ``path`` (None: no store yet), so a
    history ends at the bench's now without moving it."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    try:
        (newest,) = conn.execute("SELECT MAX(minute) FROM sli_bucket").fetchone()
    finally:
        conn.close()
    return None if newest is None else (newest + 1) * 60.0 + 5.0


if __name__ == "__main__":
    raise SystemExit(main())
