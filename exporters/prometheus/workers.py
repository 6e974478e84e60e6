"""The probe worker processes' self-metrics (``--probe-workers``), read from the pool at each
scrape: how many run, and how often one had to be started again."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.runtime.workers import ProbeWorkers
from exporters.prometheus import names


class WorkerCollector(Collector):
    def __init__(self, workers: ProbeWorkers) -> None:
        self._workers = workers

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            names.PROBE_WORKERS_RUNNING,
            "Probe worker processes running (--probe-workers).",
            value=self._workers.running,
        )
        yield CounterMetricFamily(
            names.PROBE_WORKER_RESTARTS,
            "Probe worker processes started again after one exited while the agent ran.",
            value=self._workers.restarts,
        )


__all__ = ["WorkerCollector"]
