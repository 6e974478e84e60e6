"""Time ranges an SLO evaluation needs: the standard windows, the SLO period, alert windows.

Pure: ``now`` (unix seconds) is always an argument; the clock is never read. A calendar
month is taken in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from agent.durations import format_duration, parse_duration
from agent.model import AlertWindows, CalendarWindow, RollingWindow, Slo, Window

STANDARD_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
"""Windows every SLO reports an SLI and a burn rate for (the Sloth ``ratio_rate`` set)."""

CALENDAR_MONTH_LABEL = "month"


@dataclass(frozen=True, slots=True)
class Period:
    """The SLO period at one instant: the range counted so far and the period's full length.

    For a rolling window ``[start, end]`` spans the whole ``length``. For a calendar month
    ``start`` is the first instant of the current UTC month and ``end`` is now, while
    ``length`` is the whole month (28, 29, 30 or 31 days): the error budget is sized for the
    month, not for the part of it that has passed.
    """

    label: str
    start: float  # unix seconds
    end: float  # unix seconds
    length: timedelta


def window_label(window: Window) -> str:
    """``"28d"`` for a rolling window of 28 days, ``"month"`` for a calendar month."""
    if isinstance(window, RollingWindow):
        return format_duration(window.length)
    return CALENDAR_MONTH_LABEL


def window_length(label: str) -> timedelta:
    """The length of a rolling window given by its label (``"5m"`` -> 5 minutes)."""
    return parse_duration(label)


def month_bounds(now: float) -> tuple[datetime, datetime]:
    """First instants (UTC) of the month holding ``now`` and of the month after it."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    if moment.month == 12:
        following = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    else:
        following = datetime(moment.year, moment.month + 1, 1, tzinfo=UTC)
    return start, following


def period_of(window: Window, now: float) -> Period:
    """The SLO period of ``window`` at ``now``."""
    if isinstance(window, RollingWindow):
        return Period(
            label=window_label(window),
            start=now - window.length.total_seconds(),
            end=now,
            length=window.length,
        )
    if isinstance(window, CalendarWindow):
        start, following = month_bounds(now)
        return Period(
            label=CALENDAR_MONTH_LABEL,
            start=start.timestamp(),
            end=now,
            length=following - start,
        )
    raise TypeError(f"unknown SLO window {window!r}")


NO_SLO_PERIOD = ("1d", 86400.0)
"""The label and seconds of the period a journey or a node without SLOs is reported over."""


def longest_period(slos: Iterable[Slo], now: float) -> tuple[str, float]:
    """The label and start of the longest period of ``slos`` at ``now`` (the one starting
    first); :data:`NO_SLO_PERIOD` when there are none."""
    periods = [period_of(slo.window, now) for slo in slos]
    if not periods:
        label, seconds = NO_SLO_PERIOD
        return label, now - seconds
    longest = min(periods, key=lambda period: period.start)
    return longest.label, longest.start


def rolling_range(length: timedelta, now: float) -> tuple[float, float]:
    """``(now - length, now)``."""
    return now - length.total_seconds(), now


def required_ranges(slo: Slo, windows: AlertWindows, now: float) -> dict[str, tuple[float, float]]:
    """Every time range evaluating ``slo`` at ``now`` needs, as label -> ``(start, end)``.

    The standard windows, the SLO period, and the long and short window of every alert tier,
    each once (ranges with the same label are the same range). The caller sums the stored
    events over each range and hands the result to
    :func:`agent.slo.evaluate.evaluate_slo` keyed by the same labels.
    """
    return dict(_ranges(slo.window, windows, now))


# An evaluation asks this for every SLO at the same ``now``, and most SLOs share their window and
# AlertWindows: thousands of identical answers per evaluation.
@lru_cache(maxsize=64)
def _ranges(
    window: Window, windows: AlertWindows, now: float
) -> tuple[tuple[str, tuple[float, float]], ...]:
    ranges: dict[str, tuple[float, float]] = {
        label: rolling_range(window_length(label), now) for label in STANDARD_WINDOWS
    }
    period = period_of(window, now)
    ranges.setdefault(period.label, (period.start, period.end))
    for tier in windows.tiers:
        for length in (tier.long, tier.short):
            ranges.setdefault(format_duration(length), rolling_range(length, now))
    return tuple(ranges.items())
