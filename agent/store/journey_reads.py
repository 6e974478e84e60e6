"""Journeys as the store reads them: step counts, blame and blamed runs from the file with the
unflushed data merged in. The SQL is in :mod:`agent.store.journeys`."""

from __future__ import annotations

import sqlite3

from agent.store import journeys
from agent.store.buckets import Pending, first_minute_from
from agent.store.journeys import BlameCounts, BlamedRun, StepCounts
from agent.store.snapshot import ReadWith


class JourneyReads:
    """The journey reads of one store (unflushed data included)."""

    __slots__ = ("_read_with",)

    def __init__(self, read_with: ReadWith) -> None:
        self._read_with = read_with

    def step_counts(self, journey: str, start: float, end: float) -> dict[str, StepCounts]:
        """Step -> counts of ``journey`` over the buckets whose minute start lies in
        ``[start, end)``."""
        lo, hi = first_minute_from(start), first_minute_from(end)

        def read(conn: sqlite3.Connection, out: dict[str, StepCounts]) -> dict[str, StepCounts]:
            for step, counts in journeys.read_step_counts(conn, journey, lo, hi).items():
                out[step] = out.get(step, StepCounts()) + counts
            return out

        return self._read_with(lambda p: p.journeys.step_counts(journey, lo, hi), read)

    def blame_counts(
        self, journey: str, start: float, end: float
    ) -> dict[tuple[str, str, str], BlameCounts]:
        """(step, node, reason) -> blame of ``journey`` over the buckets whose minute start
        lies in ``[start, end)``."""
        lo, hi = first_minute_from(start), first_minute_from(end)

        def read(
            conn: sqlite3.Connection, out: dict[tuple[str, str, str], BlameCounts]
        ) -> dict[tuple[str, str, str], BlameCounts]:
            for key, counts in journeys.read_blame_counts(conn, journey, lo, hi).items():
                out[key] = out.get(key, BlameCounts()) + counts
            return out

        return self._read_with(lambda p: p.journeys.blame_counts(journey, lo, hi), read)

    def blamed_runs(self, journey: str, per_hop: int = 3) -> list[BlamedRun]:
        """The latest ``per_hop`` blamed runs with a trace id of each hop (step and node) of
        ``journey``, newest first."""
        if per_hop <= 0:
            return []

        def take(p: Pending) -> list[BlamedRun]:
            return [r for r in p.journeys.runs if r.journey == journey and r.trace_id is not None]

        def read(conn: sqlite3.Connection, pending: list[BlamedRun]) -> list[BlamedRun]:
            return [*pending, *journeys.read_blamed_runs(conn, journey, per_hop)]

        kept: list[BlamedRun] = []
        seen: dict[tuple[str, str], int] = {}
        for run in journeys.newest_first(self._read_with(take, read)):
            hop = (run.step, run.node)
            if seen.get(hop, 0) < per_hop:
                seen[hop] = seen.get(hop, 0) + 1
                kept.append(run)
        return kept
