"""What the store keeps of journey runs: per-minute step counts, per-minute blame and the
recent blamed runs with their trace ids; the in-memory part (pure) and the SQL (given a
connection).

* Step buckets, per (journey, step) and minute: runs that reached the step, failures of the
  step's own node, failovers and how many worked, seconds spent (failover included) and seconds
  the failovers added. The dependency ceiling is computed from these.
* Blame buckets, per (journey, step, node, reason) and minute: bad runs the hop was blamed for
  and the sum of their shares (see :mod:`agent.journeys.blame`).
* Blamed runs of the last ``raw_retention``, with the run's trace id: the examples shown next
  to each hop's share of the burned budget.

The journeys' SLI events go to the ordinary SLI buckets (series ``"<journey>/<slo>"``).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.store.row_batches import Insert, write_rows

STEP_COUNTERS = (
    "attempts",
    "failures",
    "failovers",
    "failovers_ok",
    "duration_sum",
    "failover_seconds",
)

StepKey = tuple[str, str]  # journey, step
BlameKey = tuple[str, str, str, str]  # journey, step, node, reason


@dataclass(frozen=True, slots=True)
class StepCounts:
    """One step of one journey over some time range."""

    attempts: int = 0
    failures: int = 0
    failovers: int = 0
    failovers_ok: int = 0
    duration_sum: float = 0.0
    failover_seconds: float = 0.0

    def __add__(self, other: StepCounts) -> StepCounts:
        return StepCounts(
            self.attempts + other.attempts,
            self.failures + other.failures,
            self.failovers + other.failovers,
            self.failovers_ok + other.failovers_ok,
            self.duration_sum + other.duration_sum,
            self.failover_seconds + other.failover_seconds,
        )


@dataclass(frozen=True, slots=True)
class BlameCounts:
    """One hop's blame over some time range: bad runs blamed on it and their shares' sum."""

    runs: int = 0
    share: float = 0.0

    def __add__(self, other: BlameCounts) -> BlameCounts:
        return BlameCounts(self.runs + other.runs, self.share + other.share)


@dataclass(frozen=True, slots=True)
class BlamedRun:
    """One blamed hop of one bad run, kept raw for a while."""

    at: float  # the run's start, unix seconds
    journey: str
    step: str
    node: str
    reason: str
    trace_id: str | None


def _values(counts: StepCounts) -> tuple[float, ...]:
    return (
        counts.attempts,
        counts.failures,
        counts.failovers,
        counts.failovers_ok,
        counts.duration_sum,
        counts.failover_seconds,
    )


def step_counts(result: JourneyResult) -> dict[str, StepCounts]:
    """Step -> what ``result`` adds to its bucket."""
    return {
        step.step: StepCounts(
            attempts=1,
            failures=0 if step.observation.ok else 1,
            failovers=1 if step.failed_over else 0,
            failovers_ok=1 if step.saved else 0,
            duration_sum=step.duration,
            failover_seconds=step.failover_seconds,
        )
        for step in result.steps
    }


class JourneyPending:
    """Journey data recorded since the last flush (guarded by the store's pending lock).

    Buckets are never dropped; blamed runs are capped at ``max_runs``, oldest dropped first.
    """

    def __init__(self, max_runs: int) -> None:
        self.steps: dict[StepKey, dict[int, StepCounts]] = {}
        self.blame: dict[BlameKey, dict[int, BlameCounts]] = {}
        self.runs: deque[BlamedRun] = deque(maxlen=max_runs)

    def __bool__(self) -> bool:
        return bool(self.steps or self.blame or self.runs)

    def add(self, minute: int, result: JourneyResult, blames: Sequence[Blame]) -> None:
        for step, counts in step_counts(result).items():
            minutes = self.steps.setdefault((result.journey, step), {})
            minutes[minute] = minutes.get(minute, StepCounts()) + counts
        for blame in blames:
            key = (blame.journey, blame.step, blame.node, blame.reason)
            blamed = self.blame.setdefault(key, {})
            blamed[minute] = blamed.get(minute, BlameCounts()) + BlameCounts(1, blame.share)
            run = BlamedRun(
                result.started_at,
                blame.journey,
                blame.step,
                blame.node,
                blame.reason,
                result.trace_id,
            )
            self.runs.append(run)

    def absorb(self, newer: JourneyPending) -> None:
        """Add ``newer``'s data to this older buffer (putting back a failed flush)."""
        for key, minutes in newer.steps.items():
            mine = self.steps.setdefault(key, {})
            for minute, counts in minutes.items():
                mine[minute] = mine.get(minute, StepCounts()) + counts
        for bkey, bminutes in newer.blame.items():
            blamed = self.blame.setdefault(bkey, {})
            for minute, bcounts in bminutes.items():
                blamed[minute] = blamed.get(minute, BlameCounts()) + bcounts
        self.runs.extend(newer.runs)

    def step_counts(self, journey: str, lo: int, hi: int) -> dict[str, StepCounts]:
        out: dict[str, StepCounts] = {}
        for (name, step), minutes in self.steps.items():
            if name == journey:
                for minute, counts in minutes.items():
                    if lo <= minute < hi:
                        out[step] = out.get(step, StepCounts()) + counts
        return out

    def blame_counts(
        self, journey: str, lo: int, hi: int
    ) -> dict[tuple[str, str, str], BlameCounts]:
        out: dict[tuple[str, str, str], BlameCounts] = {}
        for (name, step, node, reason), minutes in self.blame.items():
            if name == journey:
                for minute, counts in minutes.items():
                    if lo <= minute < hi:
                        key = (step, node, reason)
                        out[key] = out.get(key, BlameCounts()) + counts
        return out


# --- SQL ---------------------------------------------------------------------------------------

DDL: tuple[str, ...] = (
    """CREATE TABLE journey_step_bucket (
    journey TEXT NOT NULL,
    step TEXT NOT NULL,
    minute INTEGER NOT NULL,         -- floor(unix seconds / 60) of the run's start
    attempts INTEGER NOT NULL,       -- runs that reached the step
    failures INTEGER NOT NULL,       -- ... in which the step's own node failed
    failovers INTEGER NOT NULL,      -- ... retried on the step's fallback
    failovers_ok INTEGER NOT NULL,   -- ... where the fallback succeeded
    duration_sum REAL NOT NULL,      -- seconds on the step, failover included
    failover_seconds REAL NOT NULL,  -- seconds the failovers added
    PRIMARY KEY (journey, step, minute)
) WITHOUT ROWID""",
    """CREATE TABLE journey_blame_bucket (
    journey TEXT NOT NULL,
    step TEXT NOT NULL,
    node TEXT NOT NULL,
    reason TEXT NOT NULL,
    minute INTEGER NOT NULL,
    runs INTEGER NOT NULL,           -- bad runs blamed on this hop
    share REAL NOT NULL,             -- their shares' sum (1 per run, 1/k when k hops share it)
    PRIMARY KEY (journey, step, node, reason, minute)
) WITHOUT ROWID""",
    """CREATE TABLE journey_blamed_run (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    journey TEXT NOT NULL,
    step TEXT NOT NULL,
    node TEXT NOT NULL,
    reason TEXT NOT NULL,
    trace_id TEXT
)""",
    "CREATE INDEX journey_blamed_run_by_time ON journey_blamed_run (at)",
    "CREATE INDEX journey_blamed_run_by_hop ON journey_blamed_run (journey, step, node, at)",
)

_UPSERT_STEP = Insert(
    "journey_step_bucket",
    ("journey", "step", "minute", *STEP_COUNTERS),
    "ON CONFLICT (journey, step, minute) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in STEP_COUNTERS),
)
_UPSERT_BLAME = Insert(
    "journey_blame_bucket",
    ("journey", "step", "node", "reason", "minute", "runs", "share"),
    "ON CONFLICT (journey, step, node, reason, minute) DO UPDATE SET"
    " runs = runs + excluded.runs, share = share + excluded.share",
)
_INSERT_RUN = Insert("journey_blamed_run", ("at", "journey", "step", "node", "reason", "trace_id"))


def write(conn: sqlite3.Connection, pending: JourneyPending) -> int:
    """Upsert-add the buckets and append the blamed runs of ``pending``; return rows written."""
    steps = [
        (journey, step, minute, *_values(counts))
        for (journey, step), minutes in pending.steps.items()
        for minute, counts in minutes.items()
    ]
    blame = [
        (*key, minute, counts.runs, counts.share)
        for key, minutes in pending.blame.items()
        for minute, counts in minutes.items()
    ]
    runs = [(r.at, r.journey, r.step, r.node, r.reason, r.trace_id) for r in pending.runs]
    write_rows(conn, _UPSERT_STEP, steps)
    write_rows(conn, _UPSERT_BLAME, blame)
    write_rows(conn, _INSERT_RUN, runs)
    return len(steps) + len(blame) + len(runs)


def read_step_counts(
    conn: sqlite3.Connection, journey: str, lo: int, hi: int
) -> dict[str, StepCounts]:
    sums = ", ".join(f"SUM({c})" for c in STEP_COUNTERS)
    sql = (
        f"SELECT step, {sums} FROM journey_step_bucket"
        " WHERE journey = ? AND minute >= ? AND minute < ? GROUP BY step"
    )
    return {row[0]: StepCounts(*row[1:]) for row in conn.execute(sql, (journey, lo, hi))}


def read_blame_counts(
    conn: sqlite3.Connection, journey: str, lo: int, hi: int
) -> dict[tuple[str, str, str], BlameCounts]:
    sql = (
        "SELECT step, node, reason, SUM(runs), SUM(share) FROM journey_blame_bucket"
        " WHERE journey = ? AND minute >= ? AND minute < ? GROUP BY step, node, reason"
    )
    return {
        (step, node, reason): BlameCounts(runs, share)
        for step, node, reason, runs, share in conn.execute(sql, (journey, lo, hi))
    }


def read_blamed_runs(conn: sqlite3.Connection, journey: str, per_hop: int) -> list[BlamedRun]:
    """The latest ``per_hop`` blamed runs with a trace id of each (step, node), newest first."""
    sql = """
SELECT at, journey, step, node, reason, trace_id FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY step, node ORDER BY at DESC, id DESC) AS rank
    FROM journey_blamed_run WHERE journey = ? AND trace_id IS NOT NULL
) WHERE rank <= ? ORDER BY at DESC, id DESC"""
    return [BlamedRun(*row) for row in conn.execute(sql, (journey, per_hop))]


def delete_runs_before(conn: sqlite3.Connection, cutoff: float, room: int) -> int:
    """Delete up to ``room`` of the oldest blamed runs started before ``cutoff``."""
    sql = (
        "DELETE FROM journey_blamed_run WHERE id IN (SELECT id FROM journey_blamed_run"
        " WHERE at < ? ORDER BY at LIMIT ?)"
    )
    return conn.execute(sql, (cutoff, room)).rowcount


def newest_first(runs: Iterable[BlamedRun]) -> list[BlamedRun]:
    return sorted(runs, key=lambda run: run.at, reverse=True)
