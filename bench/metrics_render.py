"""What ``/metrics`` costs at scale: render time, scrape time, size plain and gzipped, before
(prometheus-client families built at every scrape, on the event loop) and after (the text
written directly, state gauges once per evaluation, served from memory by a worker thread).

For each ``--slos`` count: half as many nodes, each with one HTTP probe and two SLOs
(availability, latency) evaluated over the shipped alert windows, probe results of two outcomes
counted, a decision review. Then, each timed ``--repeat`` times (medians):

- ``before``: ``generate_latest`` over the registry with the collectors the agent used before
  (``tests/support/legacy_exposition.py``);
- ``after cold``: ``AgentMetrics.exposition()`` right after a new snapshot (gauges rendered);
- ``after warm``: the same with the gauges already rendered and no counter changed;
- ``after all changed``: gauges already rendered, every probe ran once since the last render
  (every counter and histogram series re-rendered: the worst case of a scrape between
  evaluations);
- ``gzip``: compressing the body (level 1, done once per body);
- ``scrape``: ``GET /metrics`` over loopback from the agent's own HTTP app (a new snapshot
  before each one, so every scrape renders) and the worst delay of a 1 ms ticker on the event
  loop during that scrape (what probes due meanwhile would wait);
- ``scrape cached``: a second ``GET`` within the cache's max age (served from memory).

    .venv/bin/python -m bench.metrics_render --slos 1000,10000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gzip
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from agent.advisor.review import review_nodes
from agent.api.app import create_app
from agent.api.server import AppServer
from agent.model import Node
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts, sli_events
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges
from agent.spec.defaults import default_decision_policy
from exporters.prometheus.metrics import AgentMetrics
from tests.support.builders import WORKBOOK, node, spec_set
from tests.support.fakes import StaticView
from tests.support.legacy_exposition import DecisionCollector, SnapshotCollector

NOW = 1_700_000_000.0


def _observe(metrics: AgentMetrics, n: Node, ok: bool, duration: float) -> None:
    obs = (
        Observation(Outcome.SUCCESS, Reason.OK, duration, status=200)
        if ok
        else Observation(Outcome.FAILURE, Reason.STATUS, duration, status=503)
    )
    result = ProbeResult(n.name, "authorize", NOW, obs)
    metrics.observe_result(n, result, sli_events(n, result))


def _fill(
    slos: int, window_gauges: bool
) -> tuple[AgentMetrics, CollectorRegistry, Snapshot, list[Node]]:
    nodes: list[Node] = [
        node(f"node-{i}", latency_under=timedelta(milliseconds=400)) for i in range(slos // 2)
    ]
    specs = spec_set(*nodes)
    metrics = AgentMetrics(window_gauges=window_gauges)
    statuses = []
    for i, n in enumerate(nodes):
        _observe(metrics, n, True, 0.05 + i % 7 / 10)
        _observe(metrics, n, False, 0.3)
        counts = {
            slo.name: {r: Counts(1000, i % 30) for r in required_ranges(slo, WORKBOOK, NOW)}
            for slo in n.slos
        }
        statuses.append(evaluate_node(n, WORKBOOK, counts, NOW))
    snapshot = Snapshot(NOW, tuple(statuses))
    report, _ = review_nodes(specs.nodes, (), {}, NOW, default_decision_policy(), {})
    metrics.set_specs(specs)
    metrics.set_snapshot(snapshot)
    metrics.set_decisions(report)
    before = CollectorRegistry()
    before.register(metrics.registry)
    legacy = SnapshotCollector()
    legacy.specs, legacy.snapshot = specs, snapshot
    before.register(legacy)
    decisions = DecisionCollector()
    decisions.report = report
    before.register(decisions)
    return metrics, before, snapshot, nodes


def _median_ms(
    fn: Callable[[], object], repeat: int, setup: Callable[[], object] = lambda: None
) -> float:
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def _scrapes(metrics: AgentMetrics, snapshot: Snapshot, repeat: int) -> dict[str, float]:
    app = create_app(
        StaticView(snapshot),
        metrics.exposition,
        metrics.content_type,
        openmetrics=metrics.openmetrics_exposition,
        metrics_version=lambda: metrics.state_version,
    )
    scrape, cached, stalls, gz = [], [], [], []
    server = AppServer(app)
    async with server, httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        for i in range(repeat):
            metrics.set_snapshot(dataclasses.replace(snapshot, evaluated_at=NOW + i + 1))
            worst = 0.0
            done = asyncio.Event()

            async def ticker(done: asyncio.Event = done) -> None:
                nonlocal worst
                while not done.is_set():
                    before = time.perf_counter()
                    await asyncio.sleep(0.001)
                    worst = max(worst, time.perf_counter() - before - 0.001)

            tick = asyncio.create_task(ticker())
            start = time.perf_counter()
            response = await client.get("/metrics", headers={"Accept-Encoding": "identity"})
            scrape.append(time.perf_counter() - start)
            done.set()
            await tick
            stalls.append(worst)
            start = time.perf_counter()
            await client.get("/metrics", headers={"Accept-Encoding": "identity"})
            cached.append(time.perf_counter() - start)
            start = time.perf_counter()
            await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
            gz.append(time.perf_counter() - start)
            assert response.status_code == 200
    return {
        "scrape_ms": statistics.median(scrape) * 1000,
        "loop_stall_ms": statistics.median(stalls) * 1000,
        "scrape_cached_ms": statistics.median(cached) * 1000,
        "scrape_gzip_first_ms": statistics.median(gz) * 1000,
    }


def run(slos: int, repeat: int, window_gauges: bool) -> dict[str, float | int | bool]:
    metrics, before, snapshot, nodes = _fill(slos, window_gauges)
    old = generate_latest(before)
    new = metrics.exposition()
    if window_gauges:
        assert old == new, "the exposition changed"  # byte for byte, or the figures mislead

    def new_snapshot() -> None:
        metrics.set_snapshot(dataclasses.replace(snapshot, evaluated_at=time.time()))

    def every_probe_ran() -> None:  # every counter and histogram series changed
        for n in nodes:
            _observe(metrics, n, True, 0.2)

    row: dict[str, float | int | bool] = {
        "slos": slos,
        "window_gauges": window_gauges,
        "series": sum(1 for line in new.splitlines() if not line.startswith(b"#")),
        "bytes": len(new),
        "gzip_bytes": len(gzip.compress(new, compresslevel=1, mtime=0)),
        "before_ms": _median_ms(lambda: generate_latest(before), repeat),
        "after_cold_ms": _median_ms(metrics.exposition, repeat, new_snapshot),
        "after_warm_ms": _median_ms(metrics.exposition, repeat),
        "after_all_changed_ms": _median_ms(metrics.exposition, repeat, every_probe_ran),
        "gzip_ms": _median_ms(lambda: gzip.compress(new, compresslevel=1, mtime=0), repeat),
        "openmetrics_ms": _median_ms(metrics.openmetrics_exposition, repeat),
    }
    row.update(asyncio.run(_scrapes(metrics, snapshot, repeat)))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", default="1000,10000", help="comma-separated SLO counts")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON line per row")
    args = parser.parse_args()
    for slos in (int(s) for s in args.slos.split(",")):
        for window_gauges in (True, False):
            row = run(slos, args.repeat, window_gauges)
            print(json.dumps(row) if args.json else row, flush=True)


if __name__ == "__main__":
    main()
