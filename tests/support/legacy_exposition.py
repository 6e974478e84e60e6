"""The exposition collectors the agent used before /metrics was written directly
(prometheus-client families built at every scrape): the reference the hand-written text is
compared with byte for byte (tests/exporters/test_exposition_text.py) and the "before" of
bench/metrics_render.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.advisor.recommend import FLAGS
from agent.advisor.review import DecisionReport
from agent.model import SpecSet
from agent.slo.status import Snapshot
from exporters.prometheus import names


class SnapshotCollector(Collector):
    """Yields the SLO gauges of the current snapshot and the node info of the current specs."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.specs: SpecSet | None = None

    def collect(self) -> Iterable[Metric]:
        yield from self._node_info()
        if self.snapshot is not None:
            yield from self._slo_gauges(self.snapshot)
            yield self._certificates(self.snapshot)

    def _node_info(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            names.NODE_INFO,
            "Static facts about a node: mode, owner, partner and capability.",
            labels=("node", "mode", "owner", "partner", "capability"),
        )
        for n in self.specs.nodes if self.specs else ():
            partner = n.partner.name if n.partner else ""
            info.add_metric((n.name, n.mode.value, n.owner, partner, n.capability), 1)
        yield info

    @staticmethod
    def _certificates(snapshot: Snapshot) -> Metric:
        expiry = GaugeMetricFamily(
            names.TLS_CERT_EXPIRY,
            "Unix time the peer certificate of the probe's last TLS handshake expires (notAfter).",
            labels=("node", "probe"),
        )
        for cert in snapshot.certificates:
            expiry.add_metric((cert.node, cert.probe), cert.not_after)
        return expiry

    @staticmethod
    def _slo_gauges(snapshot: Snapshot) -> Iterator[Metric]:
        objective = GaugeMetricFamily(
            names.OBJECTIVE, "SLO objective as a ratio.", labels=("node", "slo")
        )
        sli = GaugeMetricFamily(
            names.SLI_RATIO,
            "Good events over all events in the window (absent when there is no data).",
            labels=("node", "slo", "window"),
        )
        remaining = GaugeMetricFamily(
            names.BUDGET_REMAINING,
            "Error budget left over the SLO period, as a ratio (negative when overspent).",
            labels=("node", "slo"),
        )
        burn = GaugeMetricFamily(
            names.BURN_RATE,
            "Error ratio in the window divided by the allowed one (1 = on budget).",
            labels=("node", "slo", "window"),
        )
        exhaustion = GaugeMetricFamily(
            names.BUDGET_EXHAUSTION,
            "Seconds until the remaining budget is spent at the current 1h burn rate.",
            labels=("node", "slo"),
        )
        alert = GaugeMetricFamily(
            names.ALERT_ACTIVE,
            "1 while a multi-window burn-rate alert of that severity fires.",
            labels=("node", "slo", "severity"),
        )
        for s in snapshot.slos():
            key = (s.node, s.slo)
            objective.add_metric(key, s.objective)
            for w in s.windows:
                if w.sli is not None:
                    sli.add_metric((*key, w.window), w.sli)
                if w.burn_rate is not None:
                    burn.add_metric((*key, w.window), w.burn_rate)
            if s.budget.remaining_ratio is not None:
                remaining.add_metric(key, s.budget.remaining_ratio)
            if s.exhaustion_seconds is not None:
                exhaustion.add_metric(key, s.exhaustion_seconds)
            for severity in sorted({a.severity for a in s.alerts}):
                active = any(a.firing for a in s.alerts if a.severity == severity)
                alert.add_metric((*key, severity.value), 1.0 if active else 0.0)
        yield from (objective, sli, remaining, burn, exhaustion, alert)


class DecisionCollector(Collector):
    def __init__(self) -> None:
        self.report: DecisionReport | None = None

    def collect(self) -> Iterable[Metric]:
        flag = GaugeMetricFamily(
            names.DECISION_FLAG,
            "1 while the advisor flags the node's operate-or-orchestrate decision for review.",
            labels=("node", "mode", "recommendation"),
        )
        score = GaugeMetricFamily(
            names.DECISION_AXIS_SCORE,
            "The node's score on an axis of the operate-or-orchestrate framework (1 to 5).",
            labels=("node", "axis"),
        )
        report = self.report
        for review in report.reviews if report is not None else ():
            for recommendation in FLAGS:
                active = review.recommendation == recommendation.value
                flag.add_metric((review.node, review.mode.value, recommendation.value), active)
            for axis, axis_score in review.scores.items():
                score.add_metric((review.node, axis.value), axis_score.score)
        yield flag
        yield score
