"""Start-up benchmark of the shipped agent: seconds and CPU seconds from ``slo-agent run`` to a
ready ``/readyz``, on the generated nodes of :mod:`bench.scale`.

Each run starts the real agent process on a fresh copy of ``--store`` (or an empty store),
waits for ``/readyz``, reads the process's CPU seconds from /proc, then stops it with SIGTERM
by PID. With ``--agent-root`` given, runs alternate between this checkout and that one (A/B in
one invocation, so both see the same machine load); medians are printed per checkout. A
``--store`` is first copied once and moved in time so that its history ends now
(:mod:`bench.history_shift`; minutes for a 1 GB store, not timed), as an agent running for weeks
holds it; ``--keep-times`` starts on it as written (weeks old: past the retention, so the first
evaluation reads no history at all).

``--restart`` times the start that follows a clean stop, as an upgrade or a rolling restart
does: each run starts the agent on its copy, lets it run ``--settle`` seconds past ready,
stops it with SIGTERM (its close saves the window sums, :mod:`agent.store.saved_sums`), counts
the saved sums, then starts it again on the same file and times that second start (both
starts are reported).

``--after-crash`` times the start that follows a crash (kill -9, an OOM kill): each run starts
the agent on its copy with its periodic saves of the window sums every ``--save-every``
seconds (default 30 s instead of 5 min, through a private hook of the benchmark, not an
option of the agent; :mod:`agent.store.periodic_saves`), waits until a save covers every SLO,
lets it run ``--settle`` more seconds (writing, and saving again), kills it with SIGKILL, then
times two starts on copies of the file the kill left: one as left (it resumes the saved sums)
and one with the saved sums deleted (it sums every window afresh), in alternating order; the
medians of both and their ratio are printed. A checkout without periodic saves (``--agent-root``
of an older one) leaves no sums to resume: both of its starts sum afresh.

``--afresh`` times plain starts on copies whose saved window sums were deleted, so the first
evaluation sums every window afresh, as the first start after the upgrade to layout 7 or after
a stop of over a day does (a store of an older layout, as the pre-built history stores are,
has none to delete: a plain start on it sums afresh too).

``--bytecode`` first compiles every module the agent may import (the checkouts' own and the
environment's site-packages) to bytecode, as the container image does at install
(``--compile-bytecode``): without it, in an environment that writes no bytecode
(``PYTHONDONTWRITEBYTECODE=1``), every start compiles its imports (about 1 s at start-up).

    .venv/bin/python -m bench.startup --nodes 5000 --store /path/h5000-28.db --runs 3
    .venv/bin/python -m bench.startup --nodes 5000 --store /path/h5000-28-now.db --keep-times \
        --runs 2 --restart
    .venv/bin/python -m bench.startup --nodes 500 --store /path/h500-28-now.db --keep-times \
        --runs 3 --after-crash
    .venv/bin/python -m bench.startup --nodes 5000 --store /path/h5000-28-now.db --keep-times \
        --runs 3 --afresh --bytecode
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import site
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench.harness import cpu_seconds
from bench.history_shift import shift_to
from bench.scale import _stop, _wait_ready, agent_command, write_specs
from bench.targets import REPO, Nginx
from tests.support.net import free_port

READY_LIMIT = 180.0  # seconds a start may take before the run counts as failed


STOP_LIMIT = 120.0  # seconds a SIGTERM may take before the agent is killed


def start_once(
    root: Path, specs: Path, store: Path | None, work: Path, *, afresh: bool = False
) -> tuple[float, float]:
    """Wall and CPU seconds from starting the agent of ``root`` to its first ready /readyz
    (``afresh``: on a copy without saved window sums)."""
    db = _fresh_copy(store, work)
    if afresh:
        _delete_saved_sums(db)
    with _started(root, specs, db, work) as (wall, cpu, _):
        return wall, cpu


def restart_once(
    root: Path, specs: Path, store: Path | None, work: Path, settle: float
) -> dict[str, float | int | None]:
    """Start, run ``settle`` seconds past ready, SIGTERM; then start again on the same file:
    both starts' wall and CPU seconds to ready, the stop's seconds and exit code, and the
    window sums the stop saved."""
    db = _fresh_copy(store, work)
    with _started(root, specs, db, work) as (first_wall, first_cpu, proc):
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        stop_s, code = _stop(proc, STOP_LIMIT)
    saved = _saved_sums(db)
    with _started(root, specs, db, work) as (wall, cpu, _):
        pass
    return {
        "first_ready_s": round(first_wall, 2),
        "first_cpu_s": round(first_cpu, 2),
        "stop_s": stop_s,
        "exit_code": code,
        "saved_sums": saved,
        "ready_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
    }


def crash_once(
    root: Path,
    specs: Path,
    store: Path | None,
    work: Path,
    *,
    slos: int,
    save_every: float,
    settle: float,
    resumed_first: bool,
) -> dict[str, float | int | None]:
    """Start with periodic saves every ``save_every`` seconds, wait for a save of all ``slos``
    SLOs, run ``settle`` seconds more, SIGKILL; then time a start on the file as the kill left
    it and one on a copy without its saved sums (``resumed_first``: in that order)."""
    db = _fresh_copy(store, work)
    hook = ("-c", _SAVE_HOOK.format(every=save_every))
    with _started(root, specs, db, work, hook) as (first_wall, _, proc):
        ready = time.monotonic()
        while _saved_series(db) < slos and time.monotonic() - ready < READY_LIMIT:
            if proc.poll() is not None:
                raise RuntimeError("the agent exited before it saved its window sums")
            time.sleep(0.5)
        saved_after = time.monotonic() - ready
        time.sleep(settle)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_LIMIT)
    saved = _saved_sums(db)
    fresh = work / "fresh.db"
    for leftover in work.glob("fresh.db*"):
        leftover.unlink()
    for suffix in ("", "-wal"):  # the file and its write-ahead log, as the kill left them
        if (work / f"agent.db{suffix}").exists():
            shutil.copyfile(work / f"agent.db{suffix}", work / f"fresh.db{suffix}")
    if saved:
        _delete_saved_sums(fresh)
    starts: dict[str, tuple[float, float]] = {}
    resumed = 0
    for name in ("resumed", "fresh") if resumed_first else ("fresh", "resumed"):
        logged = (work / "agent.log").stat().st_size
        with _started(root, specs, db if name == "resumed" else fresh, work) as (wall, cpu, _):
            starts[name] = (wall, cpu)
        if name == "resumed":
            resumed = _resumed_in(work / "agent.log", logged)
    return {
        "first_ready_s": round(first_wall, 2),
        "saved_s_after_ready": round(saved_after, 1),
        "saved_sums": saved,
        "resumed_sums": resumed,
        "ready_s": round(starts["resumed"][0], 2),
        "cpu_s": round(starts["resumed"][1], 2),
        "fresh_ready_s": round(starts["fresh"][0], 2),
        "fresh_cpu_s": round(starts["fresh"][1], 2),
    }


# ``python -m agent`` with its periodic saves every {every} seconds (absent in older checkouts)
_SAVE_HOOK = """import runpy
try:
    import agent.store.periodic_saves as saves
    saves.SAVE_EVERY = {every}
except ImportError:
    pass
runpy.run_module("agent", run_name="__main__", alter_sys=True)"""


def compile_bytecode(roots: Sequence[Path]) -> None:
    """Compile the packages of ``roots`` and this interpreter's site-packages to bytecode."""
    trees = [root / package for root in roots for package in ("agent", "exporters")]
    trees += [Path(p) for p in site.getsitepackages()]
    started = time.monotonic()
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", *map(str, trees)]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)  # a file that fails: skipped
    print(f"compiled to bytecode in {time.monotonic() - started:.0f} s", flush=True)


def _fresh_copy(store: Path | None, work: Path) -> Path:
    db = work / "agent.db"
    for leftover in work.glob("agent.db*"):
        leftover.unlink()
    if store is not None:
        shutil.copyfile(store, db)
    return db


@contextlib.contextmanager
def _started(
    root: Path, specs: Path, db: Path, work: Path, launcher: Sequence[str] = ("-m", "agent")
) -> Iterator[tuple[float, float, subprocess.Popen[bytes]]]:
    """The agent of ``root`` started on ``db`` and ready: (wall, CPU seconds to ready, its
    process); stopped with SIGTERM on leaving (if it still runs)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = agent_command(specs, db, port, launcher)
    log_path = work / "agent.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            wall = _wait_ready(base, proc, READY_LIMIT)
            cpu = cpu_seconds([proc.pid])
            if wall is None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"agent not ready: {tail}")
            yield wall, cpu, proc
        finally:
            _stop(proc, STOP_LIMIT)


def _delete_saved_sums(db: Path) -> None:
    """Delete the saved window sums of ``db`` (a file of an older layout has none)."""
    conn = sqlite3.connect(db)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'kept_sum'").fetchone():
            conn.execute("DELETE FROM kept_sum")
            conn.commit()
    finally:
        conn.close()


def _saved_sums(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM kept_sum").fetchone()[0])
    except sqlite3.Error:  # an agent of an older layout: no such table
        return 0
    finally:
        conn.close()


def _saved_series(db: Path) -> int:
    """SLO series with a saved window sum in ``db`` (read beside the running agent)."""
    try:
        conn = sqlite3.connect(db, timeout=5.0)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT count(DISTINCT sid) FROM kept_sum").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def _resumed_in(log: Path, offset: int) -> int:
    """The window sums a start said it resumed in ``log`` past ``offset`` (0: it said none)."""
    with log.open("rb") as f:
        f.seek(offset)
        found = re.findall(rb"resumed (\d+) window sums", f.read())
    return int(found[-1]) if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000, help="nodes (2 SLOs each)")
    parser.add_argument("--store", type=Path, help="pre-built store file (copied; default: empty)")
    parser.add_argument("--runs", type=int, default=3, help="starts per checkout (1-20)")
    parser.add_argument(
        "--agent-root",
        type=Path,
        help="also start the agent of this checkout, alternating (e.g. a `git worktree` of main)",
    )
    parser.add_argument(
        "--keep-times",
        action="store_true",
        help="start on the --store copy as written (default: moved in time to end now)",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="time the start after a clean stop (SIGTERM) of an agent on the same file",
    )
    parser.add_argument(
        "--after-crash",
        action="store_true",
        help="time the start after a kill -9 (periodic saves) against one that sums afresh",
    )
    parser.add_argument(
        "--afresh",
        action="store_true",
        help="start on copies without saved window sums: the first evaluation sums every window"
        " afresh (the first start after the upgrade to layout 7, or after a long stop)",
    )
    parser.add_argument(
        "--save-every",
        type=float,
        default=30.0,
        help="--after-crash: seconds between the agent's periodic saves (1-600)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=20.0,
        help="seconds run past ready (--restart) or past the save (--after-crash) (0-600)",
    )
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="compile the agent and its site-packages to bytecode first, as the image does",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 20:
        parser.error("--runs: 1 to 20")
    if not 0 <= args.settle <= 600:
        parser.error("--settle: 0 to 600 seconds")
    if not 1 <= args.save_every <= 600:
        parser.error("--save-every: 1 to 600 seconds")
    if args.restart + args.after_crash + args.afresh > 1:
        parser.error("one of --restart, --after-crash and --afresh")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    roots = [REPO] + ([args.agent_root.resolve()] if args.agent_root else [])
    runs: dict[str, list[tuple[float, float]]] = {str(root): [] for root in roots}
    restarts: dict[str, list[dict[str, float | int | None]]] = {str(root): [] for root in roots}
    if args.bytecode:
        compile_bytecode(roots)
    with Nginx() as nginx, tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        specs = work / "specs"
        specs.mkdir()
        write_specs(specs, args.nodes, nginx.url, None)
        store = args.store
        if store is not None and not args.keep_times:
            store = work / "history.db"
            shutil.copyfile(args.store, store)
            moved = shift_to(store, time.time())
            print(f"history moved {moved / 1440:.1f} days forward to end now", flush=True)
        for run in range(args.runs):
            for root in roots:
                if args.after_crash:
                    crash = crash_once(
                        root,
                        specs,
                        store,
                        work,
                        slos=2 * args.nodes,
                        save_every=args.save_every,
                        settle=args.settle,
                        resumed_first=run % 2 == 0,
                    )
                    restarts[str(root)].append(crash)
                    print(f"{root}: {json.dumps(crash)}", flush=True)
                    continue
                if args.restart:
                    restart = restart_once(root, specs, store, work, args.settle)
                    restarts[str(root)].append(restart)
                    print(f"{root}: {json.dumps(restart)}", flush=True)
                    continue
                wall, cpu = start_once(root, specs, store, work, afresh=args.afresh)
                runs[str(root)].append((wall, cpu))
                print(f"{root}: ready in {wall:.2f} s, {cpu:.2f} CPU s", flush=True)
    results = []
    for root, pairs in runs.items():
        if args.after_crash:
            results.append(_crash_result(root, args, restarts[root]))
            print(json.dumps(results[-1]), flush=True)
            continue
        if args.restart:
            results.append(_restart_result(root, args, restarts[root]))
            print(json.dumps(results[-1]), flush=True)
            continue
        result = {
            "agent_root": root,
            "nodes": args.nodes,
            "slos": 2 * args.nodes,
            "store": str(args.store) if args.store else "empty",
            "mode": "start summing every window afresh" if args.afresh else "start",
            "ready_s_median": round(statistics.median(w for w, _ in pairs), 2),
            "ready_cpu_s_median": round(statistics.median(c for _, c in pairs), 2),
            "runs": [{"ready_s": round(w, 2), "cpu_s": round(c, 2)} for w, c in pairs],
        }
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


Runs = list[dict[str, float | int | None]]


def _median(runs: Runs, key: str) -> float:
    return round(statistics.median(float(run[key] or 0.0) for run in runs), 2)


def _setting(root: str, args: argparse.Namespace, mode: str) -> dict[str, object]:
    """What a restart or crash result was measured on."""
    return {
        "agent_root": root,
        "nodes": args.nodes,
        "slos": 2 * args.nodes,
        "store": str(args.store) if args.store else "empty",
        "mode": mode,
    }


def _restart_result(root: str, args: argparse.Namespace, runs: Runs) -> dict[str, object]:
    def median(key: str) -> float:
        return _median(runs, key)

    return {
        **_setting(root, args, f"restart after {args.settle:g} s past ready and a SIGTERM"),
        "first_ready_s_median": median("first_ready_s"),
        "first_cpu_s_median": median("first_cpu_s"),
        "restart_ready_s_median": median("ready_s"),
        "restart_cpu_s_median": median("cpu_s"),
        "runs": runs,
    }


def _crash_result(root: str, args: argparse.Namespace, runs: Runs) -> dict[str, object]:
    def median(key: str) -> float:
        return _median(runs, key)

    def ratio(key: str) -> float:
        pairs = [float(run[key] or 0.0) / float(run[f"fresh_{key}"] or 1.0) for run in runs]
        return round(statistics.median(pairs), 2)

    return {
        **_setting(root, args, f"start after a SIGKILL {args.settle:g} s past a periodic save"),
        "resumed_sums_median": median("resumed_sums"),
        "ready_s_median": median("ready_s"),
        "cpu_s_median": median("cpu_s"),
        "fresh_ready_s_median": median("fresh_ready_s"),
        "fresh_cpu_s_median": median("fresh_cpu_s"),
        "ready_ratio_median": ratio("ready_s"),
        "cpu_ratio_median": ratio("cpu_s"),
        "runs": runs,
    }


if __name__ == "__main__":
    raise SystemExit(main())
