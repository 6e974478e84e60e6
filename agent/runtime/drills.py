"""Fallback drills: scheduled probes forced onto a node's fallback route (spec
``fallbacks[].drill``), one scheduler job per drill.

Every drill run is stored as a :class:`~agent.store.evidence.DrillRun` of its
:class:`~agent.store.evidence.DrillKey` (node, fallback), apart from the node's own probe
results. It produces no SLI events, so a failing drill never burns the node's budgets; the
advisor reads every run back to judge whether the fallback is real and tested.

Like a probe, a drill backs off when the target throttles it with ``Retry-After`` (skipped runs
record nothing) and records the peer certificate's expiry (``probe`` ``drill:<fallback>``). Its
request has the node's ``auth``, ``tls`` and ``proxy`` unless it declares its own (spec loading
puts them in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from agent.model import Drill, Node, SpecSet
from agent.runtime.backoff import Backoff
from agent.runtime.certificates import CertificateBook
from agent.runtime.failures import FailureBook
from agent.runtime.pipeline import Observer
from agent.slo.certificates import drill_probe
from agent.store.evidence import DrillKey, DrillRun

log = logging.getLogger(__name__)

JOB_PREFIX = "drill:"  # scheduler job keys: "drill:<node>/<fallback>" (":" is in no name)


@dataclass(frozen=True, slots=True)
class DrillJob:
    """One scheduled drill: ``node``'s route to ``fallback``."""

    node: Node
    fallback: str
    drill: Drill

    @property
    def key(self) -> str:
        """The scheduler's job key."""
        return f"{JOB_PREFIX}{self.node.name}/{self.fallback}"

    @property
    def identity(self) -> DrillKey:
        return DrillKey(self.node.name, self.fallback)

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
    def record_drill(self, run: DrillRun) -> None: ...


class DrillPipeline:
    """Runs a drill's check and stores the run (no SLI events)."""

    def __init__(
        self,
        probers: Observer,
        store: DrillStore,
        *,
        clock: Callable[[], float],
        certificates: CertificateBook | None = None,
        failures: FailureBook | None = None,
    ) -> None:
        self._probers = probers
        self.failures = failures if failures is not None else FailureBook()
        self._store = store
        self._clock = clock
        self.backoff = Backoff()
        self.backed_off = 0  # drills skipped because the target asked to wait (Retry-After)
        self.certificates = certificates if certificates is not None else CertificateBook()

    async def run(self, job: DrillJob) -> DrillRun | None:
        started = self._clock()
        if self.backoff.waiting(job.key, started):
            self.backed_off += 1
            return None
        try:
            observation = await self._probers.observe(job.drill.check)
        except Exception:
            log.exception("drill %s raised instead of returning a result", job.key)
            return None
        self.backoff.observe(job.key, started, job.interval, observation)
        if observation.cert_not_after is not None:
            probe = drill_probe(job.fallback)
            self.certificates.record_expiry(job.node.name, probe, observation.cert_not_after)
        self.failures.record_drill(job.node.name, job.fallback, started, observation)
        reason = None if observation.ok else observation.reason  # the agent's own vocabulary
        run = DrillRun(job.identity, started, observation.ok, observation.duration, reason)
        self._store.record_drill(run)
        return run
