"""The dependency ceiling against hand-computed cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.journeys.ceiling import HopMeasure, journey_ceiling, step_ceiling
from tests.journeys.support import journey, step

CHECKOUT = journey(
    step("add-to-cart", "storefront", "http://shop.invalid/cart"),
    step("authorize", "acme-pay", "http://pay.invalid/", fallback=("backup-pay", "http://b/")),
    step("quote", "fastship", "http://ship.invalid/"),
    latency_under=timedelta(seconds=2),
)  # objectives: success 99%, latency 95%


def test_a_step_without_fallback_reaches_its_own_availability() -> None:
    assert step_ceiling(0.99) == 0.99


def test_the_parallel_combination_with_a_fallback_that_always_works() -> None:
    # 1 - (1 - 0.9)(1 - 0.8) = 1 - 0.1 * 0.2 = 0.98
    assert step_ceiling(0.9, 0.8, 1.0) == pytest.approx(0.98)


def test_the_fallback_is_discounted_by_the_failover_success() -> None:
    # 1 - (1 - 0.9)(1 - 0.8 * 0.5) = 1 - 0.1 * 0.6 = 0.94
    assert step_ceiling(0.9, 0.8, 0.5) == pytest.approx(0.94)
    # an unmeasured fallback node counts as always up: 1 - 0.1 * (1 - 0.5) = 0.95
    assert step_ceiling(0.9, None, 0.5) == pytest.approx(0.95)
    # an untested failover counts for nothing
    assert step_ceiling(0.9, 0.8, None) == pytest.approx(0.9)


def test_the_journey_ceiling_is_the_serial_product() -> None:
    measures = {
        "add-to-cart": HopMeasure(attempts=100, failures=1),  # a = 0.99
        # a = 0.9, b = 0.99, f = 8/10: 1 - 0.1 x (1 - 0.99 x 0.8) = 1 - 0.1 x 0.208 = 0.9792
        "authorize": HopMeasure(100, 10, failovers=10, failovers_ok=8, fallback_availability=0.99),
        "quote": HopMeasure(100, 1),  # a = 0.99
    }
    ceiling = journey_ceiling(CHECKOUT, measures)
    # 0.99 x 0.9792 x 0.99 = 0.95971392
    assert ceiling.availability == pytest.approx(0.95971392)
    assert [hop.ceiling for hop in ceiling.hops] == pytest.approx([0.99, 0.9792, 0.99])
    authorize = ceiling.hops[1]
    assert (authorize.availability, authorize.fallback_availability) == (0.9, 0.99)
    assert (authorize.fallback_node, authorize.failover_success) == ("backup-pay", 0.8)
    assert not authorize.untested_fallback
    # below the 99% success objective, above the 95% latency one
    assert ceiling.above == ("success",)


def test_an_untested_fallback_counts_for_nothing_and_is_flagged() -> None:
    measures = {
        "add-to-cart": HopMeasure(50, 0),
        "authorize": HopMeasure(50, 0, fallback_availability=1.0),
        "quote": HopMeasure(50, 0),
    }
    ceiling = journey_ceiling(CHECKOUT, measures)
    assert ceiling.availability == 1.0
    assert ceiling.hops[1].untested_fallback
    assert ceiling.above == ()


def test_no_ceiling_until_every_step_has_enough_runs() -> None:
    measures = {
        "add-to-cart": HopMeasure(12, 0),
        "authorize": HopMeasure(12, 12),
        "quote": HopMeasure(0, 0),  # never reached: the payments step always failed
    }
    ceiling = journey_ceiling(CHECKOUT, measures, min_attempts=10)
    assert ceiling.availability is None
    assert ceiling.above == ()
    assert [hop.availability for hop in ceiling.hops] == [1.0, 0.0, 0.0]
    assert journey_ceiling(CHECKOUT, {**measures, "quote": HopMeasure(3, 0)}, 3).availability == 0
