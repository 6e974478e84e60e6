"""The recommendation rules, table-driven over made-up signals (pure, no store)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from agent.advisor.figures import count, reason
from agent.advisor.incidents import Incident
from agent.advisor.policy import Axis
from agent.advisor.recommend import Recommendation, recommend
from agent.advisor.scores import AxisScore
from agent.advisor.signals import (
    Contract,
    Cost,
    Drill,
    Latency,
    NodeSignals,
    PartnerCompliance,
    SloSignal,
    Volume,
)
from agent.model import Mode
from agent.spec.defaults import default_decision_policy
from agent.store.latency import LatencyRange, bucket_of, bucket_range

POLICY = default_decision_policy()


def at(seconds: float) -> LatencyRange:
    """The histogram bucket a latency of ``seconds`` falls in."""
    return bucket_range(bucket_of(seconds))


HOUR = 3600.0
NOW = 100 * HOUR


def signals(name: str = "n", **changes: Any) -> NodeSignals:
    base = NodeSignals(
        node=name,
        mode=Mode.ORCHESTRATED,
        capability="payments",
        start=NOW - 28 * 24 * HOUR,
        now=NOW,
        recent_span=24 * HOUR,
        slos=(SloSignal("availability", 0.999, 0.9995, 0.5, 0.5, 0.5),),
        incidents=(),
        mttr=None,
        latency=Latency(100, at(0.1), at(0.2)),
        recent_latency=Latency(50, at(0.1), at(0.2)),
        availability=0.9995,
        recent_availability=0.9995,
        contract=Contract(1000, 0, 0, 0),
        drills=(),
        volume=Volume(1000, 1.5, 0.0),
        cost=Cost("EUR", 10.0, 1000, 100.0),
        partner=None,
    )
    return replace(base, **changes)


def scores(crit: int = 3, brand: int = 3, integ: int = 3) -> dict[Axis, AxisScore]:
    values = {
        Axis.SLO_CRITICALITY: crit,
        Axis.BRAND_DIFFERENTIATION: brand,
        Axis.INTEGRATION_COMPLEXITY: integ,
        Axis.TOTAL_COST: 3,
        Axis.RESILIENCE: 3,
    }
    return {
        axis: AxisScore(axis, v, "declared", reason("score {v}", v=count("v", v)))
        for axis, v in values.items()
    }


EXHAUSTED = (SloSignal("availability", 0.9995, 0.99, -19.0, 30.0, 20.0),)
GOOD_DRILL = Drill("backup", True, 20, 20, 0, 0, None, 0.01)
BAD_DRILL = Drill("backup", True, 20, 10, 2, 0, None, 0.01)
UNDRILLED = Drill("backup", False, 0, 0, 0, 0, None, None)


@pytest.mark.parametrize(
    ("crit", "slos", "drills", "expected"),
    [
        (5, EXHAUSTED, (), Recommendation.OPERATE),  # no fallback at all
        (5, EXHAUSTED, (UNDRILLED,), Recommendation.OPERATE),  # untested fallback
        (5, EXHAUSTED, (BAD_DRILL,), Recommendation.OPERATE),  # failing drills
        (5, EXHAUSTED, (GOOD_DRILL,), Recommendation.KEEP),  # a proven fallback
        (3, EXHAUSTED, (), Recommendation.KEEP),  # not strict
        (5, signals().slos, (), Recommendation.KEEP),  # partner on budget
    ],
)
def test_review_operate_needs_strict_slo_shortfall_and_no_proven_fallback(
    crit: int, slos: tuple[SloSignal, ...], drills: tuple[Drill, ...], expected: Recommendation
) -> None:
    advice = recommend(signals(slos=slos, drills=drills), [], scores(crit=crit), 0.0, POLICY)
    assert advice.recommendation is expected


def test_a_missed_partner_contract_is_a_shortfall_too() -> None:
    partner = PartnerCompliance("Acme", 0.999, 0.99, None, None)
    advice = recommend(signals(partner=partner), [], scores(crit=5), 0.0, POLICY)
    assert advice.recommendation is Recommendation.OPERATE
    assert "Acme promised 99.9% availability, measured 99% (short by 0.9%)" in [
        r.text for r in advice.reasons
    ]


BROKEN = Contract(runs=200, contract_failures=20, status_failures=0, transport_failures=0)


@pytest.mark.parametrize(
    ("peer_contract", "expected", "target"),
    [
        (None, Recommendation.OPERATE, None),
        (Contract(200, 0, 0, 0), Recommendation.REROUTE, "other"),
        (Contract(200, 10, 0, 0), Recommendation.OPERATE, None),  # the peer breaks its too
    ],
)
def test_contract_failures(
    peer_contract: Contract | None, expected: Recommendation, target: str | None
) -> None:
    peers = [] if peer_contract is None else [signals("other", contract=peer_contract)]
    advice = recommend(signals(contract=BROKEN), peers, scores(), 0.0, POLICY)
    assert (advice.recommendation, advice.target) == (expected, target)
    assert advice.reasons[0].text.startswith("10% of answered probes failed")


def test_contract_failures_at_the_limit_are_not_flagged() -> None:
    at_limit = Contract(runs=100, contract_failures=1, status_failures=0, transport_failures=0)
    advice = recommend(signals(contract=at_limit), [], scores(), 0.0, POLICY)
    assert advice.recommendation is Recommendation.KEEP


def slow(
    p50: float, cost: float, currency: str = "EUR", available: float = 0.9995
) -> dict[str, Any]:
    return {
        "recent_latency": Latency(50, at(p50), at(p50 * 2)),
        "cost": Cost(currency, cost * 1000, 1000, 0.0),
        "recent_availability": available,
    }


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [
        (slow(0.3, 0.02), slow(0.1, 0.01), Recommendation.REROUTE),
        (slow(0.14, 0.02), slow(0.1, 0.01), Recommendation.KEEP),  # only 1.4x slower
        (slow(0.3, 0.011), slow(0.1, 0.01), Recommendation.KEEP),  # only 1.1x costlier
        (slow(0.3, 0.02), slow(0.1, 0.01, "USD"), Recommendation.KEEP),  # other currency
        (slow(0.3, 0.02), slow(0.1, 0.01, available=0.99), Recommendation.KEEP),  # less available
    ],
)
def test_reroute_to_a_faster_cheaper_alternative(
    mine: dict[str, Any], theirs: dict[str, Any], expected: Recommendation
) -> None:
    advice = recommend(signals(**mine), [signals("other", **theirs)], scores(), 0.0, POLICY)
    assert advice.recommendation is expected
    assert advice.target == ("other" if expected is Recommendation.REROUTE else None)


LONG = (Incident(0, 1800, 5), Incident(HOUR, HOUR + 1200, 4))


@pytest.mark.parametrize(
    ("lean", "incidents", "mttr", "expected"),
    [
        (-0.5, LONG, 1500.0, Recommendation.ORCHESTRATE),
        (0.0, LONG, 1500.0, Recommendation.KEEP),  # leans to operating
        (-0.5, LONG[:1], 1800.0, Recommendation.KEEP),  # one incident only
        (-0.5, LONG, 600.0, Recommendation.KEEP),  # quick recoveries
    ],
)
def test_review_orchestrate_for_a_low_value_node_run_badly(
    lean: float, incidents: tuple[Incident, ...], mttr: float, expected: Recommendation
) -> None:
    operated = signals(mode=Mode.OPERATED, incidents=incidents, mttr=mttr)
    advice = recommend(operated, [], scores(crit=2, brand=1, integ=4), lean, POLICY)
    assert advice.recommendation is expected


def test_operated_nodes_are_never_rerouted_or_sent_to_operate() -> None:
    operated = signals(mode=Mode.OPERATED, slos=EXHAUSTED, contract=BROKEN, **slow(0.3, 0.02))
    others = [signals("other", **slow(0.1, 0.01))]
    advice = recommend(operated, others, scores(crit=5), 0.5, POLICY)
    assert advice.recommendation is Recommendation.KEEP


def test_a_ratio_without_a_material_difference_is_no_reason_to_reroute() -> None:
    # 1ms against 0.6ms is "1.5x slower" by ratio, but 0.3ms apart: under the 50ms floor
    mine, theirs = signals(**slow(0.001, 0.02)), signals("other", **slow(0.0006, 0.01))
    assert POLICY.reroute.min_latency_difference.total_seconds() == 0.05
    assert recommend(mine, [theirs], scores(), 0.0, POLICY).recommendation is Recommendation.KEEP
    # the same ratio with 150ms between them is material
    far = recommend(
        signals(**slow(0.3, 0.02)), [signals("other", **slow(0.1, 0.01))], scores(), 0.0, POLICY
    )
    assert far.recommendation is Recommendation.REROUTE
    assert "at least 150ms and 2.5\u00d7 slower; the floor is 50ms" in far.reasons[0].text
    assert "median latency ≤ 300ms" in far.reasons[0].text


UNHEALTHY = (SloSignal("availability", 0.995, 0.71, -57.0, 60.0, 58.0),)


@pytest.mark.parametrize(
    ("other", "flagged"),
    [
        ({"slos": UNHEALTHY}, ()),  # misses its own objective
        ({}, ("other",)),  # flagged itself
    ],
)
def test_reroute_goes_only_to_a_healthy_unflagged_alternative(
    other: dict[str, Any], flagged: tuple[str, ...]
) -> None:
    theirs = signals("other", **slow(0.1, 0.01), **other)
    advice = recommend(signals(**slow(0.3, 0.02)), [theirs], scores(), 0.0, POLICY, flagged)
    assert advice.recommendation is Recommendation.KEEP
    broken = recommend(
        signals(contract=BROKEN),
        [replace(theirs, contract=Contract(200, 0, 0, 0))],
        scores(),
        0.0,
        POLICY,
        flagged,
    )
    assert (broken.recommendation, broken.target) == (Recommendation.OPERATE, None)
    assert "0 other healthy, unflagged nodes of capability payments" in broken.reasons[1].text


def test_keep_never_says_agree_with_the_mode_of_a_node_missing_its_objective() -> None:
    advice = recommend(signals(slos=UNHEALTHY, availability=0.38), [], scores(crit=3), 0.0, POLICY)
    assert advice.recommendation is Recommendation.KEEP
    texts = [r.text for r in advice.reasons]
    assert not any("agree with the mode" in t for t in texts)
    assert "availability missed its objective: attained 71% against 99.5%" in texts
    assert any(t.startswith("no rule of the policy points to another mode") for t in texts)
    healthy = recommend(signals(), [], scores(), 0.0, POLICY)
    assert healthy.reasons[0].text.startswith("measurements agree with the mode")


def test_keep_with_a_proven_fallback_quotes_its_drills() -> None:
    proven = Drill("backup", True, 52, 51, 1, 1, 4.0, 0.01)
    advice = recommend(signals(slos=EXHAUSTED, drills=(proven,)), [], scores(5), 0.0, POLICY)
    assert advice.recommendation is Recommendation.KEEP
    assert (
        "fallback backup proven by drills: succeeded 51 of 52 (98.08%), at least the 95% that "
        "proves a fallback; failover worked in 1 of 1 incidents drilled"
    ) in [r.text for r in advice.reasons]
