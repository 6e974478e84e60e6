"""The advisor's gauges, read from the latest decision review at scrape time.

- ``slo_agent_decision_flag{node,mode,recommendation}``: per node, one series for each flag
  (``review: operate``, ``review: orchestrate``, ``reroute``), 1 while that flag is in force;
- ``slo_agent_decision_axis_score{node,axis}``: the node's score (1..5) on each axis.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.advisor.recommend import FLAGS
from agent.advisor.review import DecisionReport
from exporters.prometheus import names


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
