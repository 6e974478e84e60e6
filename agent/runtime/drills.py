"""Fallback drills: scheduled probes forced onto a node's fallback route (spec
``fallbacks[].drill``), one scheduler job per drill.

A drill's result is stored under the drill series of its node: store node ``drill:<node>``,
probe ``<fallback>`` (":" is in no name, so it never mixes with a node's own probes). It
produces no SLI events, so a failing drill never burns the node's budgets; the advisor reads
the series back to judge whether the fallback is real and tested.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from agent.model import Drill, Node, SpecSet
from agent.probes.result import ProbeResult
from agent.runtime.pipeline import Observer
from agent.slo.events import SliEvent

log = logging.getLogger(__name__)

DRILL_PREFIX = "drill:"


def drill_series(node: str) -> str:
    """The store's node key of ``node``'s drill results."""
    return f"{DRILL_PREFIX}{node}"


@dataclass(frozen=True, slots=True)
class DrillJob:
    """One scheduled drill: ``node``'s route to ``fallback``."""

    node: Node
    fallback: str
    drill: Drill

    @property
    def key(self) -> str:
        return f"{drill_series(self.node.name)}/{self.fallback}"

    @property
    def interval(self) -> timedelta:
        return self.drill.every


def drill_jobs_of(specs: SpecSet) -> dict[str, DrillJob]:
    """A scheduled job per drilled fallback of ``specs``' nodes, keyed like the scheduler's."""
    jobs = (
        DrillJob(node, fallback.node, fallback.drill)
        for node in specs.nodes
        for fallback in node.fallbacks
        if fallback.drill is not None
    )
    return {job.key: job for job in jobs}


class DrillStore(Protocol):
    def record(self, result: ProbeResult, events: Sequence[SliEvent]) -> None: ...


class DrillPipeline:
    """Runs a drill's check and stores the result under the drill series (no SLI events)."""

    def __init__(self, probers: Observer, store: DrillStore, *, clock: Callable[[], float]) -> None:
        self._probers = probers
        self._store = store
        self._clock = clock

    async def run(self, job: DrillJob) -> ProbeResult | None:
        started = self._clock()
        try:
            observation = await self._probers.observe(job.drill.check)
        except Exception:
            log.exception("drill %s raised instead of returning a result", job.key)
            return None
        result = ProbeResult(drill_series(job.node.name), job.fallback, started, observation)
        self._store.record(result, ())
        return result
