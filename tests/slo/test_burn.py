from __future__ import annotations

from datetime import timedelta

import pytest

from agent.slo.burn import burn_rate, error_allowance, exhaustion_seconds, guarded_burn_rate
from agent.slo.events import Counts

DAY = 86_400.0
PERIOD_30D = timedelta(days=30).total_seconds()


@pytest.mark.parametrize(
    ("bad", "total", "objective", "expected"),
    [
        pytest.param(1, 1000, 0.999, 1.0, id="exactly-on-budget"),
        pytest.param(0, 1000, 0.999, 0.0, id="no-errors"),
        pytest.param(2, 1000, 0.999, 2.0, id="twice-the-budget"),
        pytest.param(144, 10_000, 0.999, 14.4, id="fast-page-threshold"),
        pytest.param(1, 100, 0.99, 1.0, id="99-percent"),
        pytest.param(1, 4, 0.75, 1.0, id="exact-floats"),
        pytest.param(4, 4, 0.75, 4.0, id="all-bad-is-max"),
        pytest.param(0, 0, 0.999, 0.0, id="no-events"),
    ],
)
def test_burn_rate(bad: int, total: int, objective: float, expected: float) -> None:
    assert burn_rate(bad, total, objective) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("counts", "min_events", "expected"),
    [
        pytest.param(Counts(total=2, bad=2), 3, None, id="below-min-is-no-data-not-max"),
        pytest.param(Counts(total=2, bad=0), 3, None, id="below-min-is-no-data-not-zero"),
        pytest.param(Counts(total=0, bad=0), 0, None, id="empty"),
        pytest.param(Counts(total=3, bad=0), 3, 0.0, id="at-min-no-errors"),
        pytest.param(Counts(total=8, bad=2), 3, 1.0, id="at-budget"),
    ],
)
def test_guarded_burn_rate(counts: Counts, min_events: int, expected: float | None) -> None:
    assert guarded_burn_rate(counts, 0.75, min_events) == expected


@pytest.mark.parametrize("objective", [0.0, 1.0, 99.9, -0.5])
def test_objective_must_be_a_ratio(objective: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        error_allowance(objective)


@pytest.mark.parametrize(
    ("remaining", "burn", "period", "expected"),
    [
        pytest.param(0.5, 2.0, PERIOD_30D, 7.5 * DAY, id="half-left-at-2x-is-7.5-days"),
        pytest.param(1.0, 1.0, PERIOD_30D, 30 * DAY, id="full-budget-at-1x-lasts-the-period"),
        pytest.param(1.0, 14.4, PERIOD_30D, 50 * 3_600.0, id="full-budget-at-14.4x-is-50h"),
        pytest.param(0.02, 14.4, PERIOD_30D, 3_600.0, id="2-percent-at-14.4x-is-1h"),
        pytest.param(0.25, 0.5, timedelta(days=28).total_seconds(), 14 * DAY, id="slow-burn-28d"),
        pytest.param(0.0, 3.0, PERIOD_30D, 0.0, id="exhausted"),
        pytest.param(-0.4, 3.0, PERIOD_30D, 0.0, id="overspent"),
        pytest.param(-0.4, None, PERIOD_30D, 0.0, id="overspent-without-burn-data"),
        pytest.param(0.0, 0.0, PERIOD_30D, 0.0, id="exhausted-not-burning"),
        pytest.param(0.5, 0.0, PERIOD_30D, None, id="not-burning"),
        pytest.param(0.5, None, PERIOD_30D, None, id="no-burn-data"),
        pytest.param(None, 2.0, PERIOD_30D, None, id="no-budget-data"),
    ],
)
def test_exhaustion_seconds(
    remaining: float | None, burn: float | None, period: float, expected: float | None
) -> None:
    result = exhaustion_seconds(remaining, burn, period)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_a_burn_exactly_at_a_threshold_reads_as_at_it() -> None:
    """9 bad of 3,000 at 99.9% burns at exactly 3, the 30-day 1d ticket factor: the rules
    compare 0.003 >= 3 * 0.001 and fire, so the agent must not read 2.9999999999999973."""
    assert burn_rate(9, 3000, 0.999) == 3.0
    assert error_allowance(0.999) == 0.001
