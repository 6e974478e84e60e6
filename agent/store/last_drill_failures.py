"""The last failed run of each fallback drill route as the store holds it, and whether the
route's latest run failed: what the agent's failure book (:mod:`agent.runtime.failures`) keeps
of a drill, read back at a start so the status API and page show after a restart what they
showed before it.

Bounded: two index seeks per route, whatever the number of stored runs: the route's latest
failed run and its latest passed run, each found at the newest end of its part of
``drill_run_by_route`` (``(node, fallback, ok, started_at)``, then the row id; layout 9). The
unflushed runs count too (a run is newer in memory than in the file).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from agent.probes.result import Reason
from agent.store.buckets import Pending
from agent.store.evidence import DrillKey, DrillRun
from agent.store.evidence_sql import stored_reason
from agent.store.snapshot import ReadWith

# Layout 9: each route's runs by outcome and time, so that its latest failed and latest passed
# run are one seek each, however many runs the store keeps (an index only: every row is kept)
ROUTE_INDEX_DDL: tuple[str, ...] = (
    "CREATE INDEX drill_run_by_route ON drill_run (node, fallback, ok, started_at)",
)

# the index's order backwards (ties by insertion), so no sort: the newest end of one part
LATEST = (
    "SELECT started_at, id, reason FROM drill_run WHERE node = ? AND fallback = ? AND ok = ?"
    " ORDER BY started_at DESC, id DESC LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class LastDrillFailure:
    """A drill route's latest failed run: when it started, why it failed (None when it was
    stored before layout 8 kept reasons), and whether the route's latest run failed."""

    started_at: float
    reason: Reason | None
    failing: bool


@dataclass(frozen=True, slots=True)
class _Latest:
    """A route's latest run and latest failed run (either may be missing)."""

    run: tuple[float, bool] | None = None  # started_at, ok
    failure: tuple[float, Reason | None] | None = None  # started_at, reason

    def with_run(self, started_at: float, ok: bool, reason: Reason | None) -> _Latest:
        """Later runs win; of two runs started at the same moment the one given later."""
        run = self.run if self.run is not None and self.run[0] > started_at else (started_at, ok)
        failure = self.failure
        if not ok and (failure is None or failure[0] <= started_at):
            failure = (started_at, reason)
        return _Latest(run, failure)

    def last_failure(self) -> LastDrillFailure | None:
        if self.failure is None or self.run is None:
            return None
        at, reason = self.failure
        return LastDrillFailure(at, reason, failing=not self.run[1] and self.run[0] == at)


def read_latest(conn: sqlite3.Connection, route: DrillKey) -> _Latest:
    """``route``'s stored latest run and latest failed run: two seeks."""
    failed = conn.execute(LATEST, (route.node, route.fallback, 0)).fetchone()
    passed = conn.execute(LATEST, (route.node, route.fallback, 1)).fetchone()
    if failed is None:
        return _Latest(None if passed is None else (passed[0], True))
    failure = (failed[0], stored_reason(failed[2]))
    if passed is not None and (passed[0], passed[1]) > (failed[0], failed[1]):
        return _Latest((passed[0], True), failure)
    return _Latest((failed[0], False), failure)


def last_drill_failures(
    read_with: ReadWith, routes: Sequence[DrillKey]
) -> dict[DrillKey, LastDrillFailure]:
    """Route -> its last failure, for each of ``routes`` that failed in what the store holds
    (the file and the unflushed runs)."""
    wanted = frozenset(routes)

    def read(conn: sqlite3.Connection, pending: list[DrillRun]) -> dict[DrillKey, LastDrillFailure]:
        found: dict[DrillKey, LastDrillFailure] = {}
        for route in dict.fromkeys(routes):  # once each, in the order asked
            latest = _merge(read_latest(conn, route), (r for r in pending if r.drill == route))
            last = latest.last_failure()
            if last is not None:
                found[route] = last
        return found

    return read_with(partial(_pending_of, routes=wanted), read)


def _merge(latest: _Latest, runs: Iterable[DrillRun]) -> _Latest:
    for run in runs:  # in the order recorded
        latest = latest.with_run(run.started_at, run.ok, None if run.ok else run.reason)
    return latest


def _pending_of(pending: Pending, routes: frozenset[DrillKey]) -> list[DrillRun]:
    return [run for run in pending.evidence.drills if run.drill in routes]
