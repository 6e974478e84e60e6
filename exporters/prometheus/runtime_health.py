"""The agent's promises under load, as metrics: how long evaluations take, how far apart the
store's flushes land (what a ``kill -9`` can lose), and periodic cycles skipped because the one
before overran (load shed visibly rather than queued)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from exporters.prometheus import names


class RuntimeHealthMetrics:
    """Registers its metrics on ``registry``; :class:`~exporters.prometheus.metrics.AgentMetrics`
    forwards the runtime's reports here."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.evaluation_duration = Histogram(
            names.EVALUATION_DURATION,
            "Seconds an SLO evaluation cycle took (the count is the evaluations done).",
            buckets=names.EVALUATION_BUCKETS,
            registry=registry,
        )
        self.flush_lag = Histogram(
            names.STORE_FLUSH_LAG,
            "Seconds from the start of the previous successful store flush to the end of this "
            "one: the most results a kill -9 at that moment would have lost.",
            buckets=names.FLUSH_LAG_BUCKETS,
            registry=registry,
        )
        self.store_work = Histogram(
            names.STORE_WORK,
            "Seconds of store work per flush tick by part: write (the flush), wait (the flush "
            "waiting for the file), prune and rollup (upkeep, done in slices after the flush).",
            ("part",),
            buckets=names.STORE_WORK_BUCKETS,
            registry=registry,
        )
        self.cycles_skipped = Counter(
            names.CYCLES_SKIPPED,
            "Periodic cycles (evaluation, flush) not run because the cycle before overran.",
            ("loop",),
            registry=registry,
        )

    def observe_evaluation(self, seconds: float) -> None:
        self.evaluation_duration.observe(seconds)

    def observe_flush_lag(self, seconds: float) -> None:
        self.flush_lag.observe(seconds)

    def observe_store_work(self, part: str, seconds: float) -> None:
        self.store_work.labels(part).observe(seconds)

    def count_cycles_skipped(self, loop: str, cycles: int) -> None:
        self.cycles_skipped.labels(loop).inc(cycles)
