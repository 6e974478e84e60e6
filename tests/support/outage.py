"""A continuous outage, then recovery, replayed through the agent's evaluator over a real store
with an injected clock: the shared scenario of the alert stability tests.

Each case runs 5 healthy minutes, a 20-minute outage and 10 minutes of recovery, evaluating every
``evaluate_every`` seconds, with one page tier (2 % of a 30-day budget in 1h, short window
``short``). Time is compressed: the whole 35 minutes run in about a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from agent.model import AlertTier, AlertWindows, Severity, SpecSet
from agent.runtime.evaluator import evaluate
from agent.slo.status import Snapshot
from agent.store.sqlite import SqliteStore
from tests.store.factories import events, probe_result
from tests.support.builders import node

HEALTHY, OUTAGE, RECOVERY = 300, 1200, 600  # seconds
DURATION = HEALTHY + OUTAGE + RECOVERY


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Case:
    short: timedelta
    interval: float  # seconds between probe runs
    evaluate_every: float
    min_events: int = 3

    @property
    def name(self) -> str:
        return f"short-{self.short.seconds}s-probe-{self.interval:g}s"

    @property
    def node(self) -> str:
        return f"acme-{self.name}"


CASES = (
    Case(timedelta(minutes=1), 1, 2),
    Case(timedelta(minutes=1), 2, 2),
    Case(timedelta(minutes=1), 30, 10, min_events=2),  # 2 runs per minute: the most it can hold
    Case(timedelta(minutes=5), 1, 2),
    Case(timedelta(minutes=5), 2, 2),
    Case(timedelta(minutes=5), 30, 10),
)


def specs_for(case: Case) -> SpecSet:
    acme = node(case.node, interval=timedelta(seconds=case.interval))
    slo = replace(acme.slos[0], min_events=case.min_events)
    acme = replace(acme, slos=(slo,), alerting=replace(acme.alerting, windows="outage"))
    tier = AlertTier(Severity.PAGE, 0.02, long=timedelta(hours=1), short=case.short)
    windows = {
        "default": AlertWindows("default", (tier,)),
        "outage": AlertWindows("outage", (tier,)),
    }
    return SpecSet(nodes=(acme,), alert_windows=windows)


def replay(case: Case, directory: Path, start: float) -> Iterator[tuple[float, Snapshot]]:
    """(seconds since the outage began, snapshot) at every evaluation; the clock starts at
    ``start`` and the outage begins ``HEALTHY`` seconds later."""
    specs = specs_for(case)
    series = f"{case.node}/{specs.nodes[0].slos[0].name}"
    clock = Clock(start)
    outage_at = start + HEALTHY
    previous: Snapshot | None = None
    next_run = next_evaluation = start
    with SqliteStore(directory / f"{case.name}.db", clock=clock) as store:
        while next_evaluation <= start + DURATION:
            if next_run <= next_evaluation:
                clock.now = next_run
                good = not outage_at <= next_run < outage_at + OUTAGE
                store.record(probe_result(next_run, node=case.node), events((series, good)))
                next_run += case.interval
                continue
            clock.now = next_evaluation
            store.flush()
            before = previous.firing_tiers() if previous is not None else None
            previous = evaluate(specs, store, clock.now, firing_before=before)
            yield clock.now - outage_at, previous
            next_evaluation += case.evaluate_every
