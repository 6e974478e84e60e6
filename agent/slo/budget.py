"""The error budget over the SLO period.

The budget is counted in events: ``(1 - objective)`` of the events seen in the period may be
bad. It is also shown in minutes, ``(1 - objective)`` of the period's length (43.2 minutes for
99.9% over 30 days), the way people talk about downtime. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import timedelta

from agent.slo.burn import error_allowance
from agent.slo.events import Counts
from agent.slo.sli import has_data
from agent.slo.status import BudgetStatus


def budget_minutes(objective: float, period: timedelta) -> float:
    """``(1 - objective) * period`` in minutes: 43.2 for 99.9% over 30 days."""
    return error_allowance(objective) * period.total_seconds() / 60.0


def budget_status(
    period_counts: Counts, objective: float, period: timedelta, min_events: int
) -> BudgetStatus:
    """The budget given the events counted so far in the period.

    ``period`` is the full length of the period (a whole calendar month even while it is under
    way). Ratios are ``None`` (no data) below ``min_events`` events; the remaining ratio goes
    negative once more than the budget has been spent.
    """
    allowed = error_allowance(objective) * period_counts.total
    minutes = budget_minutes(objective, period)
    if not has_data(period_counts, min_events):
        return BudgetStatus(
            allowed_bad_events=allowed,
            consumed_events=period_counts.bad,
            consumed_ratio=None,
            remaining_ratio=None,
            budget_minutes=minutes,
            remaining_minutes=None,
        )
    consumed = period_counts.bad / allowed
    remaining = 1.0 - consumed
    return BudgetStatus(
        allowed_bad_events=allowed,
        consumed_events=period_counts.bad,
        consumed_ratio=consumed,
        remaining_ratio=remaining,
        budget_minutes=minutes,
        remaining_minutes=remaining * minutes,
    )
