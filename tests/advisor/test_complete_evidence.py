"""Advisor scenarios where every run is known: the runs are recorded into a real store (raw
results sampled as in production: every failure, one success per probe per minute) and the
advisor must quote figures that count every one of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agent.advisor.review import DecisionReport
from agent.probes.result import Reason
from agent.runtime.advice import policy_of, review_at
from agent.runtime.evaluator import evaluate
from agent.slo.events import SliEvent
from agent.store.evidence import DrillKey, DrillRun
from agent.store.latency import LatencyRange
from agent.store.sqlite import SqliteStore
from tests.store.factories import probe_result

from .ecosystem import MINUTE, START, load

POLICY = """
apiVersion: slo-agent/v1
kind: DecisionPolicy
metadata: {name: complete}
spec: {interval: 5m, sustain: 30m, clear: 30m, recent: 1h}
---
# a tier that fits the nodes' 1h SLO window (the built-in ones look back up to 3d)
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: default}
spec: {page: [{budget_percent: 2, long: 1h, short: 5m}]}
"""


def node(name: str, objective: float = 99.95, extra: str = "", contract: str = "") -> str:
    return f"""
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: {name}}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: {name}, contract: {{availability_percent: 99.9{contract}}}}}
  probes: [{{name: check, interval: 10s, http: {{url: "http://127.0.0.1:9/"}}}}]
  slos: [{{name: availability, objective: {objective}, window: 1h, sli: {{probe: check}}}}]
  decision: {{brand_control: 2, differentiation: 2, cost: {{per_request: 0.01}}}}
{extra}"""


DRILLED = (
    "  fallbacks: [{node: backup-pay, drill: {every: 1m, http: {url: 'http://127.0.0.1:9/'}}}]"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


def record_runs(
    store: SqliteStore,
    name: str,
    *,
    minutes: int = 60,
    failing: Callable[[float], bool] = lambda at: False,
    duration: Callable[[int], float] = lambda i: 0.001,
) -> None:
    """A probe run every 10 s for ``minutes``, each recorded with its SLI event."""
    for i in range(minutes * 6):
        at = START + i * 10
        bad = failing(at - START)
        result = probe_result(
            at,
            node=name,
            probe="check",
            reason=Reason.STATUS if bad else Reason.OK,
            duration=duration(i),
        )
        store.record(result, [SliEvent(f"{name}/availability", not bad)])
    store.flush()


def review(tmp_path: Path, store: SqliteStore, text: str) -> DecisionReport:
    specs = load(tmp_path, POLICY + text)
    now = START + 60 * MINUTE
    report, _ = review_at(specs, store, evaluate(specs, store, now), now, policy_of(specs), {})
    return report


def texts(report: DecisionReport, node: str) -> list[str]:
    return [r.text for r in report.review(node).advice.reasons]


def test_drills_that_succeeded_51_of_52_prove_the_fallback_and_count_a_failover(
    tmp_path: Path, store: SqliteStore
) -> None:
    outage = (20 * MINUTE, 35 * MINUTE)
    record_runs(store, "acme-pay", failing=lambda t: outage[0] <= t < outage[1])
    record_runs(store, "backup-pay")
    drill = DrillKey("acme-pay", "backup-pay")
    for minute in range(5, 57):  # 52 drills, one a minute, the one at minute 10 failed
        at = START + minute * MINUTE + 5
        store.record_drill(DrillRun(drill, at, minute != 10, 0.5))
    store.flush()
    # the raw sample holds far fewer than the runs: the figures cannot come from it
    assert len(store.recent_results(node="acme-pay", limit=10_000)) < 200

    report = review(tmp_path, store, node("acme-pay", extra=DRILLED) + node("backup-pay"))
    acme = report.review("acme-pay")
    (measured,) = acme.signals.drills
    assert (measured.runs, measured.successes) == (52, 51)
    # drills at minutes 20..34 ran during the outage and succeeded: a failover, 5.5 s after
    # detection (minute 20 + 5 s start + 0.5 s)
    assert (measured.incidents_drilled, measured.failovers) == (1, 1)
    assert measured.failover == pytest.approx(5.5)
    assert acme.advice.recommendation == "keep"
    assert (
        "fallback backup-pay proven by drills: succeeded 51 of 52 (98.08%), at least the 95% "
        "that proves a fallback; failover worked in 1 of 1 incidents drilled"
    ) in texts(report, "acme-pay")
    assert not any("agree with the mode" in t for t in texts(report, "acme-pay"))
    assert "availability missed its objective: attained 75% against 99.95%" in texts(
        report, "acme-pay"
    )
    # the incident counts every failed run, not the sample
    (incident,) = acme.signals.incidents
    assert (incident.start, incident.end, incident.failures) == (
        START + 20 * MINUTE,
        START + 35 * MINUTE,
        90,
    )


def test_latency_percentiles_count_every_run(tmp_path: Path, store: SqliteStore) -> None:
    # 10 of every 107 runs answered in 700ms, the others in 4ms
    record_runs(store, "acme-pay", duration=lambda i: 0.7 if i % 107 < 10 else 0.004)
    report = review(
        tmp_path, store, node("acme-pay", objective=99, contract=", latency_under: 400ms")
    )
    signals = report.review("acme-pay").signals
    assert signals.latency.samples == 360
    assert signals.latency.p99 == LatencyRange(0.6, 0.7)
    assert signals.latency.p50 == LatencyRange(0.0035, 0.004)
    assert signals.partner is not None
    assert signals.partner.latency_met is False
    assert "acme-pay promised answers within 400ms: p99 ≤ 700ms over 1h, latency missed" in texts(
        report, "acme-pay"
    )


def test_equal_latencies_are_no_reason_to_reroute(tmp_path: Path, store: SqliteStore) -> None:
    record_runs(store, "acme-pay", duration=lambda i: 0.001)
    record_runs(store, "backup-pay", duration=lambda i: 0.0006)  # "1.6x faster", 0.4ms apart
    cheap = node("backup-pay", objective=99).replace("per_request: 0.01", "per_request: 0.001")
    report = review(tmp_path, store, node("acme-pay", objective=99) + cheap)
    assert [r.advice.recommendation for r in report.reviews] == ["keep", "keep"]


def test_no_reroute_to_an_unhealthy_flagged_node_and_no_agreement_with_a_failing_one(
    tmp_path: Path, store: SqliteStore
) -> None:
    # acme-pay: fast and cheap but at 68% and flagged itself (strict, exhausted, no fallback);
    # backup-pay: slow, costly, at 32% and not strict (so only the reroute rule could flag it)
    record_runs(store, "acme-pay", failing=lambda t: (t // 10) % 100 < 29)
    record_runs(store, "backup-pay", failing=lambda t: (t // 10) % 100 < 62, duration=lambda i: 0.3)
    costly = node("backup-pay", objective=99).replace("per_request: 0.01", "per_request: 0.05")
    report = review(tmp_path, store, node("acme-pay") + costly)
    acme, backup = report.review("acme-pay"), report.review("backup-pay")
    assert acme.advice.recommendation == "review: operate"
    assert acme.signals.availability is not None
    assert acme.signals.availability < 0.72
    assert backup.advice.recommendation == "keep"
    assert "availability missed its objective: attained 31.667% against 99%" in texts(
        report, "backup-pay"
    )
    for name in ("acme-pay", "backup-pay"):
        assert not any("agree with the mode" in t for t in texts(report, name))
