"""The agent's Prometheus exposition on its own registry (never the global one).

Counters and histograms are updated as results arrive, so any Prometheus can compute SLIs from
them; SLO gauges (objective, SLI, budget, burn, alerts), node info and the advisor's gauges are
read from the latest immutable :class:`~agent.slo.status.Snapshot`, spec set and review, their
text rendered once per change (:mod:`exporters.prometheus.gauges`). Both text formats are
written directly (:mod:`exporters.prometheus.text`), byte for byte what prometheus-client
prints, except the few families prometheus-client's own metrics hold (journeys, self-metrics).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import (
    CONTENT_TYPE_LATEST as OPENMETRICS_CONTENT_TYPE,
)
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.registry import Collector

from agent.advisor.review import DecisionReport
from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.model import JOURNEY_MODE, Journey, Node, SpecSet
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.slo.status import Snapshot
from exporters.prometheus import names
from exporters.prometheus.gauges import StateGauges
from exporters.prometheus.runtime_health import RuntimeHealthMetrics
from exporters.prometheus.tallies import (
    CounterTally,
    HistogramCell,
    HistogramTally,
    TallyCollector,
)


class AgentMetrics:
    """Every metric the agent exposes, on a registry of its own."""

    content_type = CONTENT_TYPE_LATEST
    openmetrics_content_type = OPENMETRICS_CONTENT_TYPE

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        window_gauges: bool = True,
        background: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``window_gauges``: expose ``slo_agent_sli_ratio`` and ``slo_agent_burn_rate`` per
        window (``--metrics-window-gauges``). ``background``: render the state gauges in a
        thread as soon as they are set (the agent does; tests render on demand). ``clock``: when
        the counters were read (``slo_agent_metrics_read_timestamp_seconds``)."""
        self.registry = registry if registry is not None else CollectorRegistry()
        # prometheus-client's own metrics, after the tallies in the exposition
        self._client = CollectorRegistry()
        r = self._client
        # the per-probe path: plain numbers under one lock (see exporters/prometheus/tallies.py)
        self.probe_results = CounterTally(
            names.PROBE_RESULTS,
            "Probe runs by outcome and reason.",
            (*names.PROBE_LABELS, "outcome", "reason"),
        )
        self.probe_duration = HistogramTally(
            names.PROBE_DURATION,
            "Probe duration in seconds, failures included.",
            names.PROBE_LABELS,
            names.DURATION_BUCKETS,
        )
        self.sli_events = CounterTally(
            names.SLI_EVENTS, "SLI events (probe runs counted by an SLO).", names.SLI_LABELS
        )
        self.sli_bad_events = CounterTally(
            names.SLI_BAD_EVENTS, "SLI events that missed the SLO.", names.SLI_LABELS
        )
        self.scheduler_lag = HistogramTally(
            names.SCHEDULER_LAG,
            "Delay between a probe's scheduled and actual start, seconds.",
            (),
            names.LAG_BUCKETS,
        )
        self._tallies = TallyCollector(
            (
                self.probe_results,
                self.probe_duration,
                self.sli_events,
                self.sli_bad_events,
                self.scheduler_lag,
            ),
            clock,
        )
        self.registry.register(self._tallies)
        self._lag = self.scheduler_lag.cell()
        self.scheduler_skipped = Counter(
            names.SCHEDULER_SKIPPED,
            "Scheduled probe runs that did not run (max_instances, missed, coalesced).",
            ("reason",),
            registry=r,
        )
        self.export_failures = Counter(
            names.EXPORT_FAILURES, "Failed exports per exporter.", ("exporter",), registry=r
        )
        self.spans_exported = Counter(
            names.SPANS_EXPORTED, "Trace spans accepted by the trace collector.", registry=r
        )
        self.spans_dropped = Counter(
            names.SPANS_DROPPED,
            "Trace spans lost: export queue full, export failed, or left at shutdown.",
            ("reason",),
            registry=r,
        )
        self.store_flush_failures = Counter(
            names.STORE_FLUSH_FAILURES,
            "Store flushes that failed (data kept for retry).",
            registry=r,
        )
        self.reload_success = Gauge(
            names.SPEC_RELOAD_SUCCESS, "1 if the last spec (re)load succeeded, else 0.", registry=r
        )
        self.reload_timestamp = Gauge(
            names.SPEC_RELOAD_TIMESTAMP, "Unix time of the last successful spec load.", registry=r
        )
        self.evaluation_timestamp = Gauge(
            names.EVALUATION_TIMESTAMP, "Unix time of the last SLO evaluation.", registry=r
        )
        self.journey_duration = Histogram(
            names.JOURNEY_DURATION,
            "Journey run duration in seconds (the whole run), failed runs included.",
            names.JOURNEY_LABELS,
            buckets=names.DURATION_BUCKETS,
            registry=r,
        )
        self.journey_step_duration = Histogram(
            names.JOURNEY_STEP_DURATION,
            "Duration in seconds of one step (hop) of a journey run, its failover included.",
            names.JOURNEY_STEP_LABELS,
            buckets=names.DURATION_BUCKETS,
            registry=r,
        )
        self.journey_hop_blame = Counter(
            names.JOURNEY_HOP_BLAME,
            "Bad journey runs blamed on a hop (a run blamed on k hops counts 1/k for each).",
            names.BLAME_LABELS,
            registry=r,
        )
        self.read_timestamp = Gauge(
            names.METRICS_READ_TIMESTAMP,
            "Unix time the counters and histograms of this exposition were read (a body is "
            "served from memory, so it can be older than the scrape).",
            registry=r,
        )
        self.read_timestamp.set_function(lambda: self._tallies.read_at)
        self.health = RuntimeHealthMetrics(r)  # evaluation duration, flush lag, cycles skipped
        self.registry.register(self._client)
        self.gauges = StateGauges(window_gauges, background)
        # label values -> the cells they update, so the hot path builds no label tuples twice
        self._result_cells: dict[tuple[str, ...], tuple[list[float], HistogramCell]] = {}
        self._sli_cells: dict[tuple[str, str], tuple[list[float], list[float]]] = {}

    def register(self, collector: Collector) -> None:
        """Expose ``collector``'s metrics too (rendered by prometheus-client, per scrape)."""
        self._client.register(collector)

    # --- hot path ---------------------------------------------------------------------------

    def observe_result(
        self,
        node: Node,
        result: ProbeResult,
        events: Sequence[SliEvent],
        trace_id: str | None = None,
    ) -> None:
        obs = result.observation
        # StrEnum members hash and compare as their values, so the key finds the cells without
        # reading ``.value`` (a property call each) on every run; the cells get plain strings.
        key = (node.name, result.probe, node.mode, obs.outcome, obs.reason)
        with self._tallies.lock:
            cells = self._result_cells.get(key)
            if cells is None:
                labels = tuple(str(value) for value in key)
                cells = (self.probe_results.cell(labels), self.probe_duration.cell(labels[:3]))
                self._result_cells[key] = cells
            cells[0][0] += 1
            if trace_id is None:
                cells[1].observe(obs.duration)
            else:  # shown in OpenMetrics exposition only
                cells[1].observe(obs.duration, {"trace_id": trace_id})
            self._count_events(events, node.mode)

    def observe_journey(
        self,
        journey: Journey,
        result: JourneyResult,
        events: Sequence[SliEvent],
        blames: Sequence[Blame],
    ) -> None:
        duration = self.journey_duration.labels(journey.name)
        if result.trace_id is None:
            duration.observe(result.duration)
        else:  # shown in OpenMetrics exposition only
            duration.observe(result.duration, exemplar={"trace_id": result.trace_id})
        for step in result.steps:
            hop = (journey.name, step.step, step.node)
            self.journey_step_duration.labels(*hop).observe(step.duration)
        with self._tallies.lock:
            self._count_events(events, JOURNEY_MODE)
        for blame in blames:
            key = (blame.journey, blame.node, blame.mode, blame.reason)
            self.journey_hop_blame.labels(*key).inc(blame.share)

    def _count_events(self, events: Sequence[SliEvent], mode: str) -> None:
        """Count SLI events; the caller holds the tallies' lock."""
        for event in events:
            sli_key = (event.series, mode)
            cells = self._sli_cells.get(sli_key)
            if cells is None:
                node_name, slo_name = event.series.split("/", 1)
                labels = (node_name, slo_name, str(mode))
                cells = (self.sli_events.cell(labels), self.sli_bad_events.cell(labels))
                self._sli_cells[sli_key] = cells
            cells[0][0] += 1
            if not event.good:
                cells[1][0] += 1

    # --- state from the agent -----------------------------------------------------------------

    def set_specs(self, specs: SpecSet) -> None:
        self.gauges.specs = specs
        self.gauges.changed()

    def set_decisions(self, report: DecisionReport) -> None:
        self.gauges.report = report
        self.gauges.changed()

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self.gauges.snapshot = snapshot
        self.evaluation_timestamp.set(snapshot.evaluated_at)
        self.gauges.changed()

    def observe_lag(self, seconds: float) -> None:
        with self._tallies.lock:
            self._lag.observe(seconds)

    def count_skipped(self, reason: str, runs: int = 1) -> None:
        self.scheduler_skipped.labels(reason).inc(runs)

    def count_export_failure(self, exporter: str) -> None:
        self.export_failures.labels(exporter).inc()

    def count_spans_exported(self, spans: int) -> None:
        self.spans_exported.inc(spans)

    def count_spans_dropped(self, reason: str, spans: int) -> None:
        self.spans_dropped.labels(reason).inc(spans)

    def count_flush_failure(self) -> None:
        self.store_flush_failures.inc()

    def observe_evaluation(self, seconds: float) -> None:
        self.health.observe_evaluation(seconds)

    def observe_flush_lag(self, seconds: float) -> None:
        self.health.observe_flush_lag(seconds)

    def observe_store_work(self, part: str, seconds: float) -> None:
        self.health.observe_store_work(part, seconds)

    def count_cycles_skipped(self, loop: str, cycles: int) -> None:
        self.health.count_cycles_skipped(loop, cycles)

    def reload_result(self, ok: bool, at: float) -> None:
        self.reload_success.set(1 if ok else 0)
        if ok:
            self.reload_timestamp.set(at)

    @property
    def state_version(self) -> tuple[int, int, int]:
        """Changes whenever new specs, a new snapshot or a new review is set."""
        return self.gauges.version

    def exposition(self) -> bytes:
        """The Prometheus text format, now (the state gauges' text is reused until they change).
        Safe to call from any thread: the probe path waits only while the tallies are copied."""
        # one join, no intermediate copy of the first parts (~14 MB at 10,000 SLOs)
        tallies = self._tallies.text().encode()
        return b"".join((tallies, generate_latest(self._client), self.gauges.text().encode()))

    def openmetrics_exposition(self) -> bytes:
        """The OpenMetrics text format: what ``exposition`` holds, plus exemplars."""
        tallies = self._tallies.text(openmetrics=True).encode()  # first: it sets read_at
        client: bytes = generate_openmetrics(self._client)  # type: ignore[no-untyped-call]
        eof = b"# EOF\n"
        client = client[: -len(eof)] if client.endswith(eof) else client
        return b"".join((tallies, client, self.gauges.text(openmetrics=True).encode(), eof))
