"""What the store keeps for the advisor besides the probe buckets, counting every run: latency
histograms (:mod:`agent.store.latency`), every fallback drill run, and every run of consecutive
failures of a probe (incidents are built from these). The in-memory part; pure: no I/O, no
clock. The SQL is in :mod:`agent.store.evidence_sql`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from agent.probes.result import ProbeResult, Reason


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
    # why it failed (the probe's reason: timeout, connect, status, ...); None when it passed,
    # and for runs stored before layout 8
    reason: Reason | None = None


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
    """Evidence recorded since the last flush: drill runs, and the latest state of each failure
    run that changed (a run is written again as it grows and ends). Latency histograms are
    counted with the probe buckets (:class:`agent.store.buckets.ProbeTally`)."""

    __slots__ = ("drills", "failure_runs")

    def __init__(self) -> None:
        self.drills: list[DrillRun] = []
        self.failure_runs: dict[tuple[str, str, float], FailureRun] = {}

    def __bool__(self) -> bool:
        return bool(self.drills or self.failure_runs)

    def absorb(self, newer: EvidencePending) -> None:
        self.drills.extend(newer.drills)
        self.failure_runs.update(newer.failure_runs)  # the newer state of a run wins


class FailureRunTracker:
    """Follows each probe's runs of consecutive failures as results arrive (in start order per
    probe); a successful run costs one test while no probe is failing, one dictionary lookup
    otherwise."""

    def __init__(self, open_runs: Iterable[FailureRun] = ()) -> None:
        self._open: dict[tuple[str, str], FailureRun] = {(r.node, r.probe): r for r in open_runs}

    def observe(self, result: ProbeResult, pending: EvidencePending) -> None:
        ok = result.ok
        if ok and not self._open:  # the common case: no run of failures to end
            return
        key = (result.node, result.probe)
        current = self._open.get(key)
        if ok:
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


# --- aggregates over a window: their size does not grow with the window -------------------


@dataclass(frozen=True, slots=True)
class MinuteVolume:
    """Probe runs per minute over a range of minutes, summarised so that the mean and the
    population standard deviation of the per-minute volume, from the first minute with runs to
    the last (minutes between them without runs count as 0), come out exactly."""

    total: int = 0  # runs
    # sum over the minutes of (runs in the minute) squared: a float, since a rolled bucket of
    # g minutes counts as g minutes of runs/g runs each (agent.store.evidence_sql.minute_volume)
    squares: float = 0.0
    first: int | None = None  # first and last minute with a bucket
    last: int | None = None

    def with_minute(self, minute: int, runs: int) -> MinuteVolume:
        """This summary with one more minute (not in it yet) of ``runs`` runs."""
        first = minute if self.first is None else min(self.first, minute)
        last = minute if self.last is None else max(self.last, minute)
        return MinuteVolume(self.total + runs, self.squares + runs * runs, first, last)

    @property
    def variation(self) -> float | None:
        """The coefficient of variation of the per-minute volume; None for fewer than two
        minutes or no runs."""
        if self.first is None or self.last is None or self.total <= 0:
            return None
        n = self.last - self.first + 1
        if n < 2:
            return None
        spread = n * self.squares - self.total * self.total  # n^2 x variance
        return math.sqrt(max(spread, 0)) / self.total


@dataclass(frozen=True, slots=True)
class DrillTally:
    """The drill runs of one fallback route over a window, counted from every run: how many,
    how many succeeded, when the last one and the last failed one started (unix seconds), and
    why the last failed one failed (None if it was stored before layout 8 kept reasons)."""

    runs: int = 0
    successes: int = 0
    last_run_at: float | None = None
    last_failure_at: float | None = None
    last_failure_reason: Reason | None = None

    @property
    def failures(self) -> int:
        return self.runs - self.successes

    @property
    def failing(self) -> bool:
        """Whether the last run failed."""
        return self.last_failure_at is not None and self.last_failure_at == self.last_run_at

    def with_run(self, run: DrillRun) -> DrillTally:
        at = run.started_at
        last_failure, reason = self.last_failure_at, self.last_failure_reason
        if not run.ok and (last_failure is None or at >= last_failure):
            last_failure, reason = at, run.reason
        return DrillTally(
            self.runs + 1,
            self.successes + int(run.ok),
            _latest(self.last_run_at, at),
            last_failure,
            reason,
        )


def _latest(known: float | None, at: float) -> float:
    return at if known is None else max(known, at)


@dataclass(frozen=True, slots=True)
class DrillSummary:
    """The drill runs of one fallback route over a window: how many, how many succeeded, the
    median duration of the successful ones (nearest rank), and the runs that started while
    one of the node's probes was failing (all a failover figure needs)."""

    runs: int = 0
    successes: int = 0
    ok_p50: float | None = None
    during_failures: tuple[DrillRun, ...] = ()


def nearest_rank(count: int, q: float) -> int:
    """The 1-based rank of the ``q``-quantile of ``count`` values (nearest-rank method)."""
    return max(1, math.ceil(q * count))


def kth_of_union(stored: Sequence[float], below: int, extra: Iterable[float], rank: int) -> float:
    """The ``rank``-th smallest (1-based) of a sorted stored sequence and ``extra`` values,
    given the stored values from index ``below`` on that can matter (at least as many as
    ``extra`` values plus one, or up to the end) and ``below`` stored values under them."""
    merged = sorted([*stored, *extra])
    return merged[rank - below - 1]


def failing_spans(
    runs: Iterable[FailureRun], start: float, end: float
) -> list[tuple[float, float]]:
    """The moments of ``[start, end)`` when one of ``runs`` was failing, as disjoint closed
    spans ``(first, last)`` ascending (a run still failing lasts to ``end``)."""
    spans = sorted(
        (max(r.start, start), min(end if r.end is None else r.end, end))
        for r in runs
        if r.start < end and (r.end is None or r.end >= start)
    )
    merged: list[tuple[float, float]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
