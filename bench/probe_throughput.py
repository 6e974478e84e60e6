"""Headline benchmark: scheduled HTTP probes per second, one fresh connection each.

Runs the agent's own scheduling path — :class:`agent.schedule.scheduler.ProbeScheduler`
(APScheduler 3, one IntervalTrigger job per probe, first runs spread over the interval,
``max_instances=1``, coalescing, misfire grace) — with the agent's whole probe path as the job
body by default (``--body pipeline``: :class:`agent.runtime.pipeline.ProbePipeline` with
:class:`agent.probes.http.HttpProber`, SQLite store and metrics), against a local nginx.
blackbox_exporter probes the same nginx at the same offered rate in the same run, as the
yardstick.

Per configuration it reports, over a fixed window after a warm-up: executed runs against the
runs the schedule called for (the difference is every skipped, missed or coalesced run), start
lag (body start minus scheduled time) p50/p99/max, CPU per probe over all agent processes, RSS and
failures. ``--procs K`` shards the jobs over K worker processes.

    python -m bench.probe_throughput --jobs 2000 --interval 1 --duration 30
    python -m bench.probe_throughput --transport fresh,default --loop uvloop,asyncio
    python -m bench.probe_throughput --scheme https,http --jobs 500 --repeat 3

``--scheme https`` probes the same nginx over TLS (a throwaway CA from ``trustme``; the agent's
check and blackbox_exporter's module both trust that CA, verify the chain and the hostname, and
open a new TCP connection with a full handshake per probe). ``--repeat N`` measures every
(blackbox_exporter, agent) pair N times in the invocation and ends with the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from agent.model import (
    HttpCheck,
    Mode,
    Node,
    Probe,
    ProbeSli,
    RollingWindow,
    Slo,
    SpecSet,
    TlsSettings,
)
from agent.probes import Probers
from agent.probes.http import HttpProber, TransportFactory
from agent.probes.result import ProbeResult
from agent.probes.transport import FreshConnectionTransport
from agent.runtime.evaluator import evaluate_in_steps
from agent.runtime.heap import freeze_long_lived, tune_collector
from agent.runtime.pipeline import ProbePipeline
from agent.schedule import scheduler as scheduler_module
from agent.schedule.scheduler import ProbeScheduler, Target
from agent.schedule.spread import spread_offsets
from agent.spec.defaults import default_alert_windows
from agent.store.sqlite import SqliteStore
from bench.harness import (
    Row,
    cpu_seconds,
    markdown_row,
    measure_blackbox,
    paired_table,
    percentile,
)
from bench.targets import HEALTH_BODY, REPO, BlackboxExporter, Nginx, TestCa, ensure_installed
from exporters.prometheus.metrics import AgentMetrics

TRANSPORTS = ("shipped", "fresh", "default", "aiohttp")
LOOPS = ("uvloop", "asyncio")
BODIES = ("pipeline", "prober", "get", "noop")
SCHEMES = ("http", "https")
EVALUATION_INTERVAL = 10.0  # seconds, the agent's default
STARTUP_ALLOWANCE = 4.0  # default seconds for worker processes to import and schedule their jobs


def transport_factory(name: str) -> TransportFactory | None:
    """The transport the prober's clients use; None keeps the prober's own choice.

    ``shipped``: the prober's own rule (libcurl for https, FreshConnectionTransport for http);
    ``fresh``: FreshConnectionTransport (asyncio + ``ssl``) for both schemes, as shipped before
    the libcurl transport."""
    if name == "shipped":
        return None
    if name == "fresh":
        return FreshConnectionTransport
    if name == "default":
        return None
    if name == "aiohttp":

        def aiohttp_transport(verify: Any) -> httpx.AsyncBaseTransport:
            import aiohttp
            from httpx_aiohttp import AiohttpTransport  # type: ignore[import-not-found,unused-ignore]

            def session() -> aiohttp.ClientSession:
                connector = aiohttp.TCPConnector(force_close=True, limit=0, ssl=verify)
                return aiohttp.ClientSession(connector=connector)

            transport: httpx.AsyncBaseTransport = AiohttpTransport(client=session)
            return transport

        return aiohttp_transport
    raise ValueError(f"unknown transport {name!r}")


def shard_targets(
    url: str, jobs: int, interval: float, shard: int, procs: int, ca_file: str | None = None
) -> dict[str, Target]:
    """The jobs of one shard: job j belongs to shard j mod procs; one node per job. With
    ``ca_file`` the checks trust that CA (the spec's ``tls: {ca_file: ...}``)."""
    targets: dict[str, Target] = {}
    tls = TlsSettings(ca_file=ca_file) if ca_file else None
    for j in range(shard, jobs, procs):
        check = HttpCheck(
            url=url, expect_status=frozenset({200}), body_contains=HEALTH_BODY, tls=tls
        )
        probe = Probe(name="health", interval=timedelta(seconds=interval), check=check)
        node = Node(
            name=f"target-{j:05d}",
            mode=Mode.OPERATED,
            owner="bench",
            capability="bench",
            probes=(probe,),
            slos=(
                Slo("availability", 0.999, RollingWindow(timedelta(days=28)), ProbeSli("health")),
                Slo(
                    "latency",
                    0.99,
                    RollingWindow(timedelta(days=28)),
                    ProbeSli("health", timedelta(milliseconds=300)),
                ),
            ),
        )
        target = Target(node, probe)
        targets[target.key] = target
    return targets


class _FirstCallClock:
    """time.time that remembers its first reading: when ProbeScheduler.apply placed the jobs."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self) -> float:
        now = time.time()
        if self.first is None:
            self.first = now
        return now


@dataclass
class _Window:
    """What one worker saw of runs scheduled inside [t0, t1)."""

    t0: float
    t1: float
    executed: int = 0
    failures: int = 0
    start_lags: list[float] = field(default_factory=list)
    submit_lags: list[float] = field(default_factory=list)
    skips: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    evaluations: int = 0  # SLO evaluations started during the run (pipeline body)
    cpu: list[float] = field(default_factory=list)  # own CPU seconds at t0 and t1
    wall: list[float] = field(default_factory=list)

    def holds(self, scheduled: float) -> bool:
        return self.t0 <= scheduled < self.t1

    # SchedulerTelemetry
    def observe_lag(self, seconds: float) -> None:
        if self.holds(time.time() - seconds):
            self.submit_lags.append(seconds)

    def count_skipped(self, reason: str, runs: int = 1) -> None:
        if self.holds(time.time()):
            self.skips[reason] += runs

    def snapshot(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu.append(usage.ru_utime + usage.ru_stime)
        self.wall.append(time.time())


async def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    interval: float = args.interval
    targets = shard_targets(args.url, args.jobs, interval, args.shard, args.procs, args.ca_file)
    window = _Window(args.t0, args.t0 + args.duration)
    clock = _FirstCallClock()
    results: dict[str, ProbeResult] = {}  # the latest result of every probe, in memory
    starts: dict[str, float] = {}
    prober = HttpProber(transport_factory=transport_factory(args.transport))
    client = None
    pipeline: ProbePipeline | None = None
    store: SqliteStore | None = None
    flusher: asyncio.Task[None] | None = None
    if args.body == "pipeline":  # the agent's whole path: probe, SLI events, store, metrics
        store = SqliteStore(Path(tempfile.mkdtemp(prefix="slo-bench-")) / "store.db")
        metrics = AgentMetrics()
        pipeline = ProbePipeline(Probers(http=prober), store, metrics, clock=time.time)
        specs = SpecSet(
            nodes=tuple(t.node for t in targets.values()),
            alert_windows={"default": default_alert_windows()},
        )

        async def flush_and_evaluate() -> None:
            """As the agent does: flush every second, evaluate every SLO every 10 s."""
            last = time.time()
            while True:
                await asyncio.sleep(1.0)
                await asyncio.to_thread(store.flush)
                if args.evaluate and time.time() - last >= EVALUATION_INTERVAL:
                    last = time.time()
                    snapshot = await evaluate_in_steps(specs, store, last)
                    metrics.set_snapshot(snapshot)
                    window.evaluations += 1

        flusher = asyncio.create_task(flush_and_evaluate())
    if args.body == "get":
        factory = transport_factory(args.transport)
        transport = (
            factory(True)
            if factory is not None
            else httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        )
        client = httpx.AsyncClient(transport=transport)

    def scheduled_time(key: str, now: float) -> float:
        first = starts[key]
        return first + math.floor((now - first) / interval + 1e-6) * interval

    async def body(target: Target) -> None:
        now = time.time()
        scheduled = scheduled_time(target.key, now)
        if args.body == "noop":  # the scheduler's own cost
            await asyncio.sleep(0)
            ok, reason = True, "ok"
        elif pipeline is not None:
            result = await pipeline.run(target)
            ok = result is not None and result.ok
            reason = result.observation.reason.value if result is not None else "error"
        elif client is not None:
            response = await client.get(args.url)
            ok = response.status_code == 200
            reason = "ok" if ok else "status"
        else:
            check = target.probe.check
            assert isinstance(check, HttpCheck)
            observation = await prober.observe(check)
            results[target.key] = ProbeResult(target.node.name, "health", now, observation)
            ok, reason = observation.ok, observation.reason.value
        if window.holds(scheduled):
            window.executed += 1
            window.failures += not ok
            window.reasons[reason] += 1
            window.start_lags.append(now - scheduled)

    slot_ms = float(args.slot_ms)
    spread = _slotted(slot_ms / 1000) if slot_ms else spread_offsets
    if slot_ms:  # what-if: first runs rounded to slots (see --slot-ms)
        vars(scheduler_module)["spread_offsets"] = spread
    scheduler = ProbeScheduler(body, window, clock=clock)
    scheduler.apply(targets)
    assert clock.first is not None
    offsets = spread((key, timedelta(seconds=interval)) for key in targets)
    starts.update({key: clock.first + offset for key, offset in offsets.items()})
    loop = asyncio.get_running_loop()
    loop.call_later(max(0.0, window.t0 - time.time()), window.snapshot)
    loop.call_later(max(0.0, window.t1 - time.time()), window.snapshot)
    # as the agent does (agent/runtime/heap.py): frozen long-lived objects, fewer collections
    tune_collector()
    freeze_long_lived()
    scheduler.start()
    await asyncio.sleep(max(0.0, window.t1 - time.time()) + 0.2)
    scheduler.shutdown()
    await asyncio.sleep(min(2.0, interval))  # let in-flight probes of the window finish
    await prober.aclose()
    if flusher is not None and store is not None:
        flusher.cancel()
        store.close()
    if client is not None:
        await client.aclose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    expected = len(targets) * round(args.duration / interval)
    return {
        "shard": args.shard,
        "jobs": len(targets),
        "expected": expected,
        "executed": window.executed,
        "failures": window.failures,
        "reasons": dict(window.reasons),
        "skips": dict(window.skips),
        "cpu": window.cpu[1] - window.cpu[0],
        "seconds": window.wall[1] - window.wall[0],
        "start_lags_ms": [round(x * 1000, 3) for x in window.start_lags],
        "submit_lags_ms": [round(x * 1000, 3) for x in window.submit_lags],
        "max_rss_mb": usage.ru_maxrss / 1024,
        # time to spare between placing the jobs and the earliest moment allowed for it
        "startup_slack_s": (window.t0 - args.warmup) - (clock.first or 0),
        "evaluations": window.evaluations,
    }


def _slotted(slot: float) -> Callable[[Iterable[tuple[str, timedelta]]], Mapping[str, float]]:
    """spread_offsets with every offset rounded down to a multiple of ``slot`` seconds."""

    def spread(jobs: Iterable[tuple[str, timedelta]]) -> Mapping[str, float]:
        offsets = spread_offsets(jobs)
        return {key: math.floor(offset / slot) * slot for key, offset in offsets.items()}

    return spread


def _worker_main(args: argparse.Namespace) -> None:
    # skips and failures are counted, not logged; shutdown cancels the probes still in flight
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL + 1)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(run_worker(args))
    else:
        result = asyncio.run(run_worker(args))
    Path(args.out).write_text(json.dumps(result))


def measure_agent(
    nginx: Nginx, args: argparse.Namespace, transport: str, loop: str, slot_ms: float, url: str
) -> Row:
    """Start ``args.procs`` workers on one window, wait for them, add up what they saw."""
    duration = max(args.interval, round(args.duration / args.interval) * args.interval)
    t0 = time.time() + args.startup + args.warmup
    common = [
        f"--jobs={args.jobs}",
        f"--interval={args.interval}",
        f"--procs={args.procs}",
        f"--transport={transport}",
        f"--loop={loop}",
        f"--body={args.body}",
        *(["--evaluate"] if args.evaluate else []),
        f"--url={url}",
        *([f"--ca-file={nginx.ca.ca_file}"] if nginx.ca and url.startswith("https:") else []),
        f"--t0={t0}",
        f"--warmup={args.warmup}",
        f"--duration={duration}",
        f"--slot-ms={slot_ms}",
    ]
    accepted0, served0 = nginx.counters()
    target_cpu0 = cpu_seconds(nginx.worker_pids())
    outputs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        files = [Path(tmp) / f"shard-{i}.json" for i in range(args.procs)]
        procs = [
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "bench.probe_throughput", "--worker"),
                    *(f"--shard={i}", f"--out={files[i]}", *common),
                ],
                cwd=REPO,
            )
            for i in range(args.procs)
        ]
        try:
            for proc in procs:
                if proc.wait(timeout=args.startup + args.warmup + duration + 60) != 0:
                    raise RuntimeError(f"worker exited with {proc.returncode}")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        outputs = [json.loads(f.read_text()) for f in files]
    if any(o["startup_slack_s"] < 0 for o in outputs):
        raise RuntimeError("a worker placed its jobs too late for the window; raise --startup")
    accepted1, served1 = nginx.counters()
    target_cpu = cpu_seconds(nginx.worker_pids()) - target_cpu0
    expected = sum(o["expected"] for o in outputs)
    executed = sum(o["executed"] for o in outputs)
    cpu = sum(o["cpu"] for o in outputs)
    seconds = max(o["seconds"] for o in outputs)
    lags = [x for o in outputs for x in o["start_lags_ms"]]
    submit = [x for o in outputs for x in o["submit_lags_ms"]]
    skips: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for o in outputs:
        skips.update(o["skips"])
        reasons.update(o["reasons"])
    scheme = "HTTPS" if url.startswith("https:") else "HTTP"
    setup = f"{scheme}, {args.jobs:,} jobs @ {args.interval:g}s"
    setup += f", {args.procs} procs" if args.procs > 1 else ""
    setup += f", {slot_ms:g} ms slots" if slot_ms else ""
    setup += f", body={args.body}" if args.body != "pipeline" else ""
    setup += ", SLOs evaluated every 10 s" if args.evaluate and args.body == "pipeline" else ""
    return Row(
        name=f"slo-agent {transport} / {loop} ({setup})",
        probes_per_s=executed / seconds,
        cpu_ms_per_probe=cpu * 1000 / max(executed, 1),
        cores=cpu / seconds,
        probes=executed,
        failures=sum(o["failures"] for o in outputs),
        expected=expected,
        skipped=expected - executed,
        lag_p50_ms=percentile(lags, 0.50),
        lag_p99_ms=percentile(lags, 0.99),
        lag_max_ms=max(lags, default=0.0),
        rss_mb=sum(o["max_rss_mb"] for o in outputs),
        extra={
            "skip_events": dict(skips),
            "reasons": dict(reasons),
            "submit_lag_p99_ms": percentile(submit, 0.99),
            # over the whole run, warm-up included: one connection per request = fresh each time
            "nginx_requests_whole_run": served1 - served0 - 1,
            "nginx_connections_whole_run": accepted1 - accepted0 - 1,
            "nginx_cpu_s_whole_run": round(target_cpu, 3),
            "body": args.body,
            "procs": args.procs,
            "startup_slack_s": min(o["startup_slack_s"] for o in outputs),
            "evaluations": sum(o["evaluations"] for o in outputs),
            "loadavg_1m": os.getloadavg()[0],  # other work on the machine shows up here
        },
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2000, help="probe jobs (default 2000)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between runs of a job")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before the window opens")
    ap.add_argument(
        "--startup",
        type=float,
        default=STARTUP_ALLOWANCE,
        help="seconds a worker has to import and place its jobs (raise on a busy machine)",
    )
    ap.add_argument("--duration", type=float, default=30.0, help="measurement window, seconds")
    ap.add_argument("--procs", type=int, default=1, help="worker processes sharing the jobs")
    ap.add_argument(
        "--transport", default="shipped", help="comma-separated: " + ",".join(TRANSPORTS)
    )
    ap.add_argument("--loop", default="uvloop", help="comma-separated: " + ",".join(LOOPS))
    ap.add_argument(
        "--body", choices=BODIES, default="pipeline", help="job body (default pipeline)"
    )
    ap.add_argument(
        "--slot-ms",
        default="0",
        help="comma-separated; what-if: round first-run offsets down to multiples of this many\n"
        "ms so jobs fire in batches (patches agent.schedule's spread in the workers only);\n"
        "0 = the scheduler as it is",
    )
    ap.add_argument("--blackbox-conns", type=int, default=64)
    ap.add_argument("--no-blackbox", action="store_true")
    ap.add_argument(
        "--evaluate",
        action="store_true",
        help="pipeline body: also evaluate every SLO every 10 s, as the agent does",
    )
    ap.add_argument("--json", help="also write every row as a JSON line to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--shard", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument(
        "--scheme",
        default="http",
        help="comma-separated: http, https (same nginx; https verified against a test CA)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure every blackbox/agent pair this many times; report medians",
    )
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--ca-file", help=argparse.SUPPRESS)
    ap.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    # SIGTERM to the benchmark stops what it started (their finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.worker:
        _worker_main(args)
        return
    if args.warmup < args.interval + 1:
        ap.error("--warmup must exceed --interval by a second (every job must have started)")
    schemes = args.scheme.split(",")
    if not set(schemes) <= set(SCHEMES):
        ap.error(f"--scheme: one or more of {', '.join(SCHEMES)}")
    ensure_installed()
    rows: list[Row] = []
    ratios: dict[str, list[float]] = {}
    ca = TestCa() if "https" in schemes else None
    try:
        with Nginx(ca=ca) as nginx, BlackboxExporter(ca=ca) as blackbox:
            for scheme in schemes:
                url = nginx.tls_url if scheme == "https" else nginx.url
                for _ in range(args.repeat):
                    baseline: float | None = None
                    if not args.no_blackbox:
                        bb = measure_blackbox(
                            nginx,
                            blackbox,
                            rate=args.jobs / args.interval,
                            concurrency=args.blackbox_conns,
                            warmup=args.warmup,
                            duration=args.duration,
                            target=url,
                        )
                        rows.append(bb)
                        baseline = bb.cpu_ms_per_probe
                        _report(bb, baseline)
                    for slot_ms in (float(x) for x in args.slot_ms.split(",")):
                        for transport in args.transport.split(","):
                            for loop in args.loop.split(","):
                                row = measure_agent(nginx, args, transport, loop, slot_ms, url)
                                rows.append(row)
                                _report(row, baseline)
                                if baseline:
                                    ratio = row.cpu_ms_per_probe / baseline
                                    ratios.setdefault(row.name, []).append(ratio)
    finally:
        if ca is not None:
            ca.cleanup()
    print()
    print(paired_table(rows))
    if args.repeat > 1 and ratios:
        print()
        print("| configuration | CPU per probe vs blackbox_exporter, each run | median |")
        print("|---|---|---:|")
        for name, values in ratios.items():
            each = ", ".join(f"{v:.2f}" for v in values)
            print(f"| {name} | {each} | {statistics.median(values):.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            f.writelines(r.to_json() + "\n" for r in rows)


def _report(row: Row, baseline: float | None) -> None:
    print(markdown_row(row, baseline), flush=True)
    print(row.to_json(), flush=True)


if __name__ == "__main__":
    main()
