"""Measurement plumbing shared by the benchmarks: CPU and memory of processes, result rows.

CPU comes from ``/proc/<pid>/stat`` (user + system time of the process and its threads), so a
process is measured from outside without its cooperation; probes are counted by whoever sends them
and cross-checked against nginx's own request counter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from bench.targets import REPO, BlackboxExporter, Nginx

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def family_pids(pid: int) -> list[int]:
    """A process and its children (the agent and its probe workers)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [pid, *(int(c) for c in f.read().split())]


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds consumed so far by the given processes."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of values by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Row:
    """One configuration's result over its measurement window."""

    name: str
    probes_per_s: float
    cpu_ms_per_probe: float
    cores: float  # CPU seconds per wall second
    probes: int
    failures: int
    expected: int | None = None  # scheduled runs in the window (scheduler benchmarks only)
    skipped: int | None = None  # expected - executed, plus explicit skip events
    lag_p50_ms: float | None = None
    lag_p99_ms: float | None = None
    lag_max_ms: float | None = None
    rss_mb: float | None = None
    target_cpu_ms_per_probe: float | None = None  # nginx's CPU per probe in the same window
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


HEADER = (
    "| configuration | probes/s | CPU ms/probe | vs blackbox | cores | lag p50 ms | lag p99 ms "
    "| skipped | failures | RSS MB |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def markdown_row(row: Row, baseline_cpu_ms: float | None) -> str:
    ratio = row.cpu_ms_per_probe / baseline_cpu_ms if baseline_cpu_ms else None
    cells = [
        row.name,
        _fmt(row.probes_per_s, 0),
        _fmt(row.cpu_ms_per_probe, 3),
        _fmt(ratio, 2),
        _fmt(row.cores, 2),
        _fmt(row.lag_p50_ms, 1),
        _fmt(row.lag_p99_ms, 1),
        _fmt(row.skipped),
        _fmt(row.failures),
        _fmt(row.rss_mb, 0),
    ]
    return "| " + " | ".join(cells) + " |"


def markdown_table(rows: Sequence[Row], baseline_cpu_ms: float | None) -> str:
    return "\n".join([HEADER, *(markdown_row(r, baseline_cpu_ms) for r in rows)])


def paired_table(rows: Sequence[Row]) -> str:
    """Every row against the blackbox_exporter row measured last before it."""
    lines = [HEADER]
    baseline: float | None = None
    for row in rows:
        if row.name.startswith("blackbox_exporter"):
            baseline = row.cpu_ms_per_probe
        lines.append(markdown_row(row, baseline))
    return "\n".join(lines)


def measure_blackbox(
    nginx: Nginx,
    blackbox: BlackboxExporter,
    *,
    rate: float,
    concurrency: int,
    warmup: float,
    duration: float,
    target: str | None = None,
) -> Row:
    """Drive the exporter's /probe of ``target`` (default nginx's plain URL) at ``rate``
    (0 = flat out) and measure its CPU per probe."""
    assert blackbox.proc is not None
    bb_pid = blackbox.proc.pid
    target_pids = nginx.worker_pids()
    cmd = [
        sys.executable,
        "-m",
        "bench.load_driver",
        f"--url={blackbox.probe_url(target or nginx.url)}",
        f"--rate={rate}",
        f"--concurrency={concurrency}",
        f"--warmup={warmup}",
        f"--duration={duration}",
    ]
    with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True) as driver:
        assert driver.stdout is not None
        cpu0 = tcpu0 = cpu1 = tcpu1 = 0.0
        counts0 = counts1 = (0, 0)
        result: dict[str, float] = {}
        rss = 0
        for line in driver.stdout:
            if line.startswith("MEASURE_START"):
                cpu0, tcpu0 = cpu_seconds([bb_pid]), cpu_seconds(target_pids)
                counts0 = nginx.counters()
            elif line.startswith("MEASURE_END"):
                cpu1, tcpu1 = cpu_seconds([bb_pid]), cpu_seconds(target_pids)
                counts1 = nginx.counters()
                rss = rss_bytes(bb_pid)
            elif line.startswith("{"):
                result = json.loads(line)
        if driver.wait(timeout=30) != 0 or not result:
            raise RuntimeError("load driver failed")
    probes = int(result["completed"])
    seconds = float(result["seconds"])
    label = "flat out" if rate <= 0 else f"{rate:,.0f}/s offered"
    scheme = "HTTPS, " if (target or "").startswith("https:") else ""
    return Row(
        name=f"blackbox_exporter ({scheme}{label}, {concurrency} conns)",
        probes_per_s=probes / seconds,
        cpu_ms_per_probe=(cpu1 - cpu0) * 1000 / max(probes, 1),
        cores=(cpu1 - cpu0) / seconds,
        probes=probes,
        failures=int(result["failed"]),
        rss_mb=rss / 2**20,
        target_cpu_ms_per_probe=(tcpu1 - tcpu0) * 1000 / max(probes, 1),
        extra={
            "nginx_requests": counts1[1] - counts0[1] - 1,
            "nginx_connections": counts1[0] - counts0[0] - 1,
            "driver_lag_p99_ms": result["lag_p99_ms"],
            "loadavg_1m": os.getloadavg()[0],
        },
    )
