"""What the store keeps for the advisor besides the probe buckets, counting every run: latency
histograms (:mod:`agent.store.latency`), every fallback drill run, and every run of consecutive
failures of a probe (incidents are built from these). The in-memory part; pure: no I/O, no
clock. The SQL is in :mod:`agent.store.evidence_sql`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from agent.probes.result import ProbeResult
from agent.store.latency import LatencyPending


@dataclass(frozen=True, slots=True)
class DrillKey:
    """A drilled fallback route: ``node``'s route to ``fallback``."""

    node: str
    fallback: str


@dataclass(frozen=True, slots=True)
class DrillRun:
    """One run of a fallback drill."""

    drill: DrillKey
    started_at: float  # unix seconds
    ok: bool
    duration: float  # seconds


@dataclass(frozen=True, slots=True)
class FailureRun:
    """Consecutive failed runs of one probe: from the first failure to the start of the first
    success after it (``end``), or still failing (``end`` is None)."""

    node: str
    probe: str
    start: float  # unix seconds
    end: float | None
    failures: int

    @property
    def key(self) -> tuple[str, str, float]:
        return self.node, self.probe, self.start


class EvidencePending:
    """Evidence recorded since the last flush: latency tallies, drill runs, and the latest
    state of each failure run that changed (a run is written again as it grows and ends)."""

    __slots__ = ("drills", "failure_runs", "latency")

    def __init__(self) -> None:
        self.latency = LatencyPending()
        self.drills: list[DrillRun] = []
        self.failure_runs: dict[tuple[str, str, float], FailureRun] = {}

    def __bool__(self) -> bool:
        return bool(self.latency or self.drills or self.failure_runs)

    def absorb(self, newer: EvidencePending) -> None:
        self.latency.absorb(newer.latency)
        self.drills.extend(newer.drills)
        self.failure_runs.update(newer.failure_runs)  # the newer state of a run wins


class FailureRunTracker:
    """Follows each probe's runs of consecutive failures as results arrive (in start order per
    probe); costs one dictionary lookup per successful run."""

    def __init__(self, open_runs: Iterable[FailureRun] = ()) -> None:
        self._open: dict[tuple[str, str], FailureRun] = {(r.node, r.probe): r for r in open_runs}

    def observe(self, result: ProbeResult, pending: EvidencePending) -> None:
        key = (result.node, result.probe)
        current = self._open.get(key)
        if result.ok:
            if current is not None:
                del self._open[key]
                ended = replace(current, end=result.started_at)
                pending.failure_runs[ended.key] = ended
            return
        if current is None:
            current = FailureRun(result.node, result.probe, result.started_at, None, 1)
        else:
            current = replace(current, failures=current.failures + 1)
        self._open[key] = current
        pending.failure_runs[current.key] = current


def overlapping(runs: Iterable[FailureRun], start: float, end: float) -> list[FailureRun]:
    """The runs that were failing at some moment of ``[start, end)``, oldest first."""
    kept = [r for r in runs if r.start < end and (r.end is None or r.end > start)]
    return sorted(kept, key=lambda r: (r.start, r.probe))
