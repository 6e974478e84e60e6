"""The probe worker processes' self-metrics (``--probe-workers``), read from the pool at each
scrape: how many run, how often one had to be started again, and each worker's skipped runs
(the same runs as ``slo_agent_scheduler_skipped_runs_total``, split by worker process)."""

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
        skipped = CounterMetricFamily(
            names.PROBE_WORKER_SKIPPED,
            "Scheduled probe runs a probe worker process did not run, by worker and reason.",
            labels=("worker", "reason"),
        )
        for (worker, reason), runs in sorted(self._workers.skipped.items()):
            skipped.add_metric((str(worker), reason), runs)
        yield skipped


__all__ = ["WorkerCollector"]
