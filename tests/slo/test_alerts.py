from __future__ import annotations

from datetime import timedelta

import pytest

from agent.model import AlertTier, Severity
from agent.slo.alerts import alert_statuses, burn_factor, is_firing, tier_status
from agent.slo.status import AlertStatus, TierKey
from tests.slo.workbook import PAGE_FAST, PAGE_SLOW, TICKET_FAST, TICKET_SLOW, WORKBOOK


@pytest.mark.parametrize(
    ("tier", "period_days", "factor"),
    [
        pytest.param(PAGE_FAST, 30, 14.4, id="30d-page-1h"),
        pytest.param(PAGE_SLOW, 30, 6.0, id="30d-page-6h"),
        pytest.param(TICKET_FAST, 30, 3.0, id="30d-ticket-1d"),
        pytest.param(TICKET_SLOW, 30, 1.0, id="30d-ticket-3d"),
        pytest.param(PAGE_FAST, 28, 13.44, id="28d-page-1h"),
        pytest.param(PAGE_SLOW, 28, 5.6, id="28d-page-6h"),
        pytest.param(TICKET_FAST, 28, 2.8, id="28d-ticket-1d"),
        pytest.param(TICKET_SLOW, 28, 0.9333333333, id="28d-ticket-3d"),
        pytest.param(PAGE_FAST, 31, 14.88, id="31-day-month-page-1h"),
        pytest.param(TICKET_SLOW, 29, 29 / 30, id="29-day-month-ticket-3d"),
    ],
)
def test_burn_factor(tier: AlertTier, period_days: int, factor: float) -> None:
    assert burn_factor(tier, timedelta(days=period_days)) == pytest.approx(factor)


@pytest.mark.parametrize(
    ("long_burn", "short_burn", "firing"),
    [
        pytest.param(20.0, 1.0, False, id="long-high-short-low"),
        pytest.param(1.0, 20.0, False, id="long-low-short-high"),
        pytest.param(20.0, 20.0, True, id="both-high"),
        pytest.param(14.4, 14.4, True, id="both-at-threshold"),
        pytest.param(14.3, 14.4, False, id="long-just-below"),
        pytest.param(1.0, 1.0, False, id="both-low"),
        pytest.param(None, 20.0, False, id="long-no-data"),
        pytest.param(20.0, None, False, id="short-no-data"),
        pytest.param(None, None, False, id="no-data"),
    ],
)
def test_multi_window_truth_table(
    long_burn: float | None, short_burn: float | None, firing: bool
) -> None:
    assert is_firing(long_burn, short_burn, 14.4) is firing
    status = tier_status(PAGE_FAST, timedelta(days=30), long_burn, short_burn)
    assert status == AlertStatus(
        severity=Severity.PAGE,
        long="1h",
        short="5m",
        factor=14.4,
        long_burn=long_burn,
        short_burn=short_burn,
        firing=firing,
    )


@pytest.mark.parametrize(
    ("long_burn", "short_burn", "firing"),
    [
        pytest.param(20.0, None, True, id="short-no-data-long-burning-holds"),
        pytest.param(20.0, 20.0, True, id="both-high-holds"),
        pytest.param(20.0, 1.0, False, id="short-recovered-resolves"),
        pytest.param(1.0, None, False, id="long-recovered-resolves"),
        pytest.param(None, None, False, id="no-data-anywhere-resolves"),
        pytest.param(None, 20.0, False, id="long-no-data-resolves"),
    ],
)
def test_a_firing_tier_is_not_ended_by_a_short_window_without_data(
    long_burn: float | None, short_burn: float | None, firing: bool
) -> None:
    assert is_firing(long_burn, short_burn, 14.4, was_firing=True) is firing
    status = tier_status(PAGE_FAST, timedelta(days=30), long_burn, short_burn, was_firing=True)
    assert status.firing is firing


def test_firing_before_is_matched_by_severity_and_windows() -> None:
    burns: dict[str, float | None] = {"1h": 20.0, "5m": None, "6h": 20.0, "30m": None}
    page_fast = TierKey(Severity.PAGE, "1h", "5m")
    statuses = alert_statuses(WORKBOOK, timedelta(days=30), burns, {page_fast})
    assert [s.firing for s in statuses] == [True, False, False, False]
    assert statuses[0].key == page_fast


def test_alert_statuses_follow_the_tiers_in_order() -> None:
    burns: dict[str, float | None] = {
        "5m": 30.0,
        "1h": 15.0,
        "30m": 7.0,
        "6h": 5.0,
        "2h": None,
        "1d": 4.0,
        "6h-unused": 99.0,
    }
    # "3d" is absent: no data
    statuses = alert_statuses(WORKBOOK, timedelta(days=30), burns)
    assert [(s.severity, s.long, s.short) for s in statuses] == [
        (Severity.PAGE, "1h", "5m"),
        (Severity.PAGE, "6h", "30m"),
        (Severity.TICKET, "1d", "2h"),
        (Severity.TICKET, "3d", "6h"),
    ]
    assert [s.firing for s in statuses] == [True, False, False, False]
    assert [(s.long_burn, s.short_burn) for s in statuses] == [
        (15.0, 30.0),
        (5.0, 7.0),
        (4.0, None),
        (None, 5.0),
    ]


def test_custom_tier_windows_are_labelled_by_duration() -> None:
    tier = AlertTier(Severity.TICKET, 0.1, long=timedelta(hours=4), short=timedelta(minutes=15))
    status = tier_status(tier, timedelta(days=30), 20.0, 20.0)
    assert (status.long, status.short) == ("4h", "15m")
    assert status.factor == pytest.approx(18.0)
    assert status.firing is True
