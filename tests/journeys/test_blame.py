"""Blame for bad runs, against hand-made results where the culprit is known."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from agent.journeys.blame import Blame, blame_run, latency_budget, latency_shares
from agent.journeys.result import JourneyResult, StepResult
from agent.probes.result import Observation, Outcome, Reason
from tests.journeys.support import NODES, journey, step

CHECKOUT = journey(
    step("add-to-cart", "storefront", "http://shop.invalid/cart"),
    step("authorize", "acme-pay", "http://pay.invalid/", fallback=("backup-pay", "http://b/")),
    step("quote", "fastship", "http://ship.invalid/"),
    latency_under=timedelta(seconds=3),
)


def ok(seconds: float = 0.1) -> Observation:
    return Observation(Outcome.SUCCESS, Reason.OK, seconds, 200)


def failed(reason: Reason, seconds: float = 0.1) -> Observation:
    status = 503 if reason is Reason.STATUS else None
    return Observation(Outcome.FAILURE, reason, seconds, status)


def run(*steps: StepResult, duration: float | None = None) -> JourneyResult:
    total = sum(s.duration for s in steps) if duration is None else duration
    return JourneyResult("checkout", 1_700_000_000.0, total, steps, "ab" * 16)


def cart(o: Observation) -> StepResult:
    return StepResult("add-to-cart", "storefront", o)


def pay(o: Observation, fallback: Observation | None = None) -> StepResult:
    return StepResult("authorize", "acme-pay", o, "backup-pay" if fallback else None, fallback)


def quote(o: Observation) -> StepResult:
    return StepResult("quote", "fastship", o)


def test_a_good_run_blames_nobody() -> None:
    assert blame_run(CHECKOUT, run(cart(ok()), pay(ok()), quote(ok())), NODES) == ()


def test_a_partner_5xx_is_blamed_on_the_partner_with_the_probe_reason() -> None:
    # no fallback on this path: the run ends at the failed step
    result = run(cart(ok()), StepResult("authorize", "acme-pay", failed(Reason.STATUS)))
    assert blame_run(CHECKOUT, result, NODES) == (
        Blame("checkout", "authorize", "acme-pay", "orchestrated", "Acme Pay", "status", 1.0),
    )


def test_an_operated_node_failing_is_blamed_on_the_team() -> None:
    result = run(cart(failed(Reason.TIMEOUT)))
    assert blame_run(CHECKOUT, result, NODES) == (
        Blame("checkout", "add-to-cart", "storefront", "operated", "", "timeout", 1.0),
    )


def test_a_step_saved_by_its_fallback_is_not_blamed() -> None:
    result = run(cart(ok()), pay(failed(Reason.CONNECT), ok()), quote(ok()))
    assert result.ok
    assert blame_run(CHECKOUT, result, NODES) == ()


def test_a_failed_failover_is_blamed_on_the_steps_own_node() -> None:
    result = run(cart(ok()), pay(failed(Reason.STATUS), failed(Reason.ASSERTION)))
    (blame,) = blame_run(CHECKOUT, result, NODES)
    assert (blame.node, blame.reason, blame.share) == ("acme-pay", "status", 1.0)


def test_the_first_failed_step_is_blamed_not_a_later_one() -> None:
    result = run(cart(ok()), pay(ok()), quote(failed(Reason.ASSERTION)))
    (blame,) = blame_run(CHECKOUT, result, NODES)
    assert (blame.step, blame.node, blame.partner, blame.reason) == (
        "quote",
        "fastship",
        "FastShip",
        "assertion",
    )


def test_the_budget_is_the_smallest_latency_under() -> None:
    loose = journey(*CHECKOUT.steps, latency_under=timedelta(seconds=5))
    both = dataclasses.replace(loose, slos=(*loose.slos, *CHECKOUT.slos[1:]))
    assert latency_budget(loose) == 5.0
    assert latency_budget(both) == 3.0
    assert latency_budget(journey(*CHECKOUT.steps)) is None


def test_a_slow_partner_overran_its_even_share_of_the_budget() -> None:
    # 3 s over 3 steps: 1 s each; the carrier took 2.8 s, the run 3.1 s
    result = run(cart(ok(0.1)), pay(ok(0.2)), quote(ok(2.8)))
    assert not blame_run(CHECKOUT, run(cart(ok(0.1)), pay(ok(0.2)), quote(ok(2.6))), NODES)
    assert blame_run(CHECKOUT, result, NODES) == (
        Blame("checkout", "quote", "fastship", "orchestrated", "FastShip", "latency", 1.0),
    )


def test_shares_follow_the_median_durations_of_good_runs() -> None:
    medians = {"add-to-cart": 0.1, "authorize": 1.0, "quote": 0.4}
    shares = latency_shares(CHECKOUT, 3.0, medians)
    assert shares == pytest.approx({"add-to-cart": 0.2, "authorize": 2.0, "quote": 0.8})
    # payments may take 2 s of the 3: the cart taking 0.5 s overran its 0.2 s share, payments not
    result = run(cart(ok(0.5)), pay(ok(1.9)), quote(ok(0.7)))
    (blame,) = blame_run(CHECKOUT, result, NODES, medians)
    assert (blame.step, blame.reason) == ("add-to-cart", "latency")
    # without the medians the even split blames payments (1.9 s of a 1 s share)
    (even,) = blame_run(CHECKOUT, result, NODES)
    assert even.step == "authorize"


def test_several_steps_over_their_share_split_the_blame() -> None:
    result = run(cart(ok(1.2)), pay(ok(1.5)), quote(ok(0.4)))
    blames = blame_run(CHECKOUT, result, NODES)
    assert [(b.step, b.share) for b in blames] == [("add-to-cart", 0.5), ("authorize", 0.5)]
    assert sum(b.share for b in blames) == 1.0


def test_when_no_step_overran_on_its_own_the_largest_overrun_is_blamed() -> None:
    # the steps took 2.7 s, the run 3.2 s: time went outside the steps
    result = run(cart(ok(0.9)), pay(ok(0.95)), quote(ok(0.85)), duration=3.2)
    (blame,) = blame_run(CHECKOUT, result, NODES)
    assert (blame.step, blame.reason, blame.share) == ("authorize", "latency", 1.0)


def test_a_failover_that_makes_the_run_slow_blames_the_failed_node_for_latency() -> None:
    result = run(cart(ok(0.1)), pay(failed(Reason.TIMEOUT, 1.9), ok(0.6)), quote(ok(0.5)))
    (blame,) = blame_run(CHECKOUT, result, NODES)
    assert (blame.node, blame.reason) == ("acme-pay", "latency")


def test_an_unknown_node_is_blamed_without_mode_or_partner() -> None:
    result = run(cart(failed(Reason.DNS)))
    (blame,) = blame_run(CHECKOUT, result, {})
    assert (blame.node, blame.mode, blame.partner) == ("storefront", "", "")
