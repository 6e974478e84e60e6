"""The hand-written exposition text is byte for byte what prometheus-client printed for the same
state (the collectors below are the ones the agent used before, kept here as the reference),
in both formats, with label values that need escaping; and the window gauges can be left out."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from agent.advisor.review import DecisionReport, review_nodes
from agent.model import Partner, SpecSet
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.certificates import CertificateStatus
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts, sli_events
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges
from agent.spec.defaults import default_decision_policy
from exporters.prometheus import names
from exporters.prometheus.metrics import AgentMetrics
from tests.support.builders import WORKBOOK, node, spec_set
from tests.support.legacy_exposition import DecisionCollector, SnapshotCollector
from tests.support.promtool import check_metrics

NOW = 1_700_000_000.0
ODD = 'a "quoted" \\ back\nslash'  # every character the label-value rules escape


def _state() -> tuple[SpecSet, Snapshot, DecisionReport]:
    plain = node("acme-pay", latency_under=timedelta(milliseconds=400))
    odd = dataclasses.replace(node("odd-pay"), owner=ODD, partner=Partner(ODD))
    specs = spec_set(plain, odd)
    statuses = []
    for n, (total, bad) in ((plain, (1000, 20)), (odd, (500, 0))):
        counts = {
            slo.name: {label: Counts(total, bad) for label in required_ranges(slo, WORKBOOK, NOW)}
            for slo in n.slos
        }
        statuses.append(evaluate_node(n, WORKBOOK, counts, NOW))
    certs = (CertificateStatus("acme-pay", ODD, NOW + 86400 * 3, 86400 * 14),)
    snapshot = Snapshot(NOW, tuple(statuses), certificates=certs)
    report, _ = review_nodes(specs.nodes, (), {}, NOW, default_decision_policy(), {})
    return specs, snapshot, report


def _metrics(window_gauges: bool = True) -> tuple[AgentMetrics, CollectorRegistry]:
    # one read time for both renders (each sets it when it copies the counters)
    metrics = AgentMetrics(window_gauges=window_gauges, clock=lambda: 1_800_000_000.0)
    specs, snapshot, report = _state()
    for n in specs.nodes:
        for ok in (True, False, True):
            obs = (
                Observation(Outcome.SUCCESS, Reason.OK, 0.1, status=200)
                if ok
                else Observation(Outcome.FAILURE, Reason.STATUS, 0.7, status=503)
            )
            result = ProbeResult(n.name, "authorize", NOW, obs)
            metrics.observe_result(n, result, sli_events(n, result), trace_id="ab" * 16)
    metrics.observe_lag(0.003)
    metrics.count_skipped("max_instances")
    metrics.set_specs(specs)
    metrics.set_snapshot(snapshot)
    metrics.set_decisions(report)
    reference = CollectorRegistry()
    reference.register(metrics.registry)  # the counters and histograms, unchanged
    snapshots = SnapshotCollector()
    snapshots.specs, snapshots.snapshot = specs, snapshot
    reference.register(snapshots)
    decisions = DecisionCollector()
    decisions.report = report
    reference.register(decisions)
    return metrics, reference


def test_the_prometheus_text_is_what_prometheus_client_printed() -> None:
    metrics, reference = _metrics()
    ours = metrics.exposition()
    assert ours == generate_latest(reference)
    # again after some series changed and others did not (their lines are reused)
    specs, _, _ = _state()
    changed = specs.nodes[1]
    result = ProbeResult(changed.name, "authorize", NOW, Observation(Outcome.SUCCESS, Reason.OK, 2))
    metrics.observe_result(changed, result, sli_events(changed, result))
    metrics.count_skipped("missed")
    again = metrics.exposition()
    assert again != ours
    assert again == generate_latest(reference)
    assert b'owner="a \\"quoted\\" \\\\ back\\nslash"' in ours
    assert b"slo_agent_decision_flag{" in ours
    assert b"slo_agent_sli_ratio{" in ours


def test_the_openmetrics_text_is_what_prometheus_client_printed() -> None:
    metrics, reference = _metrics()
    ours = metrics.openmetrics_exposition()
    theirs: bytes = generate_openmetrics(reference)  # type: ignore[no-untyped-call]
    assert ours == theirs
    assert b'# {trace_id="' in ours
    assert ours.endswith(b"# EOF\n")
    # again after one series changed (a new exemplar) and the others did not
    specs, _, _ = _state()
    changed = specs.nodes[0]
    result = ProbeResult(changed.name, "authorize", NOW, Observation(Outcome.SUCCESS, Reason.OK, 9))
    metrics.observe_result(changed, result, sli_events(changed, result), trace_id="cd" * 16)
    again = metrics.openmetrics_exposition()
    assert again != ours
    assert b'# {trace_id="' + b"cd" * 16 in again
    assert again == generate_openmetrics(reference)  # type: ignore[no-untyped-call]


def _families(text: bytes) -> set[str]:
    return {
        line.split("{")[0].split(" ")[0] for line in text.decode().splitlines() if line[:1] != "#"
    }


def test_without_window_gauges_only_the_per_window_families_go() -> None:
    full, _ = _metrics()
    lean, _ = _metrics(window_gauges=False)
    assert _families(full.exposition()) - _families(lean.exposition()) == {
        names.SLI_RATIO,
        names.BURN_RATE,
    }
    assert _families(lean.exposition()) < _families(full.exposition())
    done = check_metrics(lean.exposition())
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_state_gauges_are_rendered_once_per_change() -> None:
    metrics, _ = _metrics()
    first = metrics.gauges.text()
    renders = metrics.gauges.renders
    version = metrics.state_version
    assert metrics.gauges.text() == first
    metrics.gauges.text(openmetrics=True)
    assert metrics.gauges.renders == renders  # nothing new, either format: not rendered again
    _specs, snapshot, _ = _state()
    metrics.set_snapshot(dataclasses.replace(snapshot, evaluated_at=NOW + 10))
    assert metrics.state_version != version
    metrics.gauges.text()
    assert metrics.gauges.renders == renders + 1  # only the snapshot's part, once


def test_in_the_background_a_new_snapshot_is_rendered_before_the_scrape_asks() -> None:
    metrics = AgentMetrics(background=True)
    specs, snapshot, report = _state()
    metrics.set_specs(specs)
    metrics.set_snapshot(snapshot)
    metrics.set_decisions(report)
    deadline = time.monotonic() + 30
    while metrics.gauges.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not metrics.gauges.busy
    rendered = metrics.gauges.rendered()
    assert rendered is not None
    assert b"slo_agent_decision_flag{" in rendered.encode()
    renders = metrics.gauges.renders
    assert metrics.gauges.text() == rendered
    assert metrics.gauges.text(openmetrics=True) == metrics.gauges.rendered(openmetrics=True)
    assert metrics.gauges.renders == renders  # the scrape renders nothing: joins the parts
