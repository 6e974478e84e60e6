"""Scale benchmark of the shipped agent: the real ``slo-agent run`` process on N generated nodes.

Each node has one HTTP probe of a loopback nginx (every 30-60 s, spread, or ``--interval``) and
two SLOs (availability, latency). The agent runs as its own process (``python -m agent run``) on
an empty store, or on a copy of a pre-built one (``--store``), for ``--duration`` seconds; it is
measured from outside (/proc: RSS and CPU, summed over the agent and any probe workers; HTTP:
/readyz, /metrics and /api/v1/status times and sizes) and from its own metrics (scheduler lag
histogram, skipped runs, evaluation duration and count, store flush lag, cycles skipped, the
store's work per flush tick by part). It is stopped with SIGTERM by PID, and the time it takes
to exit is reported too (SIGKILL after ``--stop-timeout``). A ``--store`` copy is first moved
in time so that its history ends now (:mod:`bench.history_shift`; ``--keep-times`` runs it as
written, i.e. weeks old). A first start on such a copy is an upgrade: the advisor finds no
saved state and replays its reviews of the history (minutes at 10,000 SLOs); ``--warm-start
SECONDS`` first runs the agent on the file until that replay is done, stops it, and measures
the restart, as an agent that has run before (advisor state, window sums, firing tiers saved).

    .venv/bin/python -m bench.scale --nodes 500 --nodes 5000 --duration 180

Figures go to bench/RESULTS.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agent.store.upkeep import PARTS
from bench.harness import cpu_seconds, family_pids, rss_bytes
from bench.history_shift import shift_to
from bench.targets import REPO, Nginx
from tests.support.net import free_port

WARMUP = 20.0  # seconds after ready before the measured window opens (first probes spread)


def node_specs(nodes: int, url: str, interval: str | None, seed: int = 14) -> Iterator[str]:
    """YAML documents of ``nodes`` nodes, each with one probe of ``url`` and two SLOs."""
    rng = random.Random(seed)
    for i in range(nodes):
        every = interval or f"{rng.randint(30, 60)}s"
        yield f"""apiVersion: slo-agent/v1
kind: Node
metadata: {{name: node-{i:05d}}}
spec:
  mode: operated
  owner: bench
  capability: cap-{i % 50:02d}
  probes:
    - name: health
      interval: {every}
      http: {{url: "{url}", expect: {{status: [200]}}}}
  slos:
    - {{name: availability, objective: 99.5, window: 28d, sli: {{probe: health}}}}
    - {{name: latency, objective: 99, window: 28d, sli: {{probe: health, latency_under: 500ms}}}}
"""


def write_specs(directory: Path, nodes: int, url: str, interval: str | None) -> None:
    docs = list(node_specs(nodes, url, interval))
    per_file = 1000
    for start in range(0, len(docs), per_file):
        path = directory / f"nodes-{start // per_file:03d}.yaml"
        path.write_text("---\n".join(docs[start : start + per_file]))


# --- the agent's own metrics ----------------------------------------------------------------

SELF = (
    "slo_agent_scheduler_",
    "slo_agent_probe_results_total",
    "slo_agent_evaluation_",
    "slo_agent_store_flush",
    "slo_agent_cycles_skipped",
    "slo_agent_store_work",
    "slo_agent_metrics_read_timestamp",
)
READ_AT = "slo_agent_metrics_read_timestamp_seconds"  # when a body's counters were read


def self_metrics(text: str) -> dict[str, float]:
    """The agent's self-metric samples (probe results summed over their labels)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(SELF):
            continue
        name, _, value = line.rpartition(" ")
        if name.startswith("slo_agent_probe_results_total"):
            name = "slo_agent_probe_results_total"
        out[name] = out.get(name, 0.0) + float(value)
    return out


def histogram(samples: dict[str, float], name: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of histogram ``name`` without other labels."""
    prefix = f'{name}_bucket{{le="'
    buckets = []
    for key, value in samples.items():
        if key.startswith(prefix):
            bound = key[len(prefix) :].split('"', 1)[0]
            buckets.append((float(bound), value))
    return sorted(buckets)


REPLAYED = "advisor: replayed"
REPLAY_BEGAN = "advisor: no saved state"


def replay_seconds(lines: Sequence[str]) -> float | None:
    """The duration in the advisor's "replayed N reviews in S s" log line (None: no replay
    ended, e.g. a persisted advisor state made it unnecessary, or it was still running)."""
    for line in lines:
        if REPLAYED in line:
            return float(line.rsplit(" in ", 1)[1].split()[0])
    return None


def quantile(before: dict[str, float], after: dict[str, float], name: str, q: float) -> float:
    """Upper bound of the bucket holding the q-quantile of the observations between two scrapes
    (inf when it lies in the last bucket); 0.0 without observations."""
    old = dict(histogram(before, name))
    delta = [(bound, count - old.get(bound, 0.0)) for bound, count in histogram(after, name)]
    if not delta or delta[-1][1] <= 0:
        return 0.0
    total = delta[-1][1]
    return next(bound for bound, count in delta if count >= q * total)


def store_work(before: dict[str, float], after: dict[str, float]) -> dict[str, dict[str, float]]:
    """Part -> mean and p99 (bucket bound) of ``slo_agent_store_work_seconds`` per flush tick
    between two scrapes, in milliseconds."""
    name = "slo_agent_store_work_seconds"
    out: dict[str, dict[str, float]] = {}
    for part in PARTS:
        label = f'{{part="{part}"}}'
        ticks = _diff(before, after, f"{name}_count{label}")
        if not ticks:
            continue
        spent = _diff(before, after, f"{name}_sum{label}")
        mark = f',part="{part}"'  # after le="..." in the exposition

        def unlabelled(samples: dict[str, float], mark: str = mark) -> dict[str, float]:
            return {
                k.replace(mark, ""): v
                for k, v in samples.items()
                if k.startswith(f"{name}_bucket{{") and mark in k
            }

        first, last = unlabelled(before), unlabelled(after)
        p99 = quantile(first, last, name, 0.99)
        out[part] = {
            "mean": round(1000 * spent / ticks, 2),
            "p99": 1000 * p99,
            "total_s": round(spent, 2),
        }
    return out


def _diff(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def _skips(samples: dict[str, float], prefix: str) -> dict[str, float]:
    return {k: v for k, v in samples.items() if k.startswith(prefix)}


# --- one run --------------------------------------------------------------------------------


@dataclass
class ScaleResult:
    nodes: int
    slos: int
    interval: str
    store: str
    duration_s: float
    startup_to_ready_s: float | None = None
    startup_cpu_s: float | None = None  # the agent's CPU seconds until /readyz answered
    processes: int = 1  # the agent and its probe workers: CPU and RSS are their sums
    counter_window_s: float = 0.0  # what the counters' rates are over (see READ_AT)
    rss_max_mb: float = 0.0
    rss_last_mb: float = 0.0
    rss_minutes_mb: list[float] = field(default_factory=list)  # one sample a minute: flat?
    probe_runs: float = 0.0
    runs_per_s: float = 0.0
    expected_runs_per_s: float = 0.0
    cpu_ms_per_run: float = 0.0
    cores: float = 0.0
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    lag_max_bucket_ms: float = 0.0
    # lag p99 per whole minute of the window (from the scrapes): the advisor's replay vs after
    lag_p99_by_minute_ms: list[float] = field(default_factory=list)
    advisor_replay_s: float | None = None  # how long the start-up replay took (its log line)
    # --warm-start: the first start on the file ran this long (until its replay was done), and
    # its replay took this long; the measured run is the restart after it
    warm_start_s: float | None = None
    warm_replay_s: float | None = None
    skipped: dict[str, float] = field(default_factory=dict)
    evaluations: float = 0.0
    evaluation_interval_s: float | None = None  # achieved: window / evaluations in it
    evaluation_mean_s: float | None = None
    evaluation_p99_s: float = 0.0
    flush_lag_p99_s: float = 0.0
    flush_lag_max_bucket_s: float = 0.0
    cycles_skipped: dict[str, float] = field(default_factory=dict)
    # store work per flush tick by part (write, wait, prune, rollup, checkpoint): mean, p99, ms
    store_work_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    metrics_ms: list[float] = field(default_factory=list)
    metrics_mb: float = 0.0
    # the same scrapes asked compressed, right after each plain one (as Prometheus scrapes)
    metrics_gzip_ms: list[float] = field(default_factory=list)
    metrics_gzip_mb: float = 0.0
    status_ms: list[float] = field(default_factory=list)
    status_mb: float = 0.0
    stop_s: float | None = None
    exit_code: int | None = None


def _get(url: str, timeout: float = 60.0, *, gzip: bool = False) -> tuple[float, bytes]:
    """Seconds to fetch ``url`` whole, and the body as sent (``gzip``: asked compressed, as
    Prometheus asks for /metrics)."""
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    started = time.monotonic()
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=timeout
    ) as resp:
        body: bytes = resp.read()
    return time.monotonic() - started, body


def _wait_ready(base: str, proc: subprocess.Popen[bytes], limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    return None


def expected_rate(nodes: int, interval: str | None) -> float:
    """Scheduled probe runs per second of the generated specs."""
    if interval:
        seconds = float(interval.rstrip("s"))
        return nodes / seconds
    rng = random.Random(14)
    return sum(1 / rng.randint(30, 60) for _ in range(nodes))


def agent_command(
    specs: Path,
    db: Path,
    port: int,
    launcher: Sequence[str] = ("-m", "agent"),
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The ``slo-agent run`` command line the benchmarks start: ``specs`` on the store ``db``,
    listening on ``port`` of 127.0.0.1, no spec watching, INFO lines (the advisor replay's end)."""
    return [
        sys.executable,
        *launcher,
        "run",
        str(specs),
        "--store",
        str(db),
        "--listen",
        f"127.0.0.1:{port}",
        "--watch-interval",
        "0s",
        "--log-level",
        "info",
        *extra_args,
    ]


def run_once(
    nodes: int,
    *,
    duration: float,
    interval: str | None,
    store: Path | None,
    scrape_interval: float,
    status_interval: float,
    stop_timeout: float,
    extra_args: Sequence[str] = (),
    agent_root: Path = REPO,
    launcher: Sequence[str] = ("-m", "agent"),
    shift: bool = True,
    history_lag: float = 0.0,
    warmup: float = WARMUP,
    warm_start: float = 0.0,
) -> ScaleResult:
    result = ScaleResult(
        nodes=nodes,
        slos=2 * nodes,
        interval=interval or "30-60s",
        store=str(store) if store else "empty",
        duration_s=duration,
    )
    if store is not None and shift:
        result.store += f" (moved to end {history_lag:g} min ago)"
    elif store is not None:
        result.store += " (times as written)"
    with Nginx() as nginx, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        specs = work / "specs"
        specs.mkdir()
        write_specs(specs, nodes, nginx.url, interval)
        db = work / "agent.db"
        if store is not None:
            shutil.copyfile(store, db)
            if shift:  # history ending now, as an agent running for weeks holds it
                shift_to(db, time.time() - 60 * history_lag)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # the launcher may be bench.traced_agent's, to attribute memory (bench.memory_soak)
        command = agent_command(specs, db, port, launcher, extra_args)
        if warm_start > 0:  # a first start, stopped once its advisor replay is done
            warm = _warm_up(command, agent_root, work, base, warm_start, stop_timeout)
            result.warm_start_s, result.warm_replay_s = warm
        log = (work / "agent.log").open("wb")
        proc = subprocess.Popen(command, cwd=agent_root, stdout=log, stderr=subprocess.STDOUT)
        try:
            result.startup_to_ready_s = _wait_ready(base, proc, limit=max(120.0, duration))
            if result.startup_to_ready_s is None:
                raise RuntimeError(f"agent not ready: {(work / 'agent.log').read_text()[-2000:]}")
            result.startup_cpu_s = round(cpu_seconds(family_pids(proc.pid)), 2)
            _measure(result, proc.pid, base, duration, scrape_interval, status_interval, warmup)
        finally:
            result.stop_s, result.exit_code = _stop(proc, stop_timeout)
            log.close()
            lines = (work / "agent.log").read_text(errors="replace").strip().splitlines()
            result.advisor_replay_s = replay_seconds(lines)
            tail = [line for line in lines if REPLAYED not in line][-5:]
            if tail:
                print(f"agent log tail ({nodes} nodes):", *tail, sep="\n  ", file=sys.stderr)
    result.expected_runs_per_s = round(expected_rate(nodes, interval), 1)
    return result


def _warm_up(
    command: Sequence[str],
    agent_root: Path,
    work: Path,
    base: str,
    limit: float,
    stop_timeout: float,
) -> tuple[float, float | None]:
    """Start the agent on its file and stop it (SIGTERM) once its advisor's start-up replay is
    done (or none began within 30 s of ready, or ``limit`` seconds passed), as an agent that
    has run before: its advisor state, window sums and firing tiers are then in the file.
    Seconds it ran, and the replay's duration (None: no replay ended)."""
    log_path = work / "warm.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=agent_root, stdout=log, stderr=subprocess.STDOUT)
        try:
            ready = _wait_ready(base, proc, limit=limit)
            if ready is None:
                raise RuntimeError(f"agent not ready: {log_path.read_text()[-2000:]}")
            replayed: float | None = None
            while time.monotonic() - started < limit and proc.poll() is None:
                lines = log_path.read_text(errors="replace").splitlines()
                replayed = replay_seconds(lines)
                began = any(REPLAY_BEGAN in line for line in lines)
                if replayed is not None or (not began and time.monotonic() - started > ready + 30):
                    break
                time.sleep(1.0)
            time.sleep(5.0)  # the review after the replay saves the advisor's state
        finally:
            _stop(proc, stop_timeout)
    return round(time.monotonic() - started, 1), replayed


def _measure(
    result: ScaleResult,
    pid: int,
    base: str,
    duration: float,
    scrape_interval: float,
    status_interval: float,
    warmup: float = WARMUP,
) -> None:
    time.sleep(min(warmup, duration / 4))
    elapsed, body = _get(f"{base}/metrics")
    result.metrics_ms.append(round(elapsed * 1000))
    first = self_metrics(body.decode())
    pids = family_pids(pid)  # the agent and its probe workers, if it started any
    result.processes = len(pids)
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    rss: list[float] = []
    minutes: list[float] = []  # the first sample at or after each whole minute of the window
    lag = "slo_agent_scheduler_lag_seconds"
    minute_start, lag_minutes = first, 1  # self-metrics at the last whole minute scraped
    next_scrape = t0 + scrape_interval
    next_status = t0 + min(status_interval, duration / 2)
    while (now := time.monotonic()) < t0 + duration:
        rss.append(sum(rss_bytes(p) for p in pids) / 2**20)
        if now - t0 >= 60 * len(minutes):  # by the clock: a loaded loop takes over 1 s a turn
            minutes.append(rss[-1])
        if now >= next_scrape:
            elapsed, body = _get(f"{base}/metrics")
            result.metrics_ms.append(round(elapsed * 1000))
            result.metrics_mb = round(len(body) / 2**20, 1)
            elapsed, packed = _get(f"{base}/metrics", gzip=True)
            result.metrics_gzip_ms.append(round(elapsed * 1000))
            result.metrics_gzip_mb = round(len(packed) / 2**20, 1)
            next_scrape += scrape_interval
            if now - t0 >= 60 * lag_minutes:
                sample = self_metrics(body.decode())
                result.lag_p99_by_minute_ms.append(1000 * quantile(minute_start, sample, lag, 0.99))
                minute_start, lag_minutes = sample, lag_minutes + 1
        if now >= next_status:
            elapsed, body = _get(f"{base}/api/v1/status")
            result.status_ms.append(round(elapsed * 1000))
            result.status_mb = round(len(body) / 2**20, 1)
            next_status += status_interval
        time.sleep(1.0)
    elapsed, body = _get(f"{base}/metrics")
    result.metrics_ms.append(round(elapsed * 1000))
    result.metrics_mb = round(len(body) / 2**20, 1)
    last = self_metrics(body.decode())
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pids) - cpu0
    # the counters' own window: with probe workers a body holds counters read at the scrape
    # before (up to a scrape interval old), so the wall window would undercount rates
    window = last[READ_AT] - first[READ_AT] if READ_AT in first and READ_AT in last else wall
    result.counter_window_s = round(window, 1)
    runs = _diff(first, last, "slo_agent_probe_results_total")
    result.rss_max_mb = round(max(rss), 1)
    result.rss_last_mb = round(rss[-1], 1)
    result.rss_minutes_mb = [round(mb, 1) for mb in minutes]
    result.probe_runs = runs
    result.runs_per_s = round(runs / window, 1)
    result.cores = round(cpu / wall, 2)
    result.cpu_ms_per_run = round(1000 * (cpu / wall) / (runs / window), 2) if runs else 0.0
    result.lag_p50_ms = 1000 * quantile(first, last, lag, 0.50)
    result.lag_p99_ms = 1000 * quantile(first, last, lag, 0.99)
    result.lag_max_bucket_ms = 1000 * quantile(first, last, lag, 1.0)
    skipped = "slo_agent_scheduler_skipped_runs_total"
    result.skipped = {
        k[len(skipped) :]: v - first.get(k, 0.0) for k, v in _skips(last, skipped).items()
    }
    evaluation = "slo_agent_evaluation_duration_seconds"
    result.evaluations = _diff(first, last, f"{evaluation}_count")
    if result.evaluations:
        result.evaluation_interval_s = round(window / result.evaluations, 1)
        eval_sum = _diff(first, last, f"{evaluation}_sum")
        result.evaluation_mean_s = round(eval_sum / result.evaluations, 3)
    result.evaluation_p99_s = quantile(first, last, evaluation, 0.99)
    flush = "slo_agent_store_flush_lag_seconds"
    result.flush_lag_p99_s = quantile(first, last, flush, 0.99)
    result.flush_lag_max_bucket_s = quantile(first, last, flush, 1.0)
    result.store_work_ms = store_work(first, last)
    cycles = "slo_agent_cycles_skipped_total"
    result.cycles_skipped = {
        k[len(cycles) :]: v - first.get(k, 0.0) for k, v in _skips(last, cycles).items()
    }


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> tuple[float | None, int | None]:
    """SIGTERM by PID; seconds until it exited and its exit code (None: killed after
    ``timeout``)."""
    if proc.poll() is not None:
        return 0.0, proc.returncode
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        return None, None
    return round(time.monotonic() - started, 2), code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, action="append", help="nodes (2 SLOs each)")
    parser.add_argument("--duration", type=float, default=120.0, help="measured seconds")
    parser.add_argument("--interval", help="probe interval of every node (default: 30-60 s)")
    parser.add_argument("--store", type=Path, help="pre-built store file (copied; default: empty)")
    parser.add_argument("--scrape-interval", type=float, default=15.0, help="/metrics, seconds")
    parser.add_argument("--status-interval", type=float, default=60.0, help="status API, s")
    parser.add_argument("--stop-timeout", type=float, default=60.0, help="SIGTERM to SIGKILL")
    parser.add_argument(
        "--agent-root",
        type=Path,
        default=REPO,
        help="run the agent of this checkout (e.g. a `git worktree` of main, to compare)",
    )
    parser.add_argument(
        "--keep-times",
        action="store_true",
        help="run on the --store copy as written (default: moved in time to end now)",
    )
    parser.add_argument(
        "--history-lag",
        type=float,
        default=0.0,
        help="minutes before now the moved history ends: 90 has the agent roll an hour and a"
        " half up from its start, as after a restart (default 0)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=WARMUP,
        help=f"seconds after ready before measuring (default {WARMUP:g})",
    )
    parser.add_argument(
        "--warm-start",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first start the agent on the file and stop it once its advisor's start-up replay"
        " is done (at most SECONDS), then measure the restart: an agent that has run before"
        " (default 0: measure the first start)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("agent_args", nargs="*", help="extra `slo-agent run` options (after --)")
    args = parser.parse_args(argv)
    # SIGTERM to the benchmark stops the agent and nginx it started (their finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.duration > 3600:
        parser.error("--duration: at most 3600 seconds")
    results = []
    for nodes in args.nodes or [500]:
        result = run_once(
            nodes,
            duration=args.duration,
            interval=args.interval,
            store=args.store,
            scrape_interval=args.scrape_interval,
            status_interval=args.status_interval,
            stop_timeout=args.stop_timeout,
            extra_args=args.agent_args,
            agent_root=args.agent_root,
            shift=not args.keep_times,
            history_lag=args.history_lag,
            warmup=args.warmup,
            warm_start=args.warm_start,
        )
        print(json.dumps(asdict(result)), flush=True)
        results.append(asdict(result))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
