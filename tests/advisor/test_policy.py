"""DecisionPolicy: the built-in default encodes the framework; a spec document overrides it."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from agent.advisor.policy import Axis, ladder_score
from agent.spec.defaults import DEFAULT_DECISION_POLICY, default_decision_policy
from agent.spec.loader import load_specs


def test_the_default_is_package_data_and_sets_the_framework() -> None:
    assert (resources.files("agent") / "policies" / DEFAULT_DECISION_POLICY).is_file()
    policy = default_decision_policy()
    assert policy.name == "default"
    assert (policy.interval, policy.sustain, policy.clear) == (
        timedelta(minutes=5),
        timedelta(hours=6),
        timedelta(hours=6),
    )
    assert policy.ladders.criticality_objectives == (0.99, 0.995, 0.999, 0.9995)
    # high criticality and brand point to operating, high integration complexity away from it
    assert policy.weights[Axis.SLO_CRITICALITY] > 0
    assert policy.weights[Axis.BRAND_DIFFERENTIATION] > 0
    assert policy.weights[Axis.INTEGRATION_COMPLEXITY] < 0
    assert policy.operate.min_drill_success == 0.95
    assert policy.contract.max_failure == 0.01


@pytest.mark.parametrize(
    ("value", "steps", "lower", "score"),
    [
        (0.98, (0.99, 0.995, 0.999, 0.9995), False, 1),
        (0.99, (0.99, 0.995, 0.999, 0.9995), False, 2),
        (0.9995, (0.99, 0.995, 0.999, 0.9995), False, 5),
        (7200.0, (14400.0, 3600.0, 900.0, 300.0), True, 2),
        (60.0, (14400.0, 3600.0, 900.0, 300.0), True, 5),
        (20000.0, (14400.0, 3600.0, 900.0, 300.0), True, 1),
    ],
)
def test_ladder_scores(value: float, steps: tuple[float, ...], lower: bool, score: int) -> None:
    assert ladder_score(value, steps, lower_is_higher=lower) == score


@pytest.mark.parametrize(
    ("scores", "lean"),
    [
        (dict.fromkeys(Axis, 3), 0.0),
        (
            {
                Axis.SLO_CRITICALITY: 5,
                Axis.BRAND_DIFFERENTIATION: 5,
                Axis.INTEGRATION_COMPLEXITY: 1,
            },
            1.0,
        ),
        (
            {
                Axis.SLO_CRITICALITY: 1,
                Axis.BRAND_DIFFERENTIATION: 1,
                Axis.INTEGRATION_COMPLEXITY: 5,
            },
            -1.0,
        ),
        (
            {
                Axis.SLO_CRITICALITY: 2,
                Axis.BRAND_DIFFERENTIATION: 1,
                Axis.INTEGRATION_COMPLEXITY: 4,
            },
            -2 / 3,
        ),
    ],
)
def test_the_lean_of_the_default_weights(scores: dict[Axis, int], lean: float) -> None:
    assert default_decision_policy().lean(scores) == pytest.approx(lean)


def test_a_spec_document_overrides_only_what_it_sets(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "apiVersion: slo-agent/v1\nkind: DecisionPolicy\nmetadata: {name: quick}\n"
        "spec:\n  sustain: 30m\n  weights: {total_cost: -0.5}\n"
        "  scores: {slo_criticality: {objective_percent: [98, 99, 99.9, 99.99]}}\n"
        "  contract: {max_failure_percent: 0}\n",
        encoding="utf-8",
    )
    policy = load_specs([path], {}).decision_policy
    default = default_decision_policy()
    assert policy is not None
    assert policy.name == "quick"
    assert policy.sustain == timedelta(minutes=30)
    assert policy.clear == default.clear
    assert policy.weights[Axis.TOTAL_COST] == -0.5
    assert policy.weights[Axis.SLO_CRITICALITY] == default.weights[Axis.SLO_CRITICALITY]
    assert policy.ladders.criticality_objectives == (0.98, 0.99, 0.999, 0.9999)
    assert policy.ladders.recovery == default.ladders.recovery
    assert policy.contract.max_failure == 0.0
    assert policy.reroute == default.reroute


def test_specs_without_a_policy_use_the_built_in_one(tmp_path: Path) -> None:
    from agent.runtime.advice import policy_of

    path = tmp_path / "empty.yaml"
    path.write_text(
        "apiVersion: slo-agent/v1\nkind: AlertWindows\nmetadata: {name: w}\n"
        "spec: {page: [{budget_percent: 2, long: 1h, short: 5m}]}\n",
        encoding="utf-8",
    )
    specs = load_specs([path], {})
    assert specs.decision_policy is None
    assert policy_of(specs) == default_decision_policy()
