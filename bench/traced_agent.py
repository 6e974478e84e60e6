"""``slo-agent`` under tracemalloc, for attributing its memory (a profile aid, not a product path).

    .venv/bin/python -m bench.traced_agent [--every 60] [--frames 1] DIR -- run SPECS --store ...

Starts tracemalloc, then runs the agent's command line in this process. A daemon thread writes
``DIR/snap-NNN.pickle`` (a :class:`tracemalloc.Snapshot`) every ``--every`` seconds and appends
one line of JSON to ``DIR/samples.jsonl``: seconds since start, RSS, the traced total, and glibc's
``mallinfo2`` (bytes in use by malloc and bytes free inside its arenas: free memory malloc keeps
is fragmentation or reusable slack, not Python objects). With ``--trim`` it then calls
``malloc_trim(0)`` and records the RSS after it, measuring what returning free pages would save.
``bench.memory_soak --trace DIR`` runs the agent this way and diffs the snapshots by traceback.
Tracing costs CPU and memory of its own: read the RSS of untraced runs for the verdict.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallinfo2.restype = _Mallinfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):  # not glibc >= 2.33
        return None
    return libc


def self_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def malloc_figures(libc: ctypes.CDLL | None) -> dict[str, float]:
    """MB in use by malloc (arenas and mmapped blocks) and MB free inside its arenas."""
    if libc is None:
        return {}
    info = libc.mallinfo2()
    return {
        "malloc_in_use_mb": round((info.uordblks + info.hblkhd) / 2**20, 1),
        "malloc_free_mb": round(info.fordblks / 2**20, 1),
        "malloc_arena_mb": round(info.arena / 2**20, 1),
    }


def sample(
    directory: Path, index: int, started: float, libc: ctypes.CDLL | None, trim: bool
) -> None:
    """One snapshot and one line of figures."""
    snapshot = tracemalloc.take_snapshot()
    partial = directory / f"snap-{index:03d}.partial"
    snapshot.dump(str(partial))
    partial.rename(directory / f"snap-{index:03d}.pickle")  # whole or absent, if killed meanwhile
    traced, peak = tracemalloc.get_traced_memory()
    row: dict[str, float] = {
        "t_s": round(time.monotonic() - started, 1),
        "rss_mb": round(self_rss_mb(), 1),
        "traced_mb": round(traced / 2**20, 1),
        "traced_peak_mb": round(peak / 2**20, 1),
        "tracemalloc_overhead_mb": round(tracemalloc.get_tracemalloc_memory() / 2**20, 1),
        **malloc_figures(libc),
    }
    if trim and libc is not None:
        libc.malloc_trim(0)
        row["rss_after_trim_mb"] = round(self_rss_mb(), 1)
    with (directory / "samples.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")


def _sampler(directory: Path, every: float, trim: bool) -> None:
    started, libc = time.monotonic(), _libc()
    index = 0
    while True:
        time.sleep(every if index else min(every, 5.0))
        sample(directory, index, started, libc, trim)
        index += 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where snapshots and samples go")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between snapshots")
    parser.add_argument("--frames", type=int, default=1, help="traceback depth traced")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) after each sample")
    parser.add_argument("agent_args", nargs=argparse.REMAINDER, help="-- slo-agent arguments")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    agent_args = args.agent_args[1:] if args.agent_args[:1] == ["--"] else args.agent_args
    tracemalloc.start(args.frames)
    threading.Thread(
        target=_sampler, args=(args.directory, args.every, args.trim), daemon=True
    ).start()
    from agent.cli.main import main as agent_main

    sys.argv = ["slo-agent", *agent_args]
    agent_main()


if __name__ == "__main__":
    main()
