from __future__ import annotations

from datetime import timedelta

import pytest

from agent.model import (
    CalendarWindow,
    HttpCheck,
    Mode,
    Node,
    Partner,
    Probe,
    ProbeSli,
    RollingWindow,
    Severity,
    Slo,
)
from agent.slo.evaluate import evaluate_node, evaluate_slo
from agent.slo.events import Counts
from tests.slo.workbook import WORKBOOK

NOW = 2_000_000_000.0
DAY = 86_400.0
JAN_2025 = 1_735_689_600  # 2025-01-01T00:00:00Z

AVAILABILITY_30D = Slo(
    name="availability",
    objective=0.999,
    window=RollingWindow(timedelta(days=30)),
    sli=ProbeSli(probe="authorize"),
    min_events=3,
)

# one probe every 30 s: 120 events an hour. A short, sharp burst of errors in the last hour on
# top of a slow leak over the last days; half the 30-day budget already spent.
BURST = {
    "5m": Counts(total=10, bad=2),
    "30m": Counts(total=60, bad=3),
    "1h": Counts(total=120, bad=3),
    "2h": Counts(total=240, bad=3),
    "6h": Counts(total=720, bad=3),
    "1d": Counts(total=2_880, bad=3),
    "3d": Counts(total=8_640, bad=9),
    "30d": Counts(total=100_000, bad=50),
}


def test_evaluate_slo_field_by_field() -> None:
    status = evaluate_slo("acme-pay", "orchestrated", AVAILABILITY_30D, WORKBOOK, BURST, NOW)

    assert status.node == "acme-pay"
    assert status.slo == "availability"
    assert status.mode == "orchestrated"
    assert status.objective == 0.999
    assert status.period == "30d"

    expected_windows = [
        # label, total, bad, SLI, burn rate = (bad / total) / 0.001
        ("5m", 10, 2, 0.8, 200.0),
        ("30m", 60, 3, 0.95, 50.0),
        ("1h", 120, 3, 0.975, 25.0),
        ("2h", 240, 3, 0.9875, 12.5),
        ("6h", 720, 3, 717 / 720, 25 / 6),
        ("1d", 2_880, 3, 2_877 / 2_880, 25 / 24),
        ("3d", 8_640, 9, 8_631 / 8_640, 25 / 24),
        ("30d", 100_000, 50, 0.9995, 0.5),
    ]
    assert [w.window for w in status.windows] == [row[0] for row in expected_windows]
    for window, (label, total, bad, sli, burn) in zip(
        status.windows, expected_windows, strict=True
    ):
        assert (window.window, window.total, window.bad) == (label, total, bad)
        assert window.sli == pytest.approx(sli), label
        assert window.burn_rate == pytest.approx(burn), label

    budget = status.budget
    assert budget.allowed_bad_events == pytest.approx(100.0)
    assert budget.consumed_events == 50
    assert budget.consumed_ratio == pytest.approx(0.5)
    assert budget.remaining_ratio == pytest.approx(0.5)
    assert budget.budget_minutes == pytest.approx(43.2)
    assert budget.remaining_minutes == pytest.approx(21.6)

    expected_alerts = [
        # the 1h/5m page fires (25 and 200 >= 14.4); 6h at 4.17 < 6 holds the slow page back;
        # the 1d ticket needs 3 and sees 1.04; the 3d ticket sees 1.04 and 4.17 >= 1: fires
        (Severity.PAGE, "1h", "5m", 14.4, 25.0, 200.0, True),
        (Severity.PAGE, "6h", "30m", 6.0, 25 / 6, 50.0, False),
        (Severity.TICKET, "1d", "2h", 3.0, 25 / 24, 12.5, False),
        (Severity.TICKET, "3d", "6h", 1.0, 25 / 24, 25 / 6, True),
    ]
    assert len(status.alerts) == len(expected_alerts)
    for alert, (severity, long, short, factor, long_burn, short_burn, firing) in zip(
        status.alerts, expected_alerts, strict=True
    ):
        assert (alert.severity, alert.long, alert.short) == (severity, long, short)
        assert alert.factor == pytest.approx(factor), long
        assert alert.long_burn == pytest.approx(long_burn), long
        assert alert.short_burn == pytest.approx(short_burn), long
        assert alert.firing is firing, long
    assert [(a.long, a.short) for a in status.firing] == [("1h", "5m"), ("3d", "6h")]

    # half the budget left, burning at 25x (the 1h rate) over 30 days: 0.5 * 30 d / 25 = 14.4 h
    assert status.exhaustion_seconds == pytest.approx(14.4 * 3_600)
    assert status.window("1h").burn_rate == pytest.approx(25.0)


def test_exhaustion_falls_back_to_the_period_burn_when_the_last_hour_has_no_data() -> None:
    counts = {**BURST, "1h": Counts(total=2, bad=0)}
    status = evaluate_slo("acme-pay", "orchestrated", AVAILABILITY_30D, WORKBOOK, counts, NOW)
    assert status.window("1h").burn_rate is None
    assert status.window("1h").sli is None
    # half left, burning at the period's 0.5x: 0.5 * 30 d / 0.5 = 30 d
    assert status.exhaustion_seconds == pytest.approx(30 * DAY)
    # the fast page needs its 1h window: without data it does not fire, whatever 5m says
    assert status.alerts[0].long_burn is None
    assert status.alerts[0].firing is False


def test_no_events_at_all_is_no_data_everywhere() -> None:
    status = evaluate_slo("acme-pay", "orchestrated", AVAILABILITY_30D, WORKBOOK, {}, NOW)
    assert [(w.window, w.total, w.sli, w.burn_rate) for w in status.windows] == [
        (label, 0, None, None) for label in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    ]
    assert status.budget.remaining_ratio is None
    assert status.budget.budget_minutes == pytest.approx(43.2)
    assert status.exhaustion_seconds is None
    assert status.firing == ()
    assert [a.factor for a in status.alerts] == pytest.approx([14.4, 6.0, 3.0, 1.0])


def test_calendar_month_slo_uses_the_whole_month_for_budget_and_factors() -> None:
    slo = Slo(
        name="latency",
        objective=0.999,
        window=CalendarWindow(),
        sli=ProbeSli(probe="authorize", latency_under=timedelta(milliseconds=400)),
    )
    now = JAN_2025 + 10 * DAY  # 2025-01-11: a 31-day month, a third of it gone
    counts = {"month": Counts(total=1_000, bad=2), "1h": Counts(total=120, bad=0)}
    status = evaluate_slo("acme-pay", "orchestrated", slo, WORKBOOK, counts, now)
    assert status.period == "month"
    month = status.windows[-1]
    assert (month.window, month.total, month.bad, month.sli) == ("month", 1_000, 2, 0.998)
    assert month.burn_rate == pytest.approx(2.0)
    assert status.budget.budget_minutes == pytest.approx(44.64)
    assert status.budget.consumed_ratio == pytest.approx(2.0)
    assert status.budget.remaining_ratio == pytest.approx(-1.0)
    assert status.budget.remaining_minutes == pytest.approx(-44.64)
    # overspent: exhausted now, even though the last hour burns nothing
    assert status.exhaustion_seconds == 0.0
    # factors scale with the 31-day month: 0.02 * 744 h / 1 h
    assert status.alerts[0].factor == pytest.approx(14.88)


def test_period_equal_to_a_standard_window_is_listed_once_and_last() -> None:
    slo = Slo(
        name="daily",
        objective=0.99,
        window=RollingWindow(timedelta(days=1)),
        sli=ProbeSli(probe="authorize"),
    )
    counts = {"1d": Counts(total=2_880, bad=0)}
    status = evaluate_slo("storefront", "operated", slo, WORKBOOK, counts, NOW)
    assert status.period == "1d"
    assert [w.window for w in status.windows] == ["5m", "30m", "1h", "2h", "6h", "3d", "1d"]
    assert status.window("1d").sli == 1.0
    assert status.budget.remaining_ratio == 1.0
    assert status.budget.budget_minutes == pytest.approx(14.4)


def test_evaluate_node() -> None:
    probe = Probe(
        name="authorize",
        interval=timedelta(seconds=30),
        check=HttpCheck(url="https://pay.acme.example/v1/health"),
    )
    latency = Slo(
        name="latency",
        objective=0.99,
        window=RollingWindow(timedelta(days=28)),
        sli=ProbeSli(probe="authorize", latency_under=timedelta(milliseconds=400)),
    )
    node = Node(
        name="acme-pay",
        mode=Mode.ORCHESTRATED,
        owner="checkout-platform",
        capability="payments",
        probes=(probe,),
        slos=(AVAILABILITY_30D, latency),
        partner=Partner(name="Acme Pay"),
    )
    status = evaluate_node(node, WORKBOOK, {"availability": BURST}, NOW)
    assert (status.node, status.mode, status.owner, status.capability, status.partner) == (
        "acme-pay",
        Mode.ORCHESTRATED,
        "checkout-platform",
        "payments",
        "Acme Pay",
    )
    assert [s.slo for s in status.slos] == ["availability", "latency"]
    assert status.slos[0] == evaluate_slo(
        "acme-pay", "orchestrated", AVAILABILITY_30D, WORKBOOK, BURST, NOW
    )
    # no counts for the latency SLO: evaluated, with no data
    assert status.slos[1].mode == "orchestrated"
    assert status.slos[1].period == "28d"
    assert status.slos[1].budget.remaining_ratio is None
    assert [a.factor for a in status.slos[1].alerts] == pytest.approx([13.44, 5.6, 2.8, 0.9333333])


def test_operated_node_has_no_partner() -> None:
    node = Node(
        name="storefront",
        mode=Mode.OPERATED,
        owner="web",
        capability="shop",
        probes=(),
        slos=(),
    )
    status = evaluate_node(node, WORKBOOK, {}, NOW)
    assert status.partner == ""
    assert status.mode is Mode.OPERATED
    assert status.slos == ()
