"""The status memo hands back the status before only when every input of it is equal: each
input changed on its own gives the status built afresh."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from agent.model import CalendarWindow, RollingWindow, Severity, Slo
from agent.slo.alerts import tier_key
from agent.slo.evaluate import evaluate_node, evaluate_slo
from agent.slo.events import Counts
from agent.slo.status import SloKey, SloStatus, TierKey
from agent.slo.status_memo import Earlier, StatusMemo
from agent.slo.windows import required_ranges
from tests.support.builders import WORKBOOK, node

NOW = datetime(2026, 11, 30, 23, 59, 0, tzinfo=UTC).timestamp()
SLO = Slo("availability", 0.99, CalendarWindow(), node().slos[0].sli)
PAGE = tier_key(next(t for t in WORKBOOK.tiers if t.severity is Severity.PAGE))
# the page tier's long window burns; its short one has no data: it fires only if it fired before
HOLDING = {"1h": Counts(100, 50), "5m": Counts(0, 0), "month": Counts(1000, 60)}

Inputs = tuple[str, str, Slo, dict[str, Counts], float, frozenset[TierKey]]
BASE: Inputs = ("shop", "operated", SLO, HOLDING, NOW, frozenset())

CHANGES: dict[str, Callable[[Inputs], Inputs]] = {
    "owner": lambda i: ("other", *i[1:]),
    "mode": lambda i: (i[0], "orchestrated", *i[2:]),
    "objective": lambda i: (i[0], i[1], dataclasses.replace(SLO, objective=0.9), *i[3:]),
    "min events": lambda i: (i[0], i[1], dataclasses.replace(SLO, min_events=200), *i[3:]),
    "window": lambda i: (
        i[0],
        i[1],
        dataclasses.replace(SLO, window=RollingWindow(timedelta(days=30))),
        *i[3:],
    ),
    "counts": lambda i: (*i[:3], {**HOLDING, "month": Counts(1000, 61)}, *i[4:]),
    "month rolled over": lambda i: (*i[:4], NOW + 120.0, i[5]),  # 30 -> 31 days, same counts
    "tier fired before": lambda i: (*i[:5], frozenset({PAGE})),
}


def _status(memo: StatusMemo | None, inputs: Inputs) -> SloStatus:
    owner, mode, slo, counts, now, fired = inputs

    def build(earlier: Earlier | None = None) -> SloStatus:
        return evaluate_slo(owner, mode, slo, WORKBOOK, counts, now, fired, earlier)

    return (
        build() if memo is None else memo.slo(owner, mode, slo, WORKBOOK, counts, now, fired, build)
    )


def _evaluation(memo: StatusMemo, inputs: Inputs) -> SloStatus:
    memo.start()
    status = _status(memo, inputs)
    memo.finish()
    return status


def test_equal_inputs_give_the_same_object() -> None:
    memo = StatusMemo()
    first = _evaluation(memo, BASE)
    equal: Inputs = (
        BASE[0],
        BASE[1],
        dataclasses.replace(SLO),
        dict(HOLDING),
        NOW + 30.0,
        frozenset(),
    )
    assert _evaluation(memo, equal) is first
    assert memo.reused == 1


@pytest.mark.parametrize("change", CHANGES)
def test_any_changed_input_gives_the_status_built_afresh(change: str) -> None:
    memo = StatusMemo()
    first = _evaluation(memo, BASE)
    changed = CHANGES[change](BASE)
    status = _evaluation(memo, changed)
    assert status == _status(None, changed)
    assert status != first  # each change shows in the status, so the check is not vacuous
    assert memo.reused == 0


def test_a_status_not_asked_for_by_the_last_evaluation_is_dropped() -> None:
    memo = StatusMemo()
    first = _evaluation(memo, BASE)
    _evaluation(memo, CHANGES["owner"](BASE))  # the spec reloaded: "shop" is gone
    again = _evaluation(memo, BASE)
    assert again == first
    assert again is not first


def test_a_node_whose_slos_came_back_is_handed_back() -> None:
    shop = node("shop")
    counts = {shop.slos[0].name: HOLDING}
    before = {SloKey("shop", shop.slos[0].name): frozenset({PAGE})}
    memo = StatusMemo()
    memo.start()
    first = evaluate_node(shop, WORKBOOK, counts, NOW, before, memo)
    memo.finish()
    memo.start()
    second = evaluate_node(shop, WORKBOOK, counts, NOW, before, memo)
    third = evaluate_node(shop, WORKBOOK, counts, NOW, {}, memo)  # the tier did not fire
    memo.finish()
    assert second is first
    assert third == evaluate_node(shop, WORKBOOK, counts, NOW, {}) != first


def test_a_status_built_on_an_earlier_one_equals_one_built_afresh() -> None:
    rng = random.Random(14)
    slos = [SLO, dataclasses.replace(SLO, window=RollingWindow(timedelta(days=1)), min_events=5)]
    taken = 0
    for _ in range(300):
        slo = rng.choice(slos)
        labels = list(required_ranges(slo, WORKBOOK, NOW))

        def counts(labels: list[str] = labels) -> dict[str, Counts]:
            out = {}
            for label in labels:
                total = rng.choice((0, 2, 10, 100, 1000))
                out[label] = Counts(total, min(total, rng.choice((0, 0, 1, 3, 60))))
            return out

        first, fired_first = counts(), frozenset(rng.sample([PAGE], rng.randint(0, 1)))
        second = {**first, **{k: v for k, v in counts().items() if rng.random() < 0.3}}
        fired = rng.choice((fired_first, frozenset(), frozenset({PAGE})))
        before = evaluate_slo("shop", "operated", slo, WORKBOOK, first, NOW, fired_first)
        earlier = Earlier(before, first, fired_first)
        built = evaluate_slo("shop", "operated", slo, WORKBOOK, second, NOW, fired, earlier)
        assert built == evaluate_slo("shop", "operated", slo, WORKBOOK, second, NOW, fired)
        taken += sum(a is b for a, b in zip(built.windows, before.windows, strict=True))
        taken += built.alerts is before.alerts
    assert taken  # parts were taken over
