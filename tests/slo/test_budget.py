from __future__ import annotations

from datetime import timedelta

import pytest

from agent.model import AlertTier
from agent.slo.alerts import burn_factor
from agent.slo.budget import budget_minutes, budget_status
from agent.slo.events import Counts
from agent.slo.status import BudgetStatus
from tests.slo.workbook import PAGE_FAST, PAGE_SLOW, TICKET_FAST, TICKET_SLOW


@pytest.mark.parametrize(
    ("objective", "period", "minutes"),
    [
        pytest.param(0.999, timedelta(days=30), 43.2, id="99.9-30d"),
        pytest.param(0.999, timedelta(days=28), 40.32, id="99.9-28d"),
        pytest.param(0.999, timedelta(days=31), 44.64, id="99.9-31-day-month"),
        pytest.param(0.999, timedelta(days=29), 41.76, id="99.9-feb-2024"),
        pytest.param(0.999, timedelta(days=28), 40.32, id="99.9-feb-2025"),
        pytest.param(0.99, timedelta(days=28), 403.2, id="99-28d"),
        pytest.param(0.995, timedelta(days=1), 7.2, id="99.5-1d"),
        pytest.param(0.75, timedelta(hours=1), 15.0, id="exact"),
    ],
)
def test_budget_minutes(objective: float, period: timedelta, minutes: float) -> None:
    assert budget_minutes(objective, period) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("counts", "consumed", "remaining"),
    [
        pytest.param(Counts(total=10_000, bad=0), 0.0, 1.0, id="untouched"),
        pytest.param(Counts(total=10_000, bad=50), 0.5, 0.5, id="half-spent"),
        pytest.param(Counts(total=10_000, bad=100), 1.0, 0.0, id="exactly-spent"),
        pytest.param(Counts(total=10_000, bad=150), 1.5, -0.5, id="overspent-goes-negative"),
        pytest.param(Counts(total=10_000, bad=10_000), 100.0, -99.0, id="everything-bad"),
    ],
)
def test_budget_consumed_and_remaining(counts: Counts, consumed: float, remaining: float) -> None:
    status = budget_status(counts, 0.99, timedelta(days=28), min_events=3)
    assert status.allowed_bad_events == pytest.approx(100.0)
    assert status.consumed_events == counts.bad
    assert status.consumed_ratio == pytest.approx(consumed)
    assert status.remaining_ratio == pytest.approx(remaining)
    assert status.budget_minutes == pytest.approx(403.2)
    assert status.remaining_minutes == pytest.approx(remaining * 403.2)


def test_budget_without_enough_events_is_no_data() -> None:
    status = budget_status(Counts(total=2, bad=2), 0.999, timedelta(days=30), min_events=3)
    assert status.consumed_ratio is None
    assert status.remaining_ratio is None
    assert status.remaining_minutes is None
    assert status.consumed_events == 2
    assert status.allowed_bad_events == pytest.approx(0.002)
    assert status.budget_minutes == pytest.approx(43.2)


@pytest.mark.parametrize(
    ("tier", "factor", "fraction"),
    [
        pytest.param(PAGE_FAST, 14.4, 0.02, id="2pct-in-1h-at-14.4x"),
        pytest.param(PAGE_SLOW, 6.0, 0.05, id="5pct-in-6h-at-6x"),
        pytest.param(TICKET_FAST, 3.0, 0.10, id="10pct-in-1d-at-3x"),
        pytest.param(TICKET_SLOW, 1.0, 0.10, id="10pct-in-3d-at-1x"),
    ],
)
def test_burning_at_the_factor_for_the_long_window_spends_the_tier_fraction(
    tier: AlertTier, factor: float, fraction: float
) -> None:
    # 99.9% over 30 days with steady traffic of 1000 events a minute: 43,200 bad events allowed
    period = timedelta(days=30)
    per_minute = 1_000
    total = per_minute * 30 * 24 * 60
    assert burn_factor(tier, period) == pytest.approx(factor)
    long_events = per_minute * round(tier.long / timedelta(minutes=1))
    # bad events in the long window at that burn rate: factor * allowed error ratio * events
    bad = round(factor * 0.001 * long_events)
    status = budget_status(Counts(total=total, bad=bad), 0.999, period, min_events=3)
    assert status.allowed_bad_events == pytest.approx(43_200)
    assert status.consumed_ratio == pytest.approx(fraction)
    assert status.remaining_minutes == pytest.approx((1 - fraction) * 43.2)


@pytest.mark.parametrize(
    ("consumed", "remaining", "text"),
    [
        (None, None, None),
        (0.125, 0.875, "87.5%"),
        (1.0, 0.0, "0.0%"),
        (1.2, -0.2, "overspent 1.2\u00d7"),
        (636.36, -635.36, "overspent 636\u00d7"),
    ],
)
def test_budget_left_reads_as_overspent_once_negative(
    consumed: float | None, remaining: float | None, text: str | None
) -> None:
    budget = BudgetStatus(10, 0, consumed, remaining, 43.2, None)
    assert budget.left_text() == text
