"""The one SLO state: each state from the real SLO math, and the precedence between them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from agent.model import Severity
from agent.slo.evaluate import evaluate_slo
from agent.slo.events import Counts
from agent.slo.status import (
    PRECEDENCE,
    AlertStatus,
    BudgetStatus,
    SloState,
    SloStatus,
    multiple,
    worst_state,
)
from tests.support.builders import WORKBOOK, node

NOW = 1_700_000_000.0
# 99.9% over 30d (default tiers 14.4 / 6 / 3 / 1); 300,000 events in the period allow 300 bad.
CLEAN: Mapping[str, Counts] = {
    label: Counts(total, 0)
    for label, total in {
        "5m": 100, "30m": 600, "1h": 1200, "2h": 2400, "6h": 12000, "1d": 28800,
        "3d": 200000, "30d": 300000,
    }.items()
}  # fmt: skip
PAGE_BURN = {"5m": Counts(100, 10), "1h": Counts(1200, 30)}  # 100x and 25x: the 1h/5m page tier
TICKET_BURN = {"2h": Counts(2400, 48), "1d": Counts(28800, 120)}  # 20x and 4.2x: the 1d/2h tier
HALF_SPENT = {"30d": Counts(300000, 150)}
SPENT = {"30d": Counts(300000, 400)}  # 1.33x the budget


def state_of(*parts: Mapping[str, Counts], min_events: int = 3) -> SloStatus:
    availability = dataclasses.replace(node().slos[0], min_events=min_events)
    counts: dict[str, Counts] = {}
    for part in parts:
        counts.update(part)
    return evaluate_slo("acme-pay", "orchestrated", availability, WORKBOOK, counts, NOW)


@pytest.mark.parametrize(
    ("parts", "state"),
    [
        ((CLEAN,), SloState.OK),
        ((CLEAN, HALF_SPENT), SloState.OK),
        ((), SloState.NO_DATA),  # not a single event
        (({label: Counts(2, 0) for label in CLEAN},), SloState.NO_DATA),  # below min_events
        ((CLEAN, TICKET_BURN, HALF_SPENT), SloState.TICKET),
        ((CLEAN, PAGE_BURN, HALF_SPENT), SloState.PAGE),
        ((CLEAN, SPENT), SloState.EXHAUSTED),
        ((CLEAN, TICKET_BURN, SPENT), SloState.EXHAUSTED),  # exhausted over ticket
        ((CLEAN, PAGE_BURN, TICKET_BURN, SPENT), SloState.PAGE),  # page over exhausted
    ],
)
def test_each_state_from_the_slo_math(
    parts: tuple[Mapping[str, Counts], ...], state: SloState
) -> None:
    assert state_of(*parts).state is state


def test_the_fixtures_fire_what_their_names_say() -> None:
    def firing(status: SloStatus) -> set[tuple[Severity, str]]:
        return {(a.severity, a.long) for a in status.firing}

    assert firing(state_of(CLEAN, PAGE_BURN)) == {(Severity.PAGE, "1h")}
    assert firing(state_of(CLEAN, TICKET_BURN)) == {(Severity.TICKET, "1d")}
    assert state_of(CLEAN, HALF_SPENT).budget.remaining_ratio == pytest.approx(0.5)
    assert state_of(CLEAN, SPENT).budget.remaining_ratio == pytest.approx(-1 / 3)


def test_a_spent_budget_with_min_events_unmet_is_no_data_not_exhausted() -> None:
    status = state_of({"30d": Counts(4, 4)}, min_events=5)
    assert status.budget.consumed_events == 4
    assert not status.budget.exhausted
    assert status.state is SloState.NO_DATA


def hand_built(*, firing: tuple[Severity, ...] = (), remaining: float | None = 0.5) -> SloStatus:
    """Any combination, including ones the math never produces (a tier firing on no data)."""
    base = state_of(CLEAN)
    alerts = tuple(
        AlertStatus(severity, "1h", "5m", 14.4, 20.0, 20.0, firing=True) for severity in firing
    )
    consumed = None if remaining is None else 1 - remaining
    budget = BudgetStatus(300, 0, consumed, remaining, 43.2, None)
    return dataclasses.replace(base, alerts=alerts, budget=budget)


@pytest.mark.parametrize(
    ("firing", "remaining", "state"),
    [
        ((Severity.TICKET, Severity.PAGE), -1.0, SloState.PAGE),
        ((Severity.PAGE,), None, SloState.PAGE),
        ((Severity.TICKET,), -1.0, SloState.EXHAUSTED),
        ((Severity.TICKET,), None, SloState.TICKET),
        ((), None, SloState.NO_DATA),
        ((), 0.0, SloState.EXHAUSTED),
        ((), 0.001, SloState.OK),
    ],
)
def test_precedence_page_exhausted_ticket_no_data_ok(
    firing: tuple[Severity, ...], remaining: float | None, state: SloState
) -> None:
    assert hand_built(firing=firing, remaining=remaining).state is state


def test_the_most_severe_firing_tier_is_the_alert_severity() -> None:
    assert hand_built(firing=(Severity.TICKET, Severity.PAGE)).alert_severity is Severity.PAGE
    assert hand_built(firing=(Severity.TICKET,)).alert_severity is Severity.TICKET
    assert hand_built(remaining=-1.0).alert_severity is None


def test_the_worst_of_several_states() -> None:
    assert PRECEDENCE == (
        SloState.PAGE,
        SloState.EXHAUSTED,
        SloState.TICKET,
        SloState.NO_DATA,
        SloState.OK,
    )
    assert worst_state([SloState.OK, SloState.TICKET, SloState.EXHAUSTED]) is SloState.EXHAUSTED
    assert worst_state([SloState.OK, SloState.NO_DATA]) is SloState.NO_DATA
    assert worst_state([]) is SloState.OK


def test_states_read_as_words() -> None:
    assert [s.label for s in PRECEDENCE] == ["page", "exhausted", "ticket", "no data", "ok"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.5943, "1.59"), (14.33, "14.3"), (599.4, "599"), (1120.4, "1,120"), (63536.36, "63,536")],
)
def test_multiples_read_without_exponents(value: float, text: str) -> None:
    assert multiple(value) == text
