"""Alerts that hold: through a continuous outage a firing tier never resolves and re-fires, and
it resolves soon after the outage ends (the agent's evaluator over a real store, clock injected;
the same replay is pushed to a real Alertmanager in tests/exporters/alertmanager).

The observed fault: with a 1m short window a page resolved at every minute boundary, because a
1m window held only the current partial minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.factories import BASE
from tests.support.outage import CASES, OUTAGE, Case, replay


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_firing_episode_per_outage_resolved_within_the_short_window(
    case: Case, tmp_path: Path
) -> None:
    steps = []
    for at, snapshot in replay(case, tmp_path, BASE):
        tier = snapshot.nodes[0].slos[0].alerts[0]
        steps.append((at, tier.firing, tier.short_burn))
    firing = [at for at, on, _ in steps if on]
    assert firing, "the outage never paged"
    started, stopped = firing[0], firing[-1]
    # one episode: every evaluation from the first firing one to the last fires
    episode = [on for at, on, _ in steps if started <= at <= stopped]
    assert all(episode), "the page resolved and fired again during the outage"
    short = case.short.total_seconds()
    assert 0 <= started <= short + case.interval + case.evaluate_every
    resolved = stopped + case.evaluate_every
    assert OUTAGE < resolved <= OUTAGE + short + case.evaluate_every
    # the short window held enough runs all through the outage, and only failed ones once the
    # outage filled it: no hysteresis was needed to hold the page
    assert all(b is not None for at, _, b in steps if started <= at < OUTAGE)
    filled = [b for at, _, b in steps if short + case.interval <= at < OUTAGE]
    assert filled
    assert all(b == pytest.approx(1000) for b in filled)
