"""The series budget README documents ("Series budget"): what one node with one HTTP probe and two
SLOs costs, per family, at the default and with --no-metrics-window-gauges, counted in the
real exposition after a success and a failure, an evaluation and a decision review."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from agent.advisor.policy import Axis
from agent.advisor.recommend import FLAGS
from agent.advisor.review import review_nodes
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts, sli_events
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges
from agent.spec.defaults import default_decision_policy
from exporters.prometheus import names
from exporters.prometheus.metrics import AgentMetrics
from tests.support.builders import WORKBOOK, node, spec_set

NOW = 1_700_000_000.0
NODES = 3


def _series(window_gauges: bool) -> Counter[str]:
    """Series per family (``_total``/``_bucket``/... folded into their family) for NODES nodes."""
    nodes = [node(f"n{i}", latency_under=timedelta(milliseconds=400)) for i in range(NODES)]
    metrics = AgentMetrics(window_gauges=window_gauges)
    statuses = []
    for n in nodes:
        for obs in (
            Observation(Outcome.SUCCESS, Reason.OK, 0.1, status=200),
            Observation(Outcome.FAILURE, Reason.STATUS, 0.2, status=503),
        ):
            result = ProbeResult(n.name, "authorize", NOW, obs)
            metrics.observe_result(n, result, sli_events(n, result))
        counts = {
            slo.name: {r: Counts(100, 1) for r in required_ranges(slo, WORKBOOK, NOW)}
            for slo in n.slos
        }
        statuses.append(evaluate_node(n, WORKBOOK, counts, NOW))
    specs = spec_set(*nodes)
    metrics.set_specs(specs)
    metrics.set_snapshot(Snapshot(NOW, tuple(statuses)))
    metrics.set_decisions(review_nodes(specs.nodes, (), {}, NOW, default_decision_policy(), {})[0])
    out: Counter[str] = Counter()
    for line in metrics.exposition().decode().splitlines():
        if line.startswith("#") or 'node="' not in line:
            continue  # the agent's own series (lag, skips, ...) are per agent, not per node
        name = line.split("{")[0]
        out[name] += 1
    return out


def _per_node(series: Counter[str]) -> dict[str, float]:
    return {name: count / NODES for name, count in series.items()}


def test_series_per_node_at_the_default_and_without_window_gauges() -> None:
    windows = len(required_ranges(node().slos[0], WORKBOOK, NOW))  # 8 with the shipped tiers
    slos, probes, outcomes = 2, 1, 2  # two SLOs, one probe, a success and a failure seen
    buckets = len(names.DURATION_BUCKETS) + 1  # and +Inf
    severities = len({tier.severity for tier in WORKBOOK.tiers})
    budget = {
        f"{names.NODE_INFO}": 1,
        f"{names.PROBE_RESULTS}_total": probes * outcomes,
        f"{names.PROBE_RESULTS}_created": probes * outcomes,
        f"{names.PROBE_DURATION}_bucket": probes * buckets,
        f"{names.PROBE_DURATION}_count": probes,
        f"{names.PROBE_DURATION}_sum": probes,
        f"{names.PROBE_DURATION}_created": probes,
        f"{names.SLI_EVENTS}_total": slos,
        f"{names.SLI_EVENTS}_created": slos,
        f"{names.SLI_BAD_EVENTS}_total": slos,
        f"{names.SLI_BAD_EVENTS}_created": slos,
        names.OBJECTIVE: slos,
        names.BUDGET_REMAINING: slos,
        names.BUDGET_EXHAUSTION: slos,
        names.ALERT_ACTIVE: slos * severities,
        names.DECISION_FLAG: len(FLAGS),
        names.DECISION_AXIS_SCORE: len(Axis),
    }
    lean = _per_node(_series(window_gauges=False))
    assert lean == budget
    full = _per_node(_series(window_gauges=True))
    assert full == {**budget, names.SLI_RATIO: slos * windows, names.BURN_RATE: slos * windows}
    # the figures README's table gives for this node
    assert (sum(full.values()), sum(lean.values())) == (85, 53)
