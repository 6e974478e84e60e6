"""The advisor's evidence as the store reads it: the file's rows with the unflushed data merged
in. Per-minute reads (latency, drill and failure runs) and aggregates over a window whose size
does not depend on the window (:meth:`EvidenceReads.probe_sums`, drill summaries). The SQL is in
:mod:`agent.store.evidence_sql`."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from functools import partial

from agent.store import evidence_sql
from agent.store.buckets import Pending, ProbeCounts, first_minute_from
from agent.store.evidence import (
    DrillRun,
    DrillSummary,
    DrillTally,
    FailureRun,
    MinuteVolume,
    kth_of_union,
    nearest_rank,
    overlapping,
)
from agent.store.latency import LatencyHistogram
from agent.store.snapshot import ReadWith
from agent.store.sums import ProbeSums


class EvidenceReads:
    """The advisor's reads of one store (unflushed data included)."""

    __slots__ = ("_read_with",)

    def __init__(self, read_with: ReadWith) -> None:
        self._read_with = read_with

    def latency_minutes(self, node: str, start: float, end: float) -> dict[int, LatencyHistogram]:
        """Minute -> latency histogram of ``node``'s successful runs (all its probes) over the
        buckets whose minute start lies in ``[start, end)``."""
        lo, hi = first_minute_from(start), first_minute_from(end)

        def read(
            conn: sqlite3.Connection, out: dict[int, LatencyHistogram]
        ) -> dict[int, LatencyHistogram]:
            for minute, histogram in evidence_sql.latency_minutes(conn, node, lo, hi).items():
                out[minute] = out[minute] + histogram if minute in out else histogram
            return out

        return self._read_with(lambda p: p.latency_minutes(node, lo, hi), read)

    def drill_runs(self, node: str, start: float, end: float) -> list[DrillRun]:
        """Every drill run of ``node``'s fallbacks started in ``[start, end)``, oldest first."""

        def read(conn: sqlite3.Connection, pending: list[DrillRun]) -> list[DrillRun]:
            stored = evidence_sql.drill_runs(conn, node, start, end)
            return sorted([*stored, *pending], key=lambda run: run.started_at)  # stable

        return self._read_with(partial(_pending_drills, node=node, start=start, end=end), read)

    def drill_runs_during(self, node: str, spans: Sequence[tuple[float, float]]) -> list[DrillRun]:
        """``node``'s drill runs started within the closed ``spans`` (disjoint), oldest
        first."""
        runs: list[DrillRun] = []
        for first, last in spans:
            runs.extend(self.drill_runs(node, first, math.nextafter(last, math.inf)))
        return sorted(runs, key=lambda run: run.started_at)

    def failure_runs(
        self, node: str, start: float, end: float, min_failures: int = 1
    ) -> list[FailureRun]:
        """Every run of at least ``min_failures`` consecutive failures of ``node``'s probes
        that was failing at some moment of ``[start, end)``, oldest first (as known now:
        ``end`` is None while one is still failing)."""

        def take(p: Pending) -> dict[tuple[str, str, float], FailureRun]:
            return {
                key: run
                for key, run in p.evidence.failure_runs.items()
                if run.node == node and run.failures >= min_failures
            }

        def read(
            conn: sqlite3.Connection, pending: dict[tuple[str, str, float], FailureRun]
        ) -> list[FailureRun]:
            stored = evidence_sql.failure_runs(conn, node, start, end, min_failures)
            runs = {run.key: run for run in stored}
            runs.update(pending)  # the unflushed state of a run is the newer one
            return overlapping(runs.values(), start, end)

        return self._read_with(take, read)

    def probe_sums(
        self, node: str, lo: int, hi: int, *, volume: bool, now_minute: int
    ) -> ProbeSums:
        """``node``'s probe counts, latency histogram and (if ``volume``) volume summary over
        the minutes ``[lo, hi)``, in one read; ``now_minute`` (the real time) tells which
        buckets are rolled up (see :func:`evidence_sql.minute_volume`)."""

        def take(p: Pending) -> tuple[dict[int, ProbeCounts], dict[int, LatencyHistogram]]:
            return p.probe_minutes(node, lo, hi), p.latency_minutes(node, lo, hi)

        def read(
            conn: sqlite3.Connection,
            taken: tuple[dict[int, ProbeCounts], dict[int, LatencyHistogram]],
        ) -> ProbeSums:
            pending, latency = taken
            skip = sorted(pending)
            counts = evidence_sql.probe_counts(conn, node, lo, hi)
            histogram = evidence_sql.latency_histogram(conn, node, lo, hi)
            moved = MinuteVolume()
            if volume:
                moved = evidence_sql.minute_volume(conn, node, lo, hi, now_minute, skip)
                stored = evidence_sql.minute_runs(conn, node, skip)
                for minute in skip:
                    total = stored.get(minute, 0) + pending[minute].total
                    moved = moved.with_minute(minute, total)
            return ProbeSums(sum(pending.values(), counts), sum(latency.values(), histogram), moved)

        return self._read_with(take, read)

    def first_probe_minute(self, node: str, start: float, end: float) -> int | None:
        """The first minute whose start lies in ``[start, end)`` with a probe bucket of
        ``node``, None if none."""
        lo, hi = first_minute_from(start), first_minute_from(end)

        def read(conn: sqlite3.Connection, pending: list[int]) -> int | None:
            stored = evidence_sql.first_minute(conn, node, lo, hi)
            found = [m for m in (*pending, stored) if m is not None]
            return min(found) if found else None

        return self._read_with(lambda p: list(p.probe_minutes(node, lo, hi)), read)

    def drill_tallies(self, node: str, start: float, end: float) -> dict[str, DrillTally]:
        """Fallback -> the tally of ``node``'s drills started in ``[start, end)``: one
        aggregate row per fallback, whatever the window."""

        def read(conn: sqlite3.Connection, pending: list[DrillRun]) -> dict[str, DrillTally]:
            return _with_pending(evidence_sql.drill_tallies(conn, node, start, end), pending)

        return self._read_with(partial(_pending_drills, node=node, start=start, end=end), read)

    def drill_summaries(self, node: str, start: float, end: float) -> dict[str, DrillSummary]:
        """Fallback -> the runs, successes and successful median of ``node``'s drills started
        in ``[start, end)`` (``during_failures`` left empty)."""

        def read(conn: sqlite3.Connection, pending: list[DrillRun]) -> dict[str, DrillSummary]:
            tallies = _with_pending(evidence_sql.drill_tallies(conn, node, start, end), pending)
            out: dict[str, DrillSummary] = {}
            for fallback, tally in tallies.items():
                runs, ok = tally.runs, tally.successes
                extra = [r.duration for r in pending if r.ok and r.drill.fallback == fallback]
                p50 = None
                if ok:
                    rank = nearest_rank(ok, 0.5)
                    below = max(0, rank - 1 - len(extra))
                    durations = evidence_sql.ok_durations(
                        conn, node, fallback, start, end, offset=below, limit=len(extra) + 1
                    )
                    p50 = kth_of_union(durations, below, extra, rank)
                out[fallback] = DrillSummary(runs, ok, p50)
            return out

        return self._read_with(partial(_pending_drills, node=node, start=start, end=end), read)


def _with_pending(
    tallies: dict[str, DrillTally], pending: Sequence[DrillRun]
) -> dict[str, DrillTally]:
    """``tallies`` (stored) with the unflushed ``pending`` runs counted in."""
    for run in pending:
        fallback = run.drill.fallback
        tallies[fallback] = tallies.get(fallback, DrillTally()).with_run(run)
    return tallies


def _pending_drills(pending: Pending, node: str, start: float, end: float) -> list[DrillRun]:
    return [
        run
        for run in pending.evidence.drills
        if run.drill.node == node and start <= run.started_at < end
    ]
