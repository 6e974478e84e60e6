"""Incidents (runs of consecutive failed probe runs), recovery times, drill failovers and
drill latency, from the store's failure runs and drill runs, which count every run (never from
the sampled raw results). Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.store.evidence import DrillRun, FailureRun


@dataclass(frozen=True, slots=True)
class Incident:
    """Failed probe runs in a row: from the first failure (when it was detected) to the first
    success after it (``end``), or still going on (``end`` is None)."""

    start: float  # unix seconds
    end: float | None
    failures: int

    def duration(self, now: float) -> float:
        """Seconds from detection to recovery, or to ``now`` while it goes on."""
        return (now if self.end is None else self.end) - self.start

    @property
    def recovered(self) -> bool:
        return self.end is not None


def node_incidents(
    runs: Iterable[FailureRun], min_failures: int, start: float, now: float
) -> tuple[Incident, ...]:
    """The incidents of a node over ``[start, now)`` from its probes' failure runs (every run
    of consecutive failures, as the store counts them): the runs of at least ``min_failures``
    failures, overlapping ones merged into one. A run that began before ``start`` counts from
    ``start``; one that ended after ``now`` was still going on at ``now``."""
    found = sorted(
        (
            Incident(
                max(run.start, start),
                None if run.end is None or run.end > now else run.end,
                run.failures,
            )
            for run in runs
            if run.failures >= max(1, min_failures)
            and run.start < now
            and (run.end is None or run.end > start)
        ),
        key=lambda incident: incident.start,
    )
    merged: list[Incident] = []
    for incident in found:
        if merged:
            last = merged[-1]
            last_end = now if last.end is None else last.end
            if incident.start <= last_end:
                end = (
                    None
                    if last.end is None or incident.end is None
                    else max(last.end, incident.end)
                )
                merged[-1] = Incident(last.start, end, last.failures + incident.failures)
                continue
        merged.append(incident)
    return tuple(merged)


def mean_recovery(incidents: Sequence[Incident]) -> float | None:
    """Mean seconds from detection to recovery over the recovered incidents; None if none."""
    durations = [i.end - i.start for i in incidents if i.end is not None]
    return sum(durations) / len(durations) if durations else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Failovers:
    """How drills fared while the node was down: incidents during which a drill ran
    (``drilled``), and the seconds from detection to the first successful drill of each
    incident where one succeeded."""

    drilled: int
    seconds: tuple[float, ...]

    @property
    def mean_seconds(self) -> float | None:
        return sum(self.seconds) / len(self.seconds) if self.seconds else None


def failovers(incidents: Sequence[Incident], drills: Sequence[DrillRun], now: float) -> Failovers:
    """Detection-to-failover per incident: from the incident's start to the end of the first
    successful drill that started during it."""
    drilled = 0
    seconds: list[float] = []
    for incident in incidents:
        end = now if incident.end is None else incident.end
        during = [d for d in drills if incident.start <= d.started_at <= end]
        if not during:
            continue
        drilled += 1
        good = [d for d in during if d.ok]
        if good:
            first = min(good, key=lambda d: d.started_at)
            seconds.append(first.started_at + first.duration - incident.start)
    return Failovers(drilled, tuple(seconds))
