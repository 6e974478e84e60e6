from __future__ import annotations

from datetime import timedelta

import pytest

from agent.model import (
    AlertTier,
    AlertWindows,
    CalendarWindow,
    ProbeSli,
    RollingWindow,
    Severity,
    Slo,
    Window,
)
from agent.slo.windows import STANDARD_WINDOWS, Period, period_of, required_ranges, window_label
from tests.slo.workbook import WORKBOOK

DAY = 86_400
# 2024-02-15T12:00:00Z, written out: 19768 days since the epoch plus 12 hours
MID_FEB_2024 = 19_768 * DAY + 12 * 3_600
FEB_2024 = 1_706_745_600  # 2024-02-01T00:00:00Z
MAR_2024 = 1_709_251_200  # 2024-03-01T00:00:00Z
APR_2024 = 1_711_929_600  # 2024-04-01T00:00:00Z
DEC_2024 = 1_733_011_200  # 2024-12-01T00:00:00Z
JAN_2025 = 1_735_689_600  # 2025-01-01T00:00:00Z
FEB_2025 = 1_738_368_000  # 2025-02-01T00:00:00Z
MAR_2025 = 1_740_787_200  # 2025-03-01T00:00:00Z


def slo_with(window: Window) -> Slo:
    return Slo(name="availability", objective=0.999, window=window, sli=ProbeSli(probe="health"))


def test_standard_windows_are_the_sloth_set() -> None:
    assert STANDARD_WINDOWS == ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@pytest.mark.parametrize(
    ("window", "label"),
    [
        pytest.param(RollingWindow(timedelta(days=28)), "28d", id="28d"),
        pytest.param(RollingWindow(timedelta(days=30)), "30d", id="30d"),
        pytest.param(RollingWindow(timedelta(hours=36)), "1d12h", id="1d12h"),
        pytest.param(CalendarWindow(), "month", id="calendar-month"),
    ],
)
def test_window_label(window: Window, label: str) -> None:
    assert window_label(window) == label


def test_rolling_period_ends_now_and_spans_its_length() -> None:
    now = 1_700_000_000.5
    assert period_of(RollingWindow(timedelta(days=28)), now) == Period(
        label="28d", start=now - 28 * DAY, end=now, length=timedelta(days=28)
    )


@pytest.mark.parametrize(
    ("now", "start", "days"),
    [
        pytest.param(MID_FEB_2024, FEB_2024, 29, id="feb-2024-leap"),
        pytest.param(FEB_2025 + 10 * DAY, FEB_2025, 28, id="feb-2025"),
        pytest.param(JAN_2025 + 30 * DAY, JAN_2025, 31, id="jan-2025-31d"),
        pytest.param(APR_2024 + 1, APR_2024, 30, id="apr-2024-30d"),
        pytest.param(MAR_2024, MAR_2024, 31, id="exactly-at-month-start"),
        pytest.param(MAR_2024 - 1, FEB_2024, 29, id="last-second-of-feb"),
        pytest.param(MAR_2025 - 0.001, FEB_2025, 28, id="last-millisecond-of-feb-2025"),
        pytest.param(JAN_2025 - 3_600, DEC_2024, 31, id="december-into-new-year"),
        # 00:30 UTC on March 1st is still February in the Americas: the month is UTC's
        pytest.param(MAR_2024 + 1_800, MAR_2024, 31, id="utc-not-local"),
    ],
)
def test_calendar_month_period(now: float, start: int, days: int) -> None:
    period = period_of(CalendarWindow(), now)
    assert period == Period(label="month", start=start, end=now, length=timedelta(days=days))


def test_required_ranges_for_a_rolling_slo_with_workbook_windows() -> None:
    now = 2_000_000_000.0
    ranges = required_ranges(slo_with(RollingWindow(timedelta(days=28))), WORKBOOK, now)
    # every workbook tier window is a standard window: nothing beyond those and the period
    assert ranges == {
        "5m": (now - 300, now),
        "30m": (now - 1_800, now),
        "1h": (now - 3_600, now),
        "2h": (now - 7_200, now),
        "6h": (now - 21_600, now),
        "1d": (now - DAY, now),
        "3d": (now - 3 * DAY, now),
        "28d": (now - 28 * DAY, now),
    }


def test_required_ranges_add_custom_tier_windows_once() -> None:
    now = 2_000_000_000.0
    custom = AlertWindows(
        name="custom",
        tiers=(
            AlertTier(Severity.PAGE, 0.02, long=timedelta(hours=4), short=timedelta(minutes=15)),
            AlertTier(Severity.TICKET, 0.1, long=timedelta(hours=4), short=timedelta(hours=1)),
        ),
    )
    ranges = required_ranges(slo_with(CalendarWindow()), custom, now)
    assert list(ranges) == [*STANDARD_WINDOWS, "month", "4h", "15m"]
    assert ranges["4h"] == (now - 14_400, now)
    assert ranges["15m"] == (now - 900, now)
    assert ranges["1h"] == (now - 3_600, now)


def test_required_ranges_calendar_period_runs_from_month_start() -> None:
    ranges = required_ranges(slo_with(CalendarWindow()), WORKBOOK, MID_FEB_2024)
    assert ranges["month"] == (FEB_2024, MID_FEB_2024)
    assert len(ranges) == len(STANDARD_WINDOWS) + 1


def test_required_ranges_period_equal_to_a_standard_window_is_one_range() -> None:
    now = 2_000_000_000.0
    ranges = required_ranges(slo_with(RollingWindow(timedelta(days=1))), WORKBOOK, now)
    assert list(ranges) == list(STANDARD_WINDOWS)
    assert ranges["1d"] == (now - DAY, now)
