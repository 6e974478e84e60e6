"""The shipped ``slo-agent run`` at thousands of probes per second, with and without
``--probe-workers``: executed against due runs, skips, lag, CPU per probe, RSS.

Every figure comes from the real agent process: it is started as ``python -m agent run`` on
generated specs (one node per probe, two SLOs each, as a partner estate looks) against a local
nginx (HTTP, or HTTPS with ``--https``: the same nginx with a certificate from a throw-away CA),
its counters are read from its own ``/metrics`` at the start and the end of a window after a
warm-up (``slo_agent_probe_results_total``, ``slo_agent_scheduler_skipped_runs_total`` by
reason and ``slo_agent_probe_worker_skipped_runs_total`` by worker, and
``slo_agent_scheduler_lag_seconds``), and its CPU (and that of its probe workers) from
``/proc/<pid>/stat``. The window runs between the times the agent read the counters of two
fresh bodies (``slo_agent_metrics_read_timestamp_seconds``), so due runs (jobs x window /
interval) minus executed runs is a cross-check of the skips the scheduler counted, off by the
runs in flight at either end. ``metrics_fetch_ms`` is a scrape as Prometheus sees it (the
fetch alone: the bench parses only the lines it reads, afterwards); ``--timeline N`` prints
the skips of every N seconds of the warm-up (at start-up, around evaluations). The
configurations run one after the other in the same invocation, so their ratios compare on a
machine shared with other work (the load averages are printed).

    python -m bench.workers --jobs 4000 --workers 1,2
    python -m bench.workers --jobs 1500 --https --workers 1,2
    python -m bench.workers --record-cost    # the agent's CPU per worker result, in process
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.harness import Row, cpu_seconds, family_pids, markdown_table, rss_bytes
from bench.targets import REPO, Nginx, TestCa, ensure_installed
from tests.support.net import free_port, wait_for_port

NODES_PER_FILE = 500


def node_doc(name: str, url: str, interval: str, ca_file: Path | None) -> str:
    tls = f", tls: {{ca_file: {ca_file}}}" if ca_file else ""
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: operated
  owner: bench
  capability: api
  probes:
    - name: health
      interval: {interval}
      http: {{url: "{url}", timeout: {interval}{tls}}}
  slos:
    - {{name: availability, objective: 99.9, window: 28d, sli: {{probe: health}}}}
    - {{name: latency, objective: 99, window: 28d, sli: {{probe: health, latency_under: 250ms}}}}
"""


def write_specs(directory: Path, jobs: int, url: str, interval: str, ca: Path | None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for first in range(0, jobs, NODES_PER_FILE):
        docs = [
            node_doc(f"node-{i:05d}", url, interval, ca)
            for i in range(first, min(jobs, first + NODES_PER_FILE))
        ]
        (directory / f"nodes-{first:05d}.yaml").write_text("---\n".join(docs))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# the families the bench reads; the rest of the exposition (tens of MB at thousands of nodes)
# is skipped without parsing: prometheus-client's parser took ~2.5 s of CPU per 10 MB, and the
# first version of this bench timed it as part of the "scrape" (6-10 s at 4,000 nodes)
WANTED = (
    "slo_agent_probe_results_total",
    "slo_agent_scheduler_skipped_runs_total",
    "slo_agent_scheduler_lag_seconds_bucket",
    "slo_agent_probe_worker",
    "slo_agent_cycles_skipped_total",
    "slo_agent_evaluation_duration_seconds_count",
    "slo_agent_metrics_read_timestamp_seconds",
)


@dataclass(frozen=True)
class Scrape:
    samples: Samples
    started: float  # monotonic, before the request
    ended: float  # monotonic, when the whole body has arrived (before any parsing)
    size: int

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def read_at(self) -> float:
        """Unix time the agent read the counters of this body (it serves bodies from memory)."""
        return self.samples.get(("slo_agent_metrics_read_timestamp_seconds", frozenset()), 0.0)


def fresh_scrape(url: str, timeout: float = 60.0) -> tuple[Scrape, Scrape]:
    """A body whose counters were read after this call began (with ``--probe-workers`` a
    scrape is served the body rendered before it and starts the next render): the first
    fetch and the fresh one."""
    began = time.time()
    first = last = scrape(url)
    deadline = time.monotonic() + timeout
    while last.read_at < began and time.monotonic() < deadline:
        time.sleep(0.05)
        last = scrape(url)
    return first, last


def scrape(url: str) -> Scrape:
    """``/metrics``, timed from the request to the last byte (gzipped); then the wanted lines
    parsed."""
    started = time.monotonic()
    request = urllib.request.Request(f"{url}/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=120) as response:  # gzipped, as Prometheus asks
        body = response.read()
        packed = response.headers.get("Content-Encoding") == "gzip"
    ended = time.monotonic()
    body = gzip.decompress(body) if packed else body
    lines = [
        line
        for line in body.decode().splitlines()
        if line.startswith(WANTED) and "_created" not in line
    ]
    out: Samples = {}
    for family in text_string_to_metric_families("\n".join(lines) + "\n"):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return Scrape(out, started, ended, len(body))


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for (n, ls), v in samples.items():
        if n == name:
            key = dict(ls).get(label, "")
            out[key] = out.get(key, 0.0) + v
    return out


def lag_quantile(before: Samples, after: Samples, q: float) -> float:
    """The q-quantile of the scheduler lag in the window, in ms: the upper bound of the
    histogram bucket where it falls (so an upper estimate, to the bucket's resolution)."""
    name = "slo_agent_scheduler_lag_seconds_bucket"
    a, b = by_label(after, name, "le"), by_label(before, name, "le")
    buckets = sorted(((float(le), a[le] - b.get(le, 0.0)) for le in a), key=lambda x: x[0])
    count = buckets[-1][1] if buckets else 0.0
    for bound, cumulative in buckets:
        if cumulative >= q * count:
            return bound * 1000
    return float("inf")


def cpu_of(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        with suppress(FileNotFoundError):
            out[pid] = cpu_seconds([pid])
    return out


@contextmanager
def agent(specs: Path, workers: int, tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "agent",
        "run",
        str(specs),
        "--store",
        str(tmp / f"store-{workers}.db"),
        "--listen",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--no-tracing",
        "--watch-interval",
        "0s",
        "--probe-workers",
        str(workers),
    ]
    log = (tmp / f"agent-{workers}.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port, timeout=120)
        except TimeoutError:
            log.flush()
            raise RuntimeError((tmp / f"agent-{workers}.log").read_text()[-3000:]) from None
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def skips_by_reason(first: Samples, last: Samples) -> dict[str, int]:
    name = "slo_agent_scheduler_skipped_runs_total"
    before = by_label(first, name, "reason")
    return {r: int(n - before.get(r, 0.0)) for r, n in by_label(last, name, "reason").items()}


def skips_by_worker(first: Samples, last: Samples) -> dict[str, int]:
    """Each worker's skipped runs in the window (``worker/reason``); the agent's own too."""
    name = "slo_agent_probe_worker_skipped_runs_total"
    out: dict[str, int] = {}
    for (n, labels), value in last.items():
        if n == name:
            ls = dict(labels)
            runs = int(value - first.get((n, labels), 0.0))
            if runs:
                out[f"{ls.get('worker', '')}/{ls.get('reason', '')}"] = runs
    return out


def timeline(base: str, began: float, seconds: float, every: float) -> list[str]:
    """Skipped runs by reason in each ``every`` seconds of the warm-up: when skips happen
    (start-up, evaluations, scrapes). Each sample is a scrape, so it costs the agent a render."""
    out: list[str] = []
    previous = scrape(base)
    deadline = time.monotonic() + seconds
    while time.monotonic() + every <= deadline:
        time.sleep(every)
        now = scrape(base)  # with workers: counters as of the previous sample's render
        skips = skips_by_reason(previous.samples, now.samples)
        evaluations = total(now.samples, "slo_agent_evaluation_duration_seconds_count") - total(
            previous.samples, "slo_agent_evaluation_duration_seconds_count"
        )
        out.append(
            f"t={now.ended - began:5.1f}s skipped={dict(sorted(skips.items())) or 0} "
            f"evaluations={int(evaluations)} scrape={now.seconds * 1000:.0f}ms"
        )
        previous = now
    time.sleep(max(0.0, deadline - time.monotonic()))
    return out


def measure(args: argparse.Namespace, url: str, ca: Path | None, workers: int, tmp: Path) -> Row:
    specs = tmp / "specs"
    if not specs.exists():
        write_specs(specs, args.jobs, url, f"{args.interval:g}s", ca)
    load = os.getloadavg()[0]
    began = time.monotonic()
    with agent(specs, workers, tmp) as (proc, base):
        steps: list[str] = []
        if args.timeline > 0:
            steps = timeline(base, began, args.warmup - (time.monotonic() - began), args.timeline)
        else:
            time.sleep(max(0.0, args.warmup - (time.monotonic() - began)))
        pids = family_pids(proc.pid)
        # the window runs between the times the agent read the counters of two fresh bodies
        # (slo_agent_metrics_read_timestamp_seconds); CPU is taken between the fetches
        served0, first = fresh_scrape(base)
        cpu0 = cpu_of(pids)
        load_in = os.getloadavg()
        time.sleep(args.duration)
        cpu1 = cpu_of(pids)
        cpu_window = time.monotonic()
        rss = sum(rss_bytes(p) for p in pids if p in cpu1)
        served1, last = fresh_scrape(base)
        stopped_pids = family_pids(proc.pid)
    seconds = last.read_at - first.read_at
    cpu_seconds_window = cpu_window - first.ended
    cpu = sum(cpu1[p] - cpu0[p] for p in cpu1 if p in cpu0)
    a, z = first.samples, last.samples
    executed = int(
        total(z, "slo_agent_probe_results_total") - total(a, "slo_agent_probe_results_total")
    )
    due = round(args.jobs * seconds / args.interval)
    skips = skips_by_reason(a, z)
    failures = int(
        total(z, "slo_agent_probe_results_total", outcome="failure")
        - total(a, "slo_agent_probe_results_total", outcome="failure")
    )
    restarts = total(z, "slo_agent_probe_worker_restarts_total")
    reasons = {
        reason: int(n - by_label(a, "slo_agent_probe_results_total", "reason").get(reason, 0))
        for reason, n in by_label(z, "slo_agent_probe_results_total", "reason").items()
    }
    scheme = "HTTPS" if ca else "HTTP"
    return Row(
        name=f"slo-agent run --probe-workers {workers} ({scheme}, {args.jobs:,} probes @ "
        f"{args.interval:g}s)",
        probes_per_s=executed / seconds,
        cpu_ms_per_probe=cpu * 1000 / max(executed * cpu_seconds_window / seconds, 1),
        cores=cpu / cpu_seconds_window,
        probes=executed,
        failures=failures,
        expected=due,
        skipped=sum(skips.values()),
        lag_p50_ms=lag_quantile(a, z, 0.50),
        lag_p99_ms=lag_quantile(a, z, 0.99),
        rss_mb=rss / 2**20,
        extra={
            "skipped_by_reason": skips,
            "skipped_by_worker": skips_by_worker(a, z),
            # runs in flight at either end (a probe under way, a worker's batch not yet sent)
            # make this a few hundred either way at thousands of probes/s
            "due_minus_executed": due - executed,
            "reasons": reasons,
            "worker_restarts": restarts,
            "cycles_skipped": by_label(z, "slo_agent_cycles_skipped_total", "loop"),
            "processes": len(pids),
            "same_pids_at_end": sorted(stopped_pids) == sorted(pids),
            "loadavg_before": round(load, 2),
            "loadavg_in_window": [round(x, 2) for x in load_in],
            "window_s": round(seconds, 1),
            # the scrapes as Prometheus sees them (served from memory with workers), and the
            # fresh ones the window is read from (a render waited for)
            "metrics_fetch_ms": [round(served0.seconds * 1000), round(served1.seconds * 1000)],
            "fresh_fetch_ms": [round(first.seconds * 1000), round(last.seconds * 1000)],
            "metrics_mb": round(last.size / 2**20, 1),
            "warmup_timeline": steps,
        },
    )


def record_cost(results: int = 4000, rounds: int = 5) -> None:
    """The agent's share of a worker's result, in process, no network: unpickling a batch,
    decoding and recording each result (SLI events, store buffer, metrics), the store flush,
    and the worker's pickling. Medians of ``rounds`` batches of ``results`` distinct nodes."""
    import pickle
    import statistics

    from agent.probes import Probers
    from agent.probes.result import Observation, Outcome, ProbeResult, Reason
    from agent.runtime.pipeline import ProbePipeline
    from agent.runtime.worker_protocol import Batch, decode_result, encode_result, frame
    from agent.store.sqlite import SqliteStore
    from exporters.prometheus.metrics import AgentMetrics
    from tests.support.builders import node

    nodes = {n.name: n for n in (node(f"node-{i:05d}") for i in range(results))}
    seen = Observation(Outcome.SUCCESS, Reason.OK, 0.002, status=200)
    phases: dict[str, list[float]] = {"pickle": [], "unpickle": [], "record": [], "flush": []}
    with tempfile.TemporaryDirectory(prefix="bench-record-") as tmp:
        store = SqliteStore(Path(tmp) / "store.db")
        pipeline = ProbePipeline(Probers(), store, AgentMetrics(), clock=time.time)
        for _ in range(rounds):
            now = time.time()
            rows = [encode_result(ProbeResult(n, "authorize", now, seen), None) for n in nodes]
            t0 = time.process_time()
            body = frame(Batch(results=rows))
            t1 = time.process_time()
            batch = pickle.loads(body[4:])
            t2 = time.process_time()
            for row in batch.results:
                result, trace_id = decode_result(row)
                pipeline.record(nodes[result.node], result, trace_id)
            t3 = time.process_time()
            store.flush()
            t4 = time.process_time()
            for name, spent in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[name].append(spent * 1e6 / results)
        store.close()
    for name, values in phases.items():
        print(f"{name}: {statistics.median(values):.1f} us per result (median of {rounds})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=4000, help="probes (one node each; default 4000)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between runs (1)")
    ap.add_argument("--workers", default="1,2", help="--probe-workers values to run (1,2)")
    ap.add_argument("--https", action="store_true", help="probe nginx over HTTPS")
    ap.add_argument("--warmup", type=float, default=25.0, help="seconds before the window (25)")
    ap.add_argument("--duration", type=float, default=30.0, help="window seconds (30)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of all configurations (1)")
    ap.add_argument(
        "--timeline",
        type=float,
        default=0.0,
        help="print skipped runs by reason every N seconds of the warm-up (0: off)",
    )
    ap.add_argument(
        "--record-cost", action="store_true", help="only the agent's cost per worker result"
    )
    args = ap.parse_args(argv)
    # SIGTERM to the benchmark stops the agent and nginx it started (their finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.record_cost:
        record_cost()
        return
    ensure_installed()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp_name:
        tmp = Path(tmp_name)
        test_ca = TestCa() if args.https else None  # nginx's TLS port, with a throwaway CA
        target = Nginx(ca=test_ca).start()
        url = target.tls_url if test_ca is not None else target.url
        ca = Path(test_ca.ca_file) if test_ca is not None else None
        try:
            for _ in range(args.repeat):
                for workers in (int(w) for w in args.workers.split(",")):
                    row = measure(args, url, ca, workers, tmp)
                    print(row.to_json(), flush=True)
                    rows.append(row)
        finally:
            target.stop()
            if test_ca is not None:
                test_ca.cleanup()
    print(markdown_table(rows, None))
    for row in rows:
        steps = row.extra.pop("warmup_timeline", [])
        print(f"{row.name}: {json.dumps(row.extra)}")
        for step in steps if isinstance(steps, list) else []:
            print(f"  warm-up {step}")


if __name__ == "__main__":
    main()
