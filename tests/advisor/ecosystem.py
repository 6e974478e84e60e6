"""Scripted local ecosystems for advisor scenarios: loopback targets whose behaviour changes at
chosen moments, probed through the real probe -> store path on a fake clock.

Probe and drill runs are started one by one at their scheduled fake times (every interval from
the start), through :class:`~agent.runtime.pipeline.ProbePipeline` and
:class:`~agent.runtime.drills.DrillPipeline` into a real :class:`SqliteStore`; request durations
are real. Reviews then read the store at any fake ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.advisor.hysteresis import FlagState
from agent.advisor.policy import DecisionPolicy
from agent.advisor.review import DecisionReport
from agent.model import SpecSet
from agent.probes import Probers
from agent.runtime.advice import policy_of, review_at
from agent.runtime.agent import targets_of
from agent.runtime.drills import DrillPipeline, drill_jobs_of
from agent.runtime.evaluator import evaluate
from agent.runtime.pipeline import ProbePipeline
from agent.spec.loader import load_specs
from agent.store.sqlite import SqliteStore
from tests.support.fakes import RecordingTelemetry
from tests.support.targets import Behaviour, Exchange

START = 28_333_333 * 60.0  # fake unix time the scripts start at (a whole minute)
MINUTE = 60.0


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True, slots=True)
class Delayed:
    """``inner``'s answer, ``seconds`` late (real time: probe durations are measured)."""

    seconds: float
    inner: Behaviour

    async def serve(self, exchange: Exchange) -> bool:
        if not await exchange.pause(self.seconds):
            return False
        return await self.inner.serve(exchange)


def load(directory: Path, text: str) -> SpecSet:
    path = directory / "specs.yaml"
    path.write_text(text, encoding="utf-8")
    return load_specs([path], {})


async def probe_timeline(
    specs: SpecSet,
    store: SqliteStore,
    clock: FakeClock,
    *,
    minutes: int,
    script: Callable[[int], None] = lambda minute: None,
) -> None:
    """Run every probe and drill of ``specs`` when due, minute by minute for ``minutes`` fake
    minutes from :data:`START`; ``script(minute)`` sets the targets' behaviour first."""
    await run_timeline(
        specs,
        store,
        clock,
        seconds=minutes * MINUTE,
        step=MINUTE,
        script=lambda elapsed: script(int(elapsed // MINUTE)),
    )


async def run_timeline(
    specs: SpecSet,
    store: SqliteStore,
    clock: FakeClock,
    *,
    seconds: float,
    step: float,
    script: Callable[[float], None] = lambda elapsed: None,
    probers: Probers | None = None,
) -> None:
    """Run every probe and drill of ``specs`` when due (every interval from :data:`START`),
    stepping the fake clock by ``step`` seconds for ``seconds``; ``script(elapsed)`` runs first
    at each step."""
    probers = probers or Probers()
    pipeline = ProbePipeline(probers, store, RecordingTelemetry(), clock=clock)
    drills = DrillPipeline(probers, store, clock=clock)
    targets = list(targets_of(specs).values())
    jobs = list(drill_jobs_of(specs).values())
    try:
        for tick in range(round(seconds / step)):
            elapsed = tick * step
            clock.now = START + elapsed
            script(elapsed)
            for target in targets:
                if elapsed % target.interval.total_seconds() == 0:
                    await pipeline.run(target)
            for job in jobs:
                if elapsed % job.interval.total_seconds() == 0:
                    await drills.run(job)
            if tick % 60 == 0:
                store.flush()
        store.flush()
    finally:
        await probers.aclose()


def reviews(
    specs: SpecSet,
    store: SqliteStore,
    minutes: Sequence[float],
    policy: DecisionPolicy | None = None,
) -> list[DecisionReport]:
    """The advisor's review at each of ``minutes`` (fake minutes from the start), in order,
    its hysteresis state carried from one to the next like the running agent's."""
    chosen = policy or policy_of(specs)
    state: dict[str, FlagState] = {}
    out: list[DecisionReport] = []
    for minute in minutes:
        now = START + minute * MINUTE
        report, state = review_at(specs, store, evaluate(specs, store, now), now, chosen, state)
        out.append(report)
    return out
