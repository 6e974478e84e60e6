"""Memory soak of the shipped agent: RSS sampled every minute after start, and a flatness verdict.

    .venv/bin/python -m bench.memory_soak --nodes 500 --store /path/to/copy-of-h500-28.db \\
        --duration 600
    .venv/bin/python -m bench.memory_soak --nodes 5000 --duration 600
    .venv/bin/python -m bench.memory_soak --nodes 5000 --duration 300 --trace /tmp/trace
    .venv/bin/python -m bench.memory_soak --diff /tmp/trace      # again, from the snapshots

Runs ``bench.scale``'s agent (the real ``slo-agent run`` process, N nodes of 2 SLOs each, a loopback
nginx, /metrics scraped every 15 s, the status API every minute) and reads its RSS from /proc once a
second. The verdict compares the growth over the second half of the run with the first half's and
names the plateau (the median of the second half); flat means the second half's trend (the
least-squares slope of its samples, times its length) is at most :data:`FLAT_MB` or
:data:`FLAT_SHARE` of the plateau, whichever is larger. The second half's peak growth (its highest
sample less its first) is reported beside it: a high-water mark of one render or evaluation
raises the peak without being growth, while a leak raises the trend.

With ``--trace DIR`` the agent runs under ``bench.traced_agent`` (tracemalloc, a snapshot a minute,
mallinfo2): the report lists, per source line, the traced MB of the first and last snapshots and
of the middle one, so structures that fill to a bound (flat in the second half) stand apart from
those that keep growing. Traced runs are slower and bigger: take the verdict from untraced runs.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.scale import run_once

FLAT_MB = 10.0
FLAT_SHARE = 0.05


@dataclass
class Verdict:
    minutes_mb: list[float]
    first_half_growth_mb: float
    second_half_growth_mb: float  # its highest sample less its first (peaks count)
    second_half_trend_mb: float  # least-squares slope over it, times its length
    plateau_mb: float
    max_mb: float
    flat: bool


def verdict(minutes_mb: Sequence[float]) -> Verdict:
    """Growth over each half of the samples (one a minute) and whether the second half is flat."""
    samples = list(minutes_mb)
    if len(samples) < 3:
        raise ValueError("at least 3 samples (a run of 2 minutes or more)")
    mid = len(samples) // 2
    second = samples[mid:]
    plateau = statistics.median(second)
    second_growth = max(second) - second[0]
    slope = statistics.linear_regression(range(len(second)), second).slope
    trend = slope * (len(second) - 1)
    return Verdict(
        minutes_mb=samples,
        first_half_growth_mb=round(samples[mid] - samples[0], 1),
        second_half_growth_mb=round(second_growth, 1),
        second_half_trend_mb=round(trend, 1),
        plateau_mb=round(plateau, 1),
        max_mb=round(max(samples), 1),
        flat=trend <= max(FLAT_MB, FLAT_SHARE * plateau),
    )


def load_avg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- tracemalloc snapshots ------------------------------------------------------------------


def _by_line(path: Path) -> dict[str, float]:
    snapshot = tracemalloc.Snapshot.load(str(path)).filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    out: dict[str, float] = {}
    for stat in snapshot.statistics("lineno"):
        frame = stat.traceback[0]
        out[f"{_short(frame.filename)}:{frame.lineno}"] = stat.size / 2**20
    return out


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    for marker in ("/agent/", "/bench/", "/exporters/"):
        if marker in filename:
            return marker.strip("/") + "/" + filename.split(marker, 1)[1]
    return filename


def diff_report(directory: Path, top: int = 25) -> str:
    """Per line: MB at the first, middle and last snapshot, biggest last first."""
    snaps = sorted(directory.glob("snap-*.pickle"))
    if len(snaps) < 2:
        return f"{directory}: fewer than 2 snapshots"
    picks = [snaps[0], snaps[len(snaps) // 2], snaps[-1]]
    first, middle, last = (_by_line(p) for p in picks)
    lines = [
        f"tracemalloc by line, MB at {picks[0].stem}, {picks[1].stem}, {picks[2].stem}"
        " (second-half growth = last - middle)",
    ]
    ranked = sorted(last, key=lambda k: -last[k])[:top]
    for key in ranked:
        a, m, z = first.get(key, 0.0), middle.get(key, 0.0), last[key]
        lines.append(f"  {a:7.1f} {m:7.1f} {z:7.1f}  {z - m:+6.1f}  {key}")
    growth = sorted(last, key=lambda k: -(last[k] - middle.get(k, 0.0)))[:10]
    lines.append("largest second-half growth:")
    for key in growth:
        lines.append(f"  {last[key] - middle.get(key, 0.0):+6.2f} MB  {key}")
    lines.append(
        f"total traced: {sum(first.values()):.1f} -> {sum(middle.values()):.1f}"
        f" -> {sum(last.values()):.1f} MB"
    )
    samples = directory / "samples.jsonl"
    if samples.exists():
        lines.append("samples (RSS, traced, malloc in use / free in arenas):")
        lines += ["  " + row for row in samples.read_text().splitlines()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=500, help="nodes (2 SLOs each)")
    parser.add_argument("--duration", type=float, default=600.0, help="measured seconds")
    parser.add_argument("--store", type=Path, help="pre-built store file (copied; default: empty)")
    parser.add_argument("--trace", type=Path, help="run under tracemalloc, snapshots here")
    parser.add_argument("--trace-every", type=float, default=60.0, help="seconds per snapshot")
    parser.add_argument("--trim", action="store_true", help="traced: malloc_trim per snapshot")
    parser.add_argument("--diff", type=Path, help="only report the snapshots of a traced run")
    parser.add_argument(
        "--agent-root", type=Path, help="run the agent of this checkout (e.g. a `git archive`)"
    )
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    parser.add_argument("agent_args", nargs="*", help="extra `slo-agent run` options (after --)")
    args = parser.parse_args(argv)
    # SIGTERM to the benchmark stops what it started (their finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.diff:
        print(diff_report(args.diff))
        return 0
    if not 120 <= args.duration <= 3600:
        parser.error("--duration: 120 to 3600 seconds")
    launcher: list[str] = ["-m", "agent"]
    if args.trace:
        launcher = ["-m", "bench.traced_agent", "--every", str(args.trace_every)]
        launcher += [*(["--trim"] if args.trim else []), str(args.trace.resolve()), "--"]
    load_before = load_avg()
    result = run_once(
        args.nodes,
        duration=args.duration,
        interval=None,
        store=args.store,
        scrape_interval=15.0,
        status_interval=60.0,
        stop_timeout=60.0,
        extra_args=args.agent_args,
        launcher=launcher,
        **({"agent_root": args.agent_root} if args.agent_root else {}),
    )
    found = verdict([*result.rss_minutes_mb, result.rss_last_mb])
    out = {
        "nodes": args.nodes,
        "slos": result.slos,
        "store": result.store,
        "agent_root": str(args.agent_root or "."),
        "traced": bool(args.trace),
        "load_before": load_before,
        "load_after": load_avg(),
        "startup_to_ready_s": result.startup_to_ready_s,
        "cpu_ms_per_run": result.cpu_ms_per_run,
        "metrics_mb": result.metrics_mb,
        **asdict(found),
    }
    # the rest of the run's figures (lag, skips, flush, evaluation, /metrics...) as bench.scale
    # reports them
    out |= {k: v for k, v in asdict(result).items() if k not in out}
    print(json.dumps(out), flush=True)
    print(
        f"verdict: {'FLAT' if found.flat else 'NOT FLAT'} - plateau {found.plateau_mb} MB,"
        f" max {found.max_mb} MB; growth first half {found.first_half_growth_mb:+} MB,"
        f" second half {found.second_half_growth_mb:+} MB at its peak,"
        f" trend {found.second_half_trend_mb:+} MB",
        flush=True,
    )
    if args.trace:
        print(diff_report(args.trace))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
