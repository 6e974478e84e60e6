"""Alerts that hold: through a continuous outage a firing tier never resolves and re-fires, and
it resolves soon after the outage ends (the agent's evaluator over a real store, clock injected).

The observed fault: with a 1m short window a page resolved at every minute boundary, because a
1m window held only the current partial minute. Each case runs 5 healthy minutes, a 20-minute
outage and 10 minutes of recovery, evaluating every ``evaluate_every`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from agent.model import AlertTier, AlertWindows, Severity, SpecSet
from agent.runtime.evaluator import evaluate
from agent.slo.status import Snapshot
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result
from tests.support.builders import node

HEALTHY, OUTAGE, RECOVERY = 300, 1200, 600  # seconds


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Case:
    short: timedelta
    interval: float
    evaluate_every: float
    min_events: int = 3


CASES = [
    Case(timedelta(minutes=1), 1, 2),
    Case(timedelta(minutes=1), 2, 2),
    Case(timedelta(minutes=1), 30, 10, min_events=2),  # 2 runs per minute: the most it can hold
    Case(timedelta(minutes=5), 1, 2),
    Case(timedelta(minutes=5), 2, 2),
    Case(timedelta(minutes=5), 30, 10),
]


def _specs(case: Case) -> SpecSet:
    acme = node("acme-pay", interval=timedelta(seconds=case.interval))
    slo = replace(acme.slos[0], min_events=case.min_events)
    acme = replace(acme, slos=(slo,), alerting=replace(acme.alerting, windows="custom"))
    tier = AlertTier(Severity.PAGE, 0.02, long=timedelta(hours=1), short=case.short)
    windows = {"default": AlertWindows("default", (tier,)), "custom": AlertWindows("c", (tier,))}
    return SpecSet(nodes=(acme,), alert_windows=windows)


def _run(case: Case, tmp_path: Path) -> list[tuple[float, bool, float | None]]:
    """(seconds since the outage began, firing?, short-window burn) at every evaluation."""
    specs = _specs(case)
    clock = _Clock(BASE)
    outage_at = BASE + HEALTHY
    end = outage_at + OUTAGE + RECOVERY
    steps: list[tuple[float, bool, float | None]] = []
    previous: Snapshot | None = None
    next_run, next_evaluation = BASE, BASE
    with SqliteStore(tmp_path / "store.db", clock=clock) as store:
        while next_evaluation <= end:
            if next_run <= next_evaluation:
                clock.now = next_run
                good = not outage_at <= next_run < outage_at + OUTAGE
                store.record(probe_result(next_run), events(("acme-pay/availability", good)))
                next_run += case.interval
                continue
            clock.now = next_evaluation
            store.flush()
            before = previous.firing_tiers() if previous is not None else None
            previous = evaluate(specs, store, clock.now, firing_before=before)
            tier = previous.nodes[0].slos[0].alerts[0]
            steps.append((clock.now - outage_at, tier.firing, tier.short_burn))
            next_evaluation += case.evaluate_every
    return steps


@pytest.mark.parametrize(
    "case", CASES, ids=[f"short-{c.short.seconds}s-probe-{c.interval:g}s" for c in CASES]
)
def test_one_firing_episode_per_outage_resolved_within_the_short_window(
    case: Case, tmp_path: Path
) -> None:
    steps = _run(case, tmp_path)
    firing = [at for at, on, _ in steps if on]
    assert firing, "the outage never paged"
    started, stopped = firing[0], firing[-1]
    # one episode: every evaluation from the first firing one to the last fires
    episode = [on for at, on, _ in steps if started <= at <= stopped]
    assert all(episode), "the page resolved and fired again during the outage"
    assert 0 <= started <= case.short.total_seconds() + case.interval + case.evaluate_every
    resolved = stopped + case.evaluate_every
    short = case.short.total_seconds()
    assert OUTAGE < resolved <= OUTAGE + short + case.evaluate_every
    # the short window held enough runs all through the outage, and only failed ones once the
    # outage filled it: no hysteresis was needed to hold the page
    assert all(b is not None for at, _, b in steps if started <= at < OUTAGE)
    filled = [b for at, _, b in steps if short + case.interval <= at < OUTAGE]
    assert filled
    assert all(b == pytest.approx(1000) for b in filled)
