"""Probe results as the store reads them: per-probe totals and per-minute counts from the probe
buckets, and the kept raw results, from the file with the unflushed data merged in. The SQL is
in :mod:`agent.store.queries`."""

from __future__ import annotations

import sqlite3

from agent.probes.result import ProbeResult
from agent.store import queries
from agent.store.buckets import Pending, ProbeCounts, first_minute_from
from agent.store.snapshot import ReadWith


class ProbeReads:
    """The probe-result reads of one store (unflushed data included)."""

    __slots__ = ("_read_with",)

    def __init__(self, read_with: ReadWith) -> None:
        self._read_with = read_with

    def probe_totals(self, node: str | None = None) -> dict[tuple[str, str], ProbeCounts]:
        """(node, probe) -> counts over every retained probe bucket, optionally for one node."""

        def read(
            conn: sqlite3.Connection, out: dict[tuple[str, str], ProbeCounts]
        ) -> dict[tuple[str, str], ProbeCounts]:
            for key, counts in queries.probe_totals(conn, node).items():
                out[key] = out[key] + counts if key in out else counts
            return out

        return self._read_with(lambda p: p.probe_totals(node), read)

    def probe_minutes(self, node: str, start: float, end: float) -> dict[int, ProbeCounts]:
        """Minute -> probe counts of ``node`` (all its probes together) over the buckets whose
        minute start lies in ``[start, end)``."""
        lo, hi = first_minute_from(start), first_minute_from(end)

        def read(conn: sqlite3.Connection, out: dict[int, ProbeCounts]) -> dict[int, ProbeCounts]:
            for minute, counts in queries.probe_minutes(conn, node, lo, hi).items():
                out[minute] = out[minute] + counts if minute in out else counts
            return out

        return self._read_with(lambda p: p.probe_minutes(node, lo, hi), read)

    def recent_results(
        self,
        *,
        node: str | None = None,
        probe: str | None = None,
        since: float | None = None,
        limit: int = 1000,
    ) -> list[ProbeResult]:
        """The latest ``limit`` raw results matching the filters, oldest first.

        ``since`` keeps results with ``started_at >= since``.
        """
        if limit <= 0:
            return []

        def take(p: Pending) -> list[ProbeResult]:
            return [
                r
                for r in p.results
                if (node is None or r.node == node)
                and (probe is None or r.probe == probe)
                and (since is None or r.started_at >= since)
            ]

        def read(conn: sqlite3.Connection, pending: list[ProbeResult]) -> list[ProbeResult]:
            stored = queries.recent_results(conn, node, probe, since, limit)
            return [*stored, *pending]

        merged = sorted(self._read_with(take, read), key=lambda r: r.started_at)  # stored first
        return merged[-limit:]
