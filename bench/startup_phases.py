"""Where the start-up of ``slo-agent run`` goes, phase by phase, one after another in one process:
imports, spec load, store open, the first evaluation (the one ``/readyz`` waits for), a second
one, and one prune call (the backlog of a store left idle; the agent runs it once ready).
``--restart`` then closes the store as a clean stop does (saving the window sums), opens it
again as the agent does (taking them) and times the first evaluation after that restart.

CPU seconds (``time.process_time``) hold on a shared machine; wall seconds only on a quiet one.
Each phase runs in the main thread; "of this thread" is that thread's CPU seconds alone
(``time.thread_time``): a window read split over a second connection
(:mod:`agent.store.split_reads`) moves part of the process's CPU to another thread, and the
main thread's share is what a quiet two-core machine waits for.
``--agent-root`` measures another checkout's agent (its modules are imported first).

    .venv/bin/python -m bench.startup_phases --nodes 5000 --store /path/h5000-28.db
    .venv/bin/python -m bench.startup_phases --nodes 5000 --store /path/h5000-28-now.db --restart
"""

from __future__ import annotations

import time

STARTED = (time.perf_counter(), time.process_time(), time.thread_time())  # before any import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000, help="nodes (2 SLOs each)")
    parser.add_argument("--store", type=Path, help="pre-built store file (copied; default: empty)")
    parser.add_argument("--agent-root", type=Path, help="import the agent of this checkout")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="then close, reopen (resuming the saved window sums) and evaluate again",
    )
    args = parser.parse_args(argv)
    if args.agent_root is not None:
        sys.path.insert(0, str(args.agent_root.resolve()))
    last = list(STARTED)
    phases: dict[str, tuple[float, float, float]] = {}

    def clocks() -> list[float]:
        return [time.perf_counter(), time.process_time(), time.thread_time()]

    def mark(phase: str) -> None:
        wall, cpu, own = (a - b for a, b in zip(clocks(), last, strict=True))
        phases[phase] = (round(wall, 2), round(cpu, 2), round(own, 2))
        print(f"{phase:18s} {wall:6.2f} s  {cpu:6.2f} CPU s  {own:6.2f} of this thread", flush=True)
        last[:] = clocks()

    import agent.app
    import agent.cli.main  # noqa: F401
    from agent.runtime.evaluator import evaluate
    from agent.runtime.source import SpecSource
    from agent.store.sqlite import SqliteStore

    mark("imports")
    from bench.scale import write_specs

    with tempfile.TemporaryDirectory(prefix="bench-phases-") as tmp:
        work = Path(tmp)
        specs = work / "specs"
        specs.mkdir()
        write_specs(specs, args.nodes, "http://127.0.0.1:9/health", None)
        if args.store is not None:
            shutil.copyfile(args.store, work / "agent.db")
        last[:] = clocks()
        spec_set = SpecSource([str(specs)], os.environ).load()
        mark("spec load")

        def opened() -> SqliteStore:  # as the agent opens it (an older checkout's: plainly)
            path = work / "agent.db"
            return SqliteStore(path, resume_window_sums=True) if args.restart else SqliteStore(path)

        store = opened()
        mark("store open")
        now = time.time()
        evaluate(spec_set, store, now)
        mark("first evaluation")
        evaluate(spec_set, store, now + 10)
        mark("next evaluation")
        store.prune(time.time())
        mark("one prune call")
        store.close()
        if args.restart:
            mark("close (saves)")
            store = opened()
            mark("reopen (takes)")
            evaluate(spec_set, store, time.time())
            mark("first evaluation after restart")
            store.close()
    print(json.dumps({"nodes": args.nodes, "store": str(args.store or "empty"), **phases}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
