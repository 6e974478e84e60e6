"""The embedded store in one SQLite file (:class:`SqliteStore`): recording, flushing, upkeep,
the window reads and what is kept across restarts; the other reads are inherited from
:class:`~agent.store.store_reads.StoreReads`. What it keeps, what a crash can lose and which
thread may call what: :mod:`agent.store`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import suppress
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from agent.errors import StoreError
from agent.journeys.blame import Blame
from agent.journeys.result import JourneyResult
from agent.probes.result import ProbeResult
from agent.slo.events import Counts, SliEvent
from agent.slo.status import SloKey, TierKey
from agent.store import evidence_sql, firing_sql, queries, saved_sums, schema, tiers
from agent.store.buckets import (
    Pending,
    RawSampler,
    first_minute_from,
    minute_of,
)
from agent.store.checkpoints import BACKSTOP_PAGES, CHECKPOINT_EVERY, Checkpointer
from agent.store.evidence import (
    DrillRun,
    FailureRunTracker,
)
from agent.store.periodic_saves import PeriodicSaves
from agent.store.pruning import Pruner, release_free_pages
from agent.store.read_parts import ReadParts
from agent.store.rollup import Roller
from agent.store.series_ids import SeriesIds
from agent.store.split_reads import SplitReads
from agent.store.store_reads import StoreReads
from agent.store.switching import short_switches
from agent.store.turns import TurnLock
from agent.store.upkeep import Budget, StoreWork, Upkeep
from agent.store.window_reads import WindowReads
from agent.store.window_sums import FROZEN_AFTER

log = logging.getLogger(__name__)

P = TypeVar("P")
T = TypeVar("T")


# One success per probe per this long in the raw results (every failure and change of outcome is
# kept): they only illustrate incident timelines, and at a minute they were most of a
# month-old store (180 of 261 MB at 500 probes).
RAW_SUCCESS_EVERY = timedelta(minutes=5)


class SqliteStore(StoreReads):
    """Buckets and recent results in one SQLite file; see the module docstring for guarantees."""

    def __init__(
        self,
        path: str | Path,
        *,
        raw_retention: timedelta = timedelta(hours=48),
        bucket_retention: timedelta = timedelta(days=35),
        busy_timeout: float = 5.0,
        prune_batch: int = 1_000,
        prune_limit: int = 100_000,
        max_pending_results: int = 50_000,
        rollup_limit: int = 1_000_000,
        raw_success_every: timedelta = RAW_SUCCESS_EVERY,
        clock: Callable[[], float] = time.time,
        resume_window_sums: bool = False,
        checkpoint_every: float = CHECKPOINT_EVERY,
        periodic_saves: PeriodicSaves | None = None,
    ) -> None:
        """Open or create the store at ``path`` (parent directories are created).

        ``busy_timeout`` is how long a write waits for another connection's lock (seconds);
        ``prune`` deletes at most ``prune_limit`` rows per call, ``prune_batch`` per transaction,
        and rolls older buckets up into coarser tiers reading at most ``rollup_limit`` rows
        (:mod:`agent.store.tiers`), about ``prune_batch`` per transaction.
        Raw results keep every failure and change of outcome but only one success per probe per
        ``raw_success_every`` (0 keeps all); the buckets count every result. ``clock`` (unix
        seconds) tells which buckets are old enough for their sums to be kept between reads.
        The write-ahead log is checkpointed in a thread of its own at most every
        ``checkpoint_every`` seconds while the store is written (:mod:`agent.store.checkpoints`);
        0 leaves it to SQLite, inside the commit that takes the log past 1,000 pages.

        ``resume_window_sums`` (the running agent only): take the window sums the last run saved
        (and delete them from the file), and save them again every few minutes (``periodic_saves``,
        by default every :data:`~agent.store.periodic_saves.SAVE_EVERY`) and at close
        (:mod:`agent.store.saved_sums`). Without it, they are neither read nor saved, and the
        first write of this store deletes them.
        """
        _require_positive("raw_retention", raw_retention)
        _require_positive("bucket_retention", bucket_retention)
        if checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
        if min(prune_batch, prune_limit, max_pending_results, rollup_limit) < 1:
            raise ValueError(
                "prune_batch, prune_limit, max_pending_results and rollup_limit must be >= 1"
            )
        self.path = Path(path)
        self._raw_retention = raw_retention
        self._bucket_retention = bucket_retention
        self._max_pending_results = max_pending_results
        self._raw_sampler = RawSampler(raw_success_every.total_seconds())
        self._db_lock = TurnLock()  # the connection, in turn; taken before _pending_lock
        self._pending_lock = threading.Lock()
        self._pending = Pending(max_pending_results)
        self._series_ids = SeriesIds()  # the series flushed so far (under _db_lock)
        self._dropped_results = 0  # by batches already written
        self._pruner = Pruner(self._pruning, batch=prune_batch, limit=prune_limit)
        self._roller = Roller(self._rolling, batch=prune_batch, limit=rollup_limit)
        self._upkeep = Upkeep(self._upkeep_pass)
        self._closing = threading.Event()  # set by close(): upkeep begins no more steps
        self.work = StoreWork()  # seconds spent writing, waiting, pruning, rolling up
        self._clock = clock
        # slices of the advisor's tables rolled up so far: kept sums over them are out of date
        self.probe_rolls = 0
        self._windows = WindowReads(queries.SERIES_PER_QUERY)
        self._read_parts: dict[str, ReadParts] = {}  # per track: series per hold (read_parts.py)
        # large window reads (summed afresh) split with a second connection (under _db_lock)
        self._split = self._split_reads(busy_timeout)
        super().__init__(self._read_with)
        self._resume_sums = resume_window_sums
        # the running agent's periodic saves of its kept window sums (under _db_lock)
        self._saves = (periodic_saves or PeriodicSaves()) if resume_window_sums else None
        # a store without the opt-in deletes the saved sums with its first write (they would
        # no longer match); one with it took them at open
        self._discard_saved = not resume_window_sums
        self._conn: sqlite3.Connection | None = self._open(busy_timeout, clock)
        self._checkpointer: Checkpointer | None = None
        try:
            if checkpoint_every > 0:
                # the checkpointer's job, but for a log that outruns it
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
                self._checkpointer = Checkpointer(
                    self.path, checkpoint_every, partial(self.work.add, "checkpoint"), busy_timeout
                )
            if resume_window_sums:
                self._take_window_sums(self._conn)
            self._failure_runs = FailureRunTracker(
                self._read(self._conn, evidence_sql.open_failure_runs)
            )
        except BaseException:
            if self._checkpointer is not None:
                self._checkpointer.close()
            self._conn.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def record(self, result: ProbeResult, events: Sequence[SliEvent]) -> None:
        """Add one probe result and its SLI events to memory; written by the next flush."""
        with self._pending_lock:
            self._connection()  # raises if closed
            self._pending.add(result, events, keep_raw=self._raw_sampler.keep(result))
            self._windows.record(events, result.started_at)
            self._failure_runs.observe(result, self._pending.evidence)

    def record_drill(self, run: DrillRun) -> None:
        """Add one fallback drill run to memory; written by the next flush."""
        with self._pending_lock:
            self._connection()  # raises if closed
            self._pending.evidence.drills.append(run)

    def record_journey(
        self, result: JourneyResult, events: Sequence[SliEvent], blames: Sequence[Blame]
    ) -> None:
        """Add one journey run (its SLI events, step counts and blame) to memory; written by
        the next flush."""
        minute = minute_of(result.started_at)
        with self._pending_lock:
            self._connection()  # raises if closed
            self._pending.add_events(minute, events)
            self._pending.journeys.add(minute, result, blames)
            self._windows.record(events, result.started_at)

    def flush(self) -> int:
        """Write everything recorded so far in one transaction; return the rows written.

        On failure the data stays in memory (merged with whatever was recorded meanwhile) and
        StoreError is raised. Then, while a periodic save of the kept window sums is due or
        under way, save a slice of them (:mod:`agent.store.periodic_saves`).
        """
        with short_switches():  # other threads' Python hands over within 0.5 ms (switching.py)
            written = self._flush()
            self._save_some_sums()
        return written

    def _flush(self) -> int:
        asked = time.monotonic()
        with self._db_lock:
            began = time.monotonic()
            self.work.add("wait", began - asked)
            conn = self._connection()
            with self._pending_lock:
                batch = self._pending
                if not batch:
                    return 0
                self._pending = Pending(self._max_pending_results)
            horizon = self._windows.kept.horizon  # buckets below it change kept sums
            below = [] if horizon is None else batch.series_below(horizon)
            try:
                write = partial(queries.write_pending, batch=batch, ids=self._series_ids)
                if below and self._saves is not None:  # rare: a run flushed very late
                    write = partial(saved_sums.written_below, write=write, series=below)
                written, ids = self._write(conn, "write to", write)
            except BaseException:
                with self._pending_lock:
                    batch.absorb(self._pending)
                    self._pending = batch
                raise
            finally:
                self.work.add("write", time.monotonic() - began)
            self._series_ids.adopt(ids)
            self._wrote()
            self._dropped_results += batch.dropped_results
            if below:
                self._windows.kept.forget(below)
            return written

    def set_bucket_retention(self, retention: timedelta) -> None:
        _require_positive("bucket_retention", retention)
        self._bucket_retention = retention

    def prune(self, now: float) -> int:
        """Delete buckets whose minute starts before ``now - bucket_retention`` and raw results
        started before ``now - raw_retention``; return the rows deleted.

        At most ``prune_limit`` rows go per call, in transactions of ``prune_batch`` rows, so a
        large backlog never holds the file for long; a return value of ``prune_limit`` means
        more may be left for the next call.

        Then buckets older than a tier's age are rolled up into it, a bounded amount per call
        (:mod:`agent.store.tiers`); window sums kept over a rolled slice are forgotten.
        """
        bucket_cutoff = first_minute_from(now - self._bucket_retention.total_seconds())
        raw_cutoff = now - self._raw_retention.total_seconds()
        self._pruning_below(bucket_cutoff)
        deleted = self._pruner.prune(raw_cutoff, bucket_cutoff)
        with self._db_lock:
            # sums kept over pruned buckets would keep counting them
            self._windows.kept.forget_below(bucket_cutoff)
            release_free_pages(self._connection(), self.path, self._pruner.limit)
        self._roller.roll(minute_of(now))
        self._wrote()
        return deleted

    def upkeep(self, now: float, seconds: float) -> bool:
        """Go on with a pass of :meth:`prune`'s work (pruning, giving space back, rolling up),
        or start one as of ``now``, for about ``seconds``: no transaction begins after that
        (the first always does), each is at most ``prune_batch`` rows and commits where it
        stopped. Return True when the pass is over, False when the next call goes on with it.
        Once :meth:`close` is called, no further transaction begins.

        The agent calls it right after each flush (:mod:`agent.store.upkeep`).
        """
        try:
            return self._upkeep.run(now, Budget(seconds, self._closing.is_set))
        finally:
            self._wrote()

    def take_work(self) -> dict[str, float]:
        """Seconds spent since the previous call writing flushes, waiting for the file to
        flush, pruning and rolling up (:data:`agent.store.upkeep.PARTS`)."""
        return self.work.take()

    def _upkeep_pass(self, now: float) -> Iterator[object]:
        bucket_cutoff = first_minute_from(now - self._bucket_retention.total_seconds())
        raw_cutoff = now - self._raw_retention.total_seconds()
        self._pruning_below(bucket_cutoff)
        yield from self._pruner.steps(raw_cutoff, bucket_cutoff, _UNLIMITED)
        while True:
            with self._db_lock:
                self._windows.kept.forget_below(bucket_cutoff)  # would count pruned buckets
                started = time.monotonic()
                released = release_free_pages(self._connection(), self.path, _PAGES_PER_STEP)
                self.work.add("prune", time.monotonic() - started)
            yield released
            if released < _PAGES_PER_STEP:
                break
        yield from self._roller.steps(minute_of(now), _UNLIMITED)

    def close(self) -> None:
        """Flush, then close the file. Closing twice is harmless. If this last flush fails,
        the file is closed all the same and StoreError is raised."""
        if self._conn is None:
            return
        self._closing.set()
        flushed = False
        try:
            self.flush()
            flushed = True
        finally:
            if self._checkpointer is not None:  # SQLite's close checkpoints what is left
                self._checkpointer.close()
            with self._db_lock, self._pending_lock:
                self._split.close()  # first: the last connection to close cleans up the log
                conn, self._conn = self._conn, None
                if conn is not None and flushed and self._resume_sums:
                    # in the same hold as the close: no upkeep step or read comes after it
                    self._save_window_sums(conn)
            if conn is not None:
                with suppress(sqlite3.Error):  # only an optimisation hint
                    conn.execute("PRAGMA optimize")
                conn.close()

    @property
    def window_minutes_read(self) -> int:
        """Minutes of stored buckets the window reads have asked for since the store was opened,
        per series (what kept sums save: a 28-day window summed afresh asks for 40,320)."""
        with self._db_lock:
            return self._windows.minutes_read

    @property
    def split_reads(self) -> int:
        """Window reads split over two connections so far (:mod:`agent.store.split_reads`)."""
        with self._db_lock:
            return self._split.splits

    @property
    def dropped_results(self) -> int:
        """Raw results dropped from memory because flushes kept failing (buckets never are)."""
        with self._pending_lock:
            return self._dropped_results + self._pending.dropped_results

    # --- reading (unflushed data included) -------------------------------------------------

    def sums(self, series: str, ranges: Mapping[str, tuple[float, float]]) -> dict[str, Counts]:
        """Label -> counts of ``series`` over the buckets whose minute start lies in
        ``[start, end)`` (unix seconds; infinite bounds allowed), all ranges in one query."""
        return self.sums_many({series: ranges})[series]

    def sums_many(
        self,
        requests: Mapping[str, Mapping[str, tuple[float, float]]],
        *,
        keep: bool = True,
        track: str = "",
    ) -> dict[str, dict[str, Counts]]:
        """:meth:`sums` for many series, one query per distinct minute range and part of at most
        100 series, each part read under the connection lock on its own and as large as fits a
        hold of ~20 ms (:mod:`agent.store.read_parts`), so a flush waits for one part at most.

        A recent range shorter than an hour is counted in fine slots
        (:mod:`agent.store.recent`), so it covers ``[start, end)`` to within a 60th of its
        length rather than to whole minutes; longer ranges are counted in whole minutes.

        Sums of buckets older than a few minutes are kept from call to call and patched with
        the buckets a window gained or lost since (:mod:`agent.store.window_sums`), so a 28-day
        window costs a few bucket reads per call instead of 40,320. ``keep=False`` is for one-off
        ranges (the charts' steps): they are counted in whole minutes and summed afresh, and
        nothing is kept for them (no kept sums, no fine slots), so reading history costs no
        memory afterwards. ``track`` names sums kept apart from the others, for reads that move
        through time on their own (the advisor's start-up replay evaluates the past: sharing
        the evaluations' sums, each would re-read hours of edges the other moved);
        :meth:`drop_track` lets them go.
        """
        now = self._clock()
        horizon = minute_of(now) - FROZEN_AFTER
        out: dict[str, dict[str, Counts]] = {}
        names = list(requests)
        # a part of the series at a time, each under the locks throughout (so each series
        # counts its unflushed and its stored buckets once), letting a flush in between; each
        # part as large as fits a short hold (read_parts.py)
        sizes = self._read_parts.setdefault(track, ReadParts())
        i = 0
        while i < len(names):
            part = {name: requests[name] for name in names[i : i + sizes.size]}
            i += len(part)
            with self._db_lock:
                held = time.monotonic()
                conn = self._connection()
                with self._pending_lock:
                    begun = self._windows.begin(part, now, self._pending, fine=keep, track=track)

                def range_sums(
                    names: list[str], los: list[int], hi: int, conn: sqlite3.Connection = conn
                ) -> Mapping[str, list[Counts]]:
                    query = partial(queries.range_sums, los=los, hi=hi)
                    span = hi - min(los)  # a read summed afresh is split over two connections
                    return self._read(conn, lambda c: self._split.read(c, names, span, query))

                out.update(self._windows.finish(begun, horizon, range_sums, keep=keep, track=track))
                sizes.held(len(part), time.monotonic() - held)
        return out

    def drop_track(self, track: str) -> None:
        """Let the window sums kept for ``track`` (see :meth:`sums_many`) go."""
        with self._db_lock:
            self._windows.kept.drop_track(track)

    def advisor_state(self) -> str | None:
        """The advisor's persisted hysteresis state (text), None if none was saved."""
        with self._db_lock:
            return self._read(self._connection(), evidence_sql.read_advisor_state)

    def save_advisor_state(self, text: str) -> None:
        """Persist the advisor's hysteresis state (replacing the previous one)."""
        action = partial(evidence_sql.write_advisor_state, text=text)
        with self._db_lock:
            queries.in_transaction(self._connection(), self.path, "save the advisor state", action)
        self._wrote()

    def firing_tiers(self) -> dict[SloKey, frozenset[TierKey]]:
        """The alert tiers saved by :meth:`save_firing_tiers` (:mod:`agent.store.firing_sql`)."""
        with self._db_lock:
            return self._read(self._connection(), firing_sql.read)

    def save_firing_tiers(self, firing: Mapping[SloKey, Collection[TierKey]]) -> None:
        """Replace the saved firing alert tiers with ``firing``."""
        with self._db_lock:
            action = partial(firing_sql.write, firing=firing)
            queries.in_transaction(self._connection(), self.path, "save the firing tiers", action)

    # --- internals -------------------------------------------------------------------------

    def _open(self, busy_timeout: float, clock: Callable[[], float]) -> sqlite3.Connection:
        """The store's connection: the file opened (created, migrated) for reading and writing
        (a read-only store opens it otherwise: :mod:`agent.store.read_only`)."""
        return schema.connect(self.path, busy_timeout, clock)

    def _split_reads(self, busy_timeout: float) -> SplitReads:
        return SplitReads(self.path, busy_timeout)

    def _wrote(self) -> None:
        """A write committed: a checkpoint may be due (:mod:`agent.store.checkpoints`)."""
        if self._checkpointer is not None:
            self._checkpointer.written()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the store {self.path} is closed")
        return self._conn

    def _take_window_sums(self, conn: sqlite3.Connection) -> None:
        """Load the window sums the last clean close saved, deleting them in the same
        transaction; adopted only once that has committed."""
        taken = self._windows.new_sums()
        loaded = self._write(conn, "resume window sums from", partial(saved_sums.take, into=taken))
        self._windows.adopt(taken)
        if loaded:
            log.info("resumed %d window sums the last run saved", loaded)

    def _save_window_sums(self, conn: sqlite3.Connection) -> None:
        """Save the evaluations' kept window sums for the next start (failing only logs)."""
        floor = None if self._saves is None else self._saves.floor
        save = partial(saved_sums.save, kept=self._windows.kept.own(), floor=floor)
        try:
            saved = queries.in_transaction(conn, self.path, "save window sums to", save)
        except StoreError as exc:
            log.warning("%s; the next start sums its windows afresh", exc)
        else:
            log.info("saved %d window sums for the next start", saved)

    def _pruning_below(self, cutoff: int) -> None:
        """A pruning pass to ``cutoff`` begins: saves leave out sums it may spoil."""
        if self._saves is not None:
            with self._db_lock:
                self._saves.pruning_below(cutoff)

    def _save_some_sums(self) -> None:
        """A slice of the periodic save, if one is due and the store is not closing."""
        saves = self._saves
        if saves is None or self._closing.is_set() or not saves.due():
            return
        with self._db_lock:
            if self._conn is None:  # closed meanwhile: the close saved them all
                return
            step = partial(saves.step, kept=self._windows.kept)
            try:
                over = queries.in_transaction(self._conn, self.path, "save sums to", step)
            except StoreError as exc:
                saves.failed()
                log.warning("%s; the next periodic save is in %.0f s", exc, saves.every)
                return
        if over:
            log.debug("saved %d window sums for the next start", saves.rows)

    def _write(
        self, conn: sqlite3.Connection, what: str, action: Callable[[sqlite3.Connection], T]
    ) -> T:
        """``action`` in one write transaction, deleting the saved window sums first if this
        store has to (see ``_discard_saved``) and has not yet."""
        if not self._discard_saved:
            return queries.in_transaction(conn, self.path, what, action)

        def discarding(conn: sqlite3.Connection) -> T:
            saved_sums.discard(conn)
            return action(conn)

        value = queries.in_transaction(conn, self.path, what, discarding)
        self._discard_saved = False
        return value

    def _pruning(self, action: Callable[[sqlite3.Connection], T]) -> T:
        with self._db_lock:
            started = time.monotonic()
            try:
                return self._write(self._connection(), "prune", action)
            finally:
                self.work.add("prune", time.monotonic() - started)

    def _rolling(
        self, shape: tiers.Shape, action: Callable[[sqlite3.Connection], tiers.Rolled]
    ) -> tiers.Rolled:
        if shape == tiers.SLI_SHAPE:  # saved sums over the slice go in the same transaction
            action = partial(saved_sums.rolling, roll=action)
        with self._db_lock:
            started = time.monotonic()
            try:
                rolled = self._write(self._connection(), "roll up", action)
            finally:
                self.work.add("rollup", time.monotonic() - started)
            if rolled.slice is not None and shape == tiers.SLI_SHAPE:
                # a kept sum whose window starts inside the slice counted rows now moved
                self._windows.kept.forget_inside(*rolled.slice)
            if rolled.slice is not None and shape.name in _ADVISOR_TABLES:
                self.probe_rolls += 1  # the advisor's kept window sums read afresh
            return rolled

    def _read_with(
        self, take: Callable[[Pending], P], read: Callable[[sqlite3.Connection, P], T]
    ) -> T:
        """``take`` a part of the unflushed data, then ``read`` the file with it, under the
        connection's lock throughout (see :mod:`agent.store.snapshot`)."""
        with self._db_lock:
            conn = self._connection()
            with self._pending_lock:
                taken = take(self._pending)
            return self._read(conn, lambda c: read(c, taken))

    def _read(self, conn: sqlite3.Connection, action: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return action(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}") from exc


_UNLIMITED = 2**62  # rows: a pass of upkeep goes on until it is done
_PAGES_PER_STEP = 2_000  # free pages given back per upkeep step (8 MB of 4 KiB pages)

# the tables the advisor's kept window sums (agent.runtime.evidence_sums) are read from
_ADVISOR_TABLES = frozenset({"probe_bucket", "probe_reason_bucket", "latency_bucket"})


def _require_positive(name: str, value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {value}")
