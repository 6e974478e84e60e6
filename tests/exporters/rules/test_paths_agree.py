"""One answer on every path: the agent's evaluator and the generated rules fire and resolve the
same ``ErrorBudgetBurn`` tiers at the same evaluations.

Each event stream below goes (a) minute by minute into a real :class:`SqliteStore` that
:func:`agent.runtime.evaluator.evaluate` reads at every evaluation step, its alerts taken as the
agent pushes them (:func:`exporters.alertmanager.payload.firing_alerts`), and (b) as the
agent's two SLI counters, scraped every minute, into ``promtool test rules`` over the rules of
``slo-agent rules`` evaluated at the same steps. Events fall inside their minute (never on its
edge) and every evaluation is on a minute edge, where both paths count exactly the events of
the window: ``increase`` over samples on the window's edges does not extrapolate, and a
counter that starts at 0 is not extrapolated before its start.

For each tier and step the promtool file asserts the agent's verdict on the ``ALERTS`` series
(labels and all) wherever the agent's verdict is the same one step before and after; the step
on either side of a change of the agent's verdict is not asserted, so the rules may change one
evaluation interval earlier or later than the agent (the issue's tolerance), never more. (On
these streams the two paths agree at every step; the tolerance leaves room for window edges
that the two paths resolve differently.) Each stream also states, worked out by hand, which
tiers fire and which resolve, so a stream where nothing happens on either path cannot pass for
agreement.

The SLO: 99.9 % over 30 days with the shipped SRE-workbook tiers (factors 14.4 over 1h/5m,
6 over 6h/30m, 3 over 1d/2h, 1 over 3d/6h) and ``min_events`` 3.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.durations import format_duration
from agent.model import AlertTier, Mode, SpecSet
from agent.probes.result import Reason
from agent.runtime.evaluator import evaluate
from agent.slo.status import Snapshot
from agent.store.sqlite import SqliteStore
from exporters.alerting import BURN
from exporters.alertmanager.payload import firing_alerts
from exporters.prometheus.rules import render, rule_set
from tests.exporters.rules.scenario import UnitTest, firing, run_unit_tests, traffic
from tests.store.factories import BASE, events, probe_result
from tests.support.builders import WORKBOOK, node, spec_set

NODE, SLO, MODE = "shop", "availability", "operated"
PROBES = 12  # events per minute: a probe every 5 s

Segment = tuple[int, int, int]  # (minutes, events per minute, bad events per minute)
Labels = dict[str, str]


def tier_name(tier: AlertTier) -> str:
    return f"{format_duration(tier.long)}/{format_duration(tier.short)}"


TIERS = {tier_name(tier): tier for tier in WORKBOOK.tiers}
PAGES = frozenset({"1h/5m", "6h/30m"})
TICKETS = frozenset({"1d/2h", "3d/6h"})
EVERY_TIER = PAGES | TICKETS


@dataclass(frozen=True)
class Stream:
    """An event stream, the evaluation step, and what must happen on it (worked out by hand)."""

    name: str
    segments: tuple[Segment, ...]
    fires: frozenset[str]  # tiers that fire at some step
    resolves: frozenset[str]  # tiers that fire, then have resolved by the last step
    step: int = 1  # minutes between evaluations

    @property
    def minutes(self) -> int:
        return sum(minutes for minutes, _, _ in self.segments)

    def per_minute(self) -> Iterator[tuple[int, int]]:
        for minutes, total, bad in self.segments:
            yield from itertools.repeat((total, bad), minutes)

    def steps(self) -> range:
        """Evaluation times in minutes: every ``step`` up to the end of the stream."""
        return range(self.step, self.minutes + 1, self.step)


def every(
    period: int, minutes: int, *, first: tuple[int, int], between: int = 0
) -> tuple[Segment, ...]:
    """For ``minutes``: in the first minute of every ``period``, ``first`` = (events, bad
    events); in the other minutes ``between`` events, none bad."""
    total, bad = first
    return ((1, total, bad), (period - 1, between, 0)) * (minutes // period)


OUTAGE = Stream(
    # a clean half hour, then every probe fails: every tier fires within minutes
    "continuous outage",
    ((30, PROBES, 0), (60, PROBES, PROBES)),
    fires=EVERY_TIER,
    resolves=frozenset(),
)
TWO_PERCENT = Stream(
    # 1 bad of 50 = burn 20. After m minutes of it the 1h window burns 20m/60, >= 14.4 at m=44;
    # the 6h one (the whole stream) 20m/(60+m), >= 6 at m=26; 1d >= 3 at m=11; 3d >= 1 at m=4.
    # The errors stop at 120: the 5m window is clean at 125 and the 1h/5m page resolves.
    "2 % errors",
    ((60, 50, 0), (60, 50, 1), (20, 50, 0)),
    fires=EVERY_TIER,
    resolves=frozenset({"1h/5m"}),
)
SLOW_BURN = Stream(
    # 20 events a minute, one bad event every 10 minutes: 1 of 200, burn 5 (1 of 100 in a 5m
    # window: 10), below both page factors. The tickets fire (the 1d window holds m/10 bad
    # events, rounded up, of 1000 + 20m: burn >= 3 from m=71), the pages never do.
    "slow burn",
    ((50, 20, 0), *every(10, 180, first=(20, 1), between=20)),
    fires=TICKETS,
    resolves=frozenset(),
    step=2,
)
LOW_TRAFFIC = Stream(
    # one failing event every 20 minutes: the 5m and 30m windows never hold min_events (3), so
    # the pages never fire; from 41 the 1h, 2h and longer windows do, and the tickets fire
    "low traffic",
    every(20, 180, first=(1, 1)),
    fires=TICKETS,
    resolves=frozenset(),
)
NO_TRAFFIC = Stream("no traffic", ((120, 0, 0),), fires=frozenset(), resolves=frozenset(), step=2)
RECOVERY = Stream(
    # a 10-minute outage, then clean: the 1h/5m page resolves at 45 (5m window clean), the
    # 6h/30m page at 70, the 1d/2h ticket at 160; the 3d/6h ticket's 6h window still burns
    "recovery after an outage",
    ((30, PROBES, 0), (10, PROBES, PROBES), (140, PROBES, 0)),
    fires=EVERY_TIER,
    resolves=frozenset({"1h/5m", "6h/30m", "1d/2h"}),
)
THINNING = Stream(
    # an outage, then one failing event every 10 minutes (the 5m window has no data): the
    # 1h/5m page holds until clean traffic returns at 100 and the 5m window has data again;
    # the 6h/30m page resolves at 114 (1 bad event of 169 in the 30m window: burn 5.9 < 6)
    "outage, then traffic thins out",
    ((60, PROBES, 0), (10, PROBES, PROBES), *every(10, 30, first=(1, 1)), (20, PROBES, 0)),
    fires=EVERY_TIER,
    resolves=frozenset({"1h/5m", "6h/30m"}),
)
SILENCE = Stream(
    # an outage, then no traffic at all: the 1h/5m page holds until the outage's events have
    # left the 1h window (130)
    "outage, then silence",
    ((60, PROBES, 0), (10, PROBES, PROBES), (70, 0, 0)),
    fires=EVERY_TIER,
    resolves=frozenset({"1h/5m"}),
)
STREAMS = [
    pytest.param(stream, id=stream.name)
    for stream in (
        OUTAGE,
        TWO_PERCENT,
        SLOW_BURN,
        LOW_TRAFFIC,
        NO_TRAFFIC,
        RECOVERY,
        THINNING,
        SILENCE,
    )
]


def specs() -> SpecSet:
    return spec_set(node(NODE, mode=Mode.OPERATED, objective=0.999))


# --- (a) the agent ---------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def record_minute(store: SqliteStore, minute: int, total: int, bad: int) -> None:
    """``total`` probe results spread over ``minute``, the first ``bad`` of them failing."""
    for i in range(total):
        at = BASE + 60 * minute + (i + 0.5) * 60 / total
        reason = Reason.STATUS if i < bad else Reason.OK
        result = probe_result(at, node=NODE, probe="authorize", reason=reason)
        store.record(result, events((f"{NODE}/{SLO}", i >= bad)))


def agent_verdicts(stream: Stream, directory: Path) -> dict[int, dict[str, Labels]]:
    """Minute -> the agent's firing burn tiers (name -> the alert's labels) at each step."""
    spec = specs()
    clock = Clock(BASE)
    verdicts: dict[int, dict[str, Labels]] = {}
    steps = set(stream.steps())
    previous: Snapshot | None = None
    with SqliteStore(directory / "store.db", clock=clock) as store:
        for minute, (total, bad) in enumerate(stream.per_minute()):
            record_minute(store, minute, total, bad)
            store.flush()
            clock.now = BASE + 60 * (minute + 1)
            if minute + 1 in steps:
                # as the runtime evaluates: the tiers firing at the evaluation before hold
                before = previous.firing_tiers() if previous is not None else None
                snapshot = previous = evaluate(spec, store, clock.now, firing_before=before)
                burning = firing_alerts(snapshot, spec, {}).values()
                verdicts[minute + 1] = {
                    f"{a.labels['long']}/{a.labels['short']}": dict(a.labels)
                    for a in burning
                    if a.name == BURN
                }
    return verdicts


# --- (b) the rules ---------------------------------------------------------------------------


def tier_alerts(tier: AlertTier) -> str:
    """The ``ALERTS`` series of one tier of the SLO, firing."""
    long, short = format_duration(tier.long), format_duration(tier.short)
    return (
        f'ALERTS{{alertname="{BURN}", alertstate="firing", node="{NODE}", slo="{SLO}", '
        f'severity="{tier.severity.value}", long="{long}", short="{short}"}}'
    )


def stable(verdicts: Sequence[dict[str, Labels]], index: int, tier: str) -> bool:
    """Whether the agent's verdict on ``tier`` is the same one step before and after."""
    around = verdicts[max(index - 1, 0) : index + 2]
    return len({tier in verdict for verdict in around}) == 1


def rules_test(stream: Stream, verdicts: dict[int, dict[str, Labels]]) -> UnitTest:
    """Expect of the rules what the agent said, tier by tier, wherever its verdict is stable."""
    segments = tuple((minutes, float(total), float(bad)) for minutes, total, bad in stream.segments)
    test = UnitTest(stream.name, traffic(NODE, SLO, MODE, segments))
    ordered = [verdicts[minute] for minute in stream.steps()]
    for index, minute in enumerate(stream.steps()):
        for name, tier in TIERS.items():
            if not stable(ordered, index, name):
                continue
            labels = ordered[index].get(name)
            fires = [] if labels is None else [(firing(BURN, labels), 1.0)]
            test.samples_at(minute, tier_alerts(tier), *fires)
    return test


# --- the comparison --------------------------------------------------------------------------


def fired(verdicts: dict[int, dict[str, Labels]]) -> frozenset[str]:
    return frozenset(name for verdict in verdicts.values() for name in verdict)


@pytest.mark.parametrize("stream", STREAMS)
def test_agent_and_rules_fire_and_resolve_the_same_tiers(stream: Stream, tmp_path: Path) -> None:
    verdicts = agent_verdicts(stream, tmp_path)
    last = verdicts[max(verdicts)]
    assert fired(verdicts) == stream.fires, "the agent's tiers differ from the stream's"
    assert stream.fires - set(last) == stream.resolves, "resolved tiers differ"

    [rules] = rule_set(specs())
    test = rules_test(stream, verdicts)
    checked = len(test.exprs)
    assert checked >= 0.9 * len(TIERS) * len(stream.steps())  # most steps are stable
    done = run_unit_tests(tmp_path, render([rules]), rules, [test], f"{stream.step}m")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
