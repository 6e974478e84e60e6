"""The store's reads of probe results, journeys and the advisor's evidence, each over the file
and the unflushed data together (:mod:`agent.store.snapshot`): the read side of
:class:`~agent.store.sqlite.SqliteStore`, which inherits these methods and passes in how it
reads (its connection and unflushed data, under its locks).

The queries live in :mod:`agent.store.probe_reads`, :mod:`agent.store.journey_reads` and
:mod:`agent.store.evidence_reads`; this class only gives them the store's one interface.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from agent.probes.result import ProbeResult
from agent.slo.events import Counts
from agent.store import queries
from agent.store.buckets import ProbeCounts
from agent.store.evidence import DrillKey, DrillRun, DrillSummary, DrillTally, FailureRun
from agent.store.evidence_reads import EvidenceReads
from agent.store.journey_reads import JourneyReads
from agent.store.journeys import BlameCounts, BlamedRun, StepCounts
from agent.store.last_drill_failures import LastDrillFailure, last_drill_failures
from agent.store.latency import LatencyHistogram
from agent.store.probe_reads import ProbeReads
from agent.store.snapshot import ReadWith
from agent.store.sums import ProbeSums


class StoreReads:
    """Reads over the file and the unflushed data, through ``read_with``."""

    def __init__(self, read_with: ReadWith) -> None:
        self._evidence = EvidenceReads(read_with)
        self._journeys = JourneyReads(read_with)
        self._probes = ProbeReads(read_with)
        self._read_with = read_with

    def series_totals(self) -> dict[str, Counts]:
        """Series -> counts over every retained bucket."""

        def read(conn: sqlite3.Connection, out: dict[str, Counts]) -> dict[str, Counts]:
            for series, counts in queries.series_totals(conn).items():
                out[series] = out.get(series, Counts()) + counts
            return out

        return self._read_with(lambda p: p.series_totals(), read)

    # --- probe results (agent.store.probe_reads) -------------------------------------------

    def probe_totals(self, node: str | None = None) -> dict[tuple[str, str], ProbeCounts]:
        """See :meth:`ProbeReads.probe_totals`."""
        return self._probes.probe_totals(node)

    def probe_minutes(self, node: str, start: float, end: float) -> dict[int, ProbeCounts]:
        """See :meth:`ProbeReads.probe_minutes`."""
        return self._probes.probe_minutes(node, start, end)

    def recent_results(
        self,
        *,
        node: str | None = None,
        probe: str | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[ProbeResult]:
        """See :meth:`ProbeReads.recent_results`."""
        return self._probes.recent_results(node=node, probe=probe, since=since, limit=limit)

    # --- journeys (agent.store.journey_reads) ----------------------------------------------

    def journey_step_counts(self, journey: str, start: float, end: float) -> dict[str, StepCounts]:
        """See :meth:`JourneyReads.step_counts`."""
        return self._journeys.step_counts(journey, start, end)

    def journey_blame_counts(
        self, journey: str, start: float, end: float
    ) -> dict[tuple[str, str, str], BlameCounts]:
        """See :meth:`JourneyReads.blame_counts`."""
        return self._journeys.blame_counts(journey, start, end)

    def journey_blamed_runs(self, journey: str, per_hop: int = 3) -> list[BlamedRun]:
        """See :meth:`JourneyReads.blamed_runs`."""
        return self._journeys.blamed_runs(journey, per_hop)

    # --- the advisor's evidence (agent.store.evidence_reads) --------------------------------

    def latency_minutes(self, node: str, start: float, end: float) -> dict[int, LatencyHistogram]:
        """See :meth:`EvidenceReads.latency_minutes`."""
        return self._evidence.latency_minutes(node, start, end)

    def drill_runs(self, node: str, start: float, end: float) -> list[DrillRun]:
        """See :meth:`EvidenceReads.drill_runs`."""
        return self._evidence.drill_runs(node, start, end)

    def failure_runs(
        self, node: str, start: float, end: float, min_failures: int = 1
    ) -> list[FailureRun]:
        """See :meth:`EvidenceReads.failure_runs`."""
        return self._evidence.failure_runs(node, start, end, min_failures)

    def probe_sums(
        self, node: str, lo: int, hi: int, *, volume: bool, now_minute: int
    ) -> ProbeSums:
        """See :meth:`EvidenceReads.probe_sums`."""
        return self._evidence.probe_sums(node, lo, hi, volume=volume, now_minute=now_minute)

    def first_probe_minute(self, node: str, start: float, end: float) -> int | None:
        """See :meth:`EvidenceReads.first_probe_minute`."""
        return self._evidence.first_probe_minute(node, start, end)

    def drill_tallies(self, node: str, start: float, end: float) -> dict[str, DrillTally]:
        """See :meth:`EvidenceReads.drill_tallies`."""
        return self._evidence.drill_tallies(node, start, end)

    def drill_summaries(self, node: str, start: float, end: float) -> dict[str, DrillSummary]:
        """See :meth:`EvidenceReads.drill_summaries`."""
        return self._evidence.drill_summaries(node, start, end)

    def drill_runs_during(self, node: str, spans: Sequence[tuple[float, float]]) -> list[DrillRun]:
        """See :meth:`EvidenceReads.drill_runs_during`."""
        return self._evidence.drill_runs_during(node, spans)

    def last_drill_failures(self, routes: Sequence[DrillKey]) -> dict[DrillKey, LastDrillFailure]:
        """See :func:`agent.store.last_drill_failures.last_drill_failures`."""
        return last_drill_failures(self._read_with, routes)
