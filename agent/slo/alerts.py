"""Multi-window, multi-burn-rate alerting (the SRE workbook way).

A tier ("page when 2% of the budget burns in 1h") turns into a burn-rate threshold, its
*factor* ``budget_fraction * period / long``. The tier fires when the burn rate over its long
window AND over its short window both reach the factor: the long window makes it significant,
the short one makes it stop soon after the burn stops. No data in either window never fires.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from agent.durations import format_duration
from agent.model import AlertTier, AlertWindows
from agent.slo.status import AlertStatus


def burn_factor(tier: AlertTier, period: timedelta) -> float:
    """``budget_fraction * period / long``: 14.4 for 2% in 1h of 30 days, 13.44 of 28 days."""
    return tier.budget_fraction * (period / tier.long)


def is_firing(long_burn: float | None, short_burn: float | None, factor: float) -> bool:
    """Both windows have data and burn at ``factor`` or faster."""
    if long_burn is None or short_burn is None:
        return False
    return long_burn >= factor and short_burn >= factor


def tier_status(
    tier: AlertTier, period: timedelta, long_burn: float | None, short_burn: float | None
) -> AlertStatus:
    """The state of one tier given the burn rates of its two windows."""
    factor = burn_factor(tier, period)
    return AlertStatus(
        severity=tier.severity,
        long=format_duration(tier.long),
        short=format_duration(tier.short),
        factor=factor,
        long_burn=long_burn,
        short_burn=short_burn,
        firing=is_firing(long_burn, short_burn, factor),
    )


def alert_statuses(
    windows: AlertWindows, period: timedelta, burn_rates: Mapping[str, float | None]
) -> tuple[AlertStatus, ...]:
    """Every tier of ``windows``, in order; ``burn_rates`` is keyed by window label.

    A window missing from ``burn_rates`` counts as no data.
    """
    return tuple(
        tier_status(
            tier,
            period,
            burn_rates.get(format_duration(tier.long)),
            burn_rates.get(format_duration(tier.short)),
        )
        for tier in windows.tiers
    )
