"""Burn rate and time to budget exhaustion.

A burn rate of 1 spends exactly the error budget over the SLO period; 2 spends it in half the
period. Pure: no I/O, no clock.
"""

from __future__ import annotations

from functools import lru_cache

from agent.slo.events import Counts
from agent.slo.sli import has_data


@lru_cache(maxsize=256)  # a few objectives, asked for ~20 times per SLO per evaluation
def error_allowance(objective: float) -> float:
    """The error ratio the objective allows: ``1 - objective`` (0.001 for 99.9%).

    Rounded to 12 significant digits, as the user wrote it and as the generated rules state it
    (0.001, not 0.0010000000000000009), so a burn exactly at a threshold, or a budget spent
    exactly, reads the same on both alert paths.
    """
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must be a ratio strictly between 0 and 1, not {objective!r}")
    return float(f"{1.0 - objective:.12g}")


def burn_rate(bad: float, total: float, objective: float) -> float:
    """Observed error ratio divided by the allowed one (``1 - objective``); 0 with no events."""
    allowance = error_allowance(objective)
    return 0.0 if total == 0 else (bad / total) / allowance


def guarded_burn_rate(counts: Counts, objective: float, min_events: int) -> float | None:
    """:func:`burn_rate` of ``counts``, or ``None`` (no data) below ``min_events`` events."""
    if not has_data(counts, min_events):
        return None
    return burn_rate(counts.bad, counts.total, objective)


def exhaustion_seconds(
    remaining_ratio: float | None, burn_rate: float | None, period_seconds: float
) -> float | None:
    """Seconds until the error budget is gone at the current burn rate.

    Burning at rate ``b`` spends ``b / period`` of the budget per second, so a remaining
    fraction ``r`` lasts ``r * period / b`` seconds. A budget already spent (``r <= 0``) gives
    0 whatever the burn; otherwise ``None`` when the remaining budget is unknown or nothing
    is burning (``b`` is ``None`` or ``<= 0``).
    """
    if remaining_ratio is not None and remaining_ratio <= 0.0:
        return 0.0
    if remaining_ratio is None or burn_rate is None or burn_rate <= 0.0:
        return None
    return remaining_ratio * period_seconds / burn_rate
