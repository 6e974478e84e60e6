from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts, sli_events
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges
from exporters.prometheus.metrics import AgentMetrics
from tests.support.builders import WORKBOOK, node, spec_set
from tests.support.promtool import check_metrics

NOW = 1_700_000_000.0


def _samples(metrics: AgentMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _result(ok: bool, duration: float = 0.1) -> ProbeResult:
    obs = (
        Observation(Outcome.SUCCESS, Reason.OK, duration, status=200)
        if ok
        else Observation(Outcome.FAILURE, Reason.STATUS, duration, status=503)
    )
    return ProbeResult("acme-pay", "authorize", NOW, obs)


def _snapshot() -> Snapshot:
    n = node(latency_under=timedelta(milliseconds=400))
    counts = {}
    for slo in n.slos:
        ranges = required_ranges(slo, WORKBOOK, NOW)
        counts[slo.name] = {label: Counts(1000, 20) for label in ranges}
    return Snapshot(NOW, (evaluate_node(n, WORKBOOK, counts, NOW),))


def test_counters_follow_results_with_design_names_and_labels() -> None:
    metrics = AgentMetrics()
    n = node(latency_under=timedelta(milliseconds=400))
    for ok, duration in [(True, 0.1), (True, 0.5), (False, 0.2)]:
        result = _result(ok, duration)
        metrics.observe_result(n, result, sli_events(n, result))
    samples = _samples(metrics)
    base = (("mode", "orchestrated"), ("node", "acme-pay"), ("probe", "authorize"))
    ok_key = tuple(sorted((*base, ("outcome", "success"), ("reason", "ok"))))
    bad_key = tuple(sorted((*base, ("outcome", "failure"), ("reason", "status"))))
    assert samples[("slo_agent_probe_results_total", ok_key)] == 2
    assert samples[("slo_agent_probe_results_total", bad_key)] == 1
    assert samples[("slo_agent_probe_duration_seconds_count", base)] == 3
    for slo, bad in (("availability", 1), ("latency", 2)):  # 0.5 s is too slow for latency
        key = (("mode", "orchestrated"), ("node", "acme-pay"), ("slo", slo))
        assert samples[("slo_agent_sli_events_total", key)] == 3
        assert samples[("slo_agent_sli_bad_events_total", key)] == bad


def test_snapshot_gauges_and_node_info() -> None:
    metrics = AgentMetrics()
    metrics.set_specs(spec_set(node()))
    metrics.set_snapshot(_snapshot())
    samples = _samples(metrics)
    key = (("node", "acme-pay"), ("slo", "availability"))
    assert samples[("slo_agent_objective_ratio", key)] == 0.999
    # 2% errors against a 0.1% allowance: burn 20 in every window, page tiers fire
    assert samples[("slo_agent_burn_rate", (*key, ("window", "1h")))] == pytest.approx(20.0)
    assert samples[("slo_agent_sli_ratio", (*key, ("window", "30d")))] == pytest.approx(0.98)
    assert samples[("slo_agent_error_budget_remaining_ratio", key)] == pytest.approx(-19.0)
    assert samples[("slo_agent_budget_exhaustion_seconds", key)] == 0.0
    assert samples[("slo_agent_alert_active", tuple(sorted((*key, ("severity", "page")))))] == 1.0
    info = (
        ("capability", "payments"),
        ("mode", "orchestrated"),
        ("node", "acme-pay"),
        ("owner", "checkout"),
        ("partner", "Acme Pay"),
    )
    assert samples[("slo_agent_node_info", info)] == 1.0


def test_no_data_windows_are_absent_not_zero() -> None:
    n = node()
    counts: dict[str, dict[str, Counts]] = {"availability": {}}  # nothing measured yet
    metrics = AgentMetrics()
    metrics.set_snapshot(Snapshot(NOW, (evaluate_node(n, WORKBOOK, counts, NOW),)))
    names = {name for name, _ in _samples(metrics)}
    assert "slo_agent_objective_ratio" in names
    assert "slo_agent_sli_ratio" not in names
    assert "slo_agent_burn_rate" not in names


def test_exposition_passes_promtool_check_metrics() -> None:
    metrics = AgentMetrics()
    n = node(latency_under=timedelta(milliseconds=400))
    metrics.set_specs(spec_set(n))
    for ok in (True, False):
        result = _result(ok)
        metrics.observe_result(n, result, sli_events(n, result))
    metrics.set_snapshot(_snapshot())
    metrics.observe_lag(0.002)
    metrics.count_skipped("max_instances")
    metrics.reload_result(True, NOW)
    done = check_metrics(metrics.exposition())
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""
    assert done.stderr.strip() == ""


def test_each_agent_metrics_has_its_own_registry() -> None:
    a, b = AgentMetrics(), AgentMetrics()
    n = node()
    result = _result(True)
    a.observe_result(n, result, sli_events(n, result))
    assert b"slo_agent_probe_results_total{" not in b.exposition()
    assert b"slo_agent_probe_results_total{" in a.exposition()
