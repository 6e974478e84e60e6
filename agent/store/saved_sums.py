"""The evaluations' kept window sums, saved in the file while the agent runs and at a clean
close, and taken back at the next start, whether the last stop was clean or a crash.

Without them the first evaluation after a start sums every window afresh: about 1,300 tier
rows per series for a 28-day window (:mod:`agent.store.tiers`), seconds of CPU for 10,000 SLOs
(bench/RESULTS.md). With them it reads only what each window gained and lost since they were
saved (:meth:`~agent.store.window_sums.WindowSums.plan`), as every later evaluation does.

Table ``kept_sum`` (layout 7; indexed by ``lo`` since layout 8) holds, per series id and window
label, the frozen part's minute range ``[lo, hi)`` and its stored counts: the in-memory
:class:`~agent.store.window_sums.Kept` of the evaluation track only (labels without a track, see
:func:`~agent.store.window_sums.tracked`; the advisor's replay keeps its own and never saves
them).

When they are valid
-------------------
A saved row is valid while the ``sli_bucket`` rows of its series in ``[lo, hi)`` are what they
were when its sum was read. Every write that changes such rows makes the saved rows it may
spoil go *in the same transaction* as the change, so whatever the file holds after any commit
(and so after a crash at any point) is valid:

* A flush that writes buckets below the in-memory horizon (the highest ``hi`` kept; every
  saved ``hi`` is at most that) deletes the saved rows of those series
  (:func:`written_below`); the common flush, above the horizon, does no extra work.
* A pruning step that deleted SLI buckets before ``cutoff`` deletes the rows with
  ``lo < cutoff`` (:func:`forget_below`).
* A roll-up chunk of ``sli_bucket`` over the slice ``[s_lo, s_hi)`` at ``grain`` deletes the
  rows with ``s_lo < lo < s_hi`` and ``lo`` off a multiple of ``grain`` (:func:`forget_inside`,
  as :meth:`~agent.store.window_sums.WindowSums.forget_inside` does in memory).

Rows are written only from memory, and never a sum that is already out of date there:

* The running agent (``SqliteStore(..., resume_window_sums=True)``) writes them every
  :data:`~agent.store.periodic_saves.SAVE_EVERY` in slices of series
  (:mod:`agent.store.periodic_saves`), and all at once at
  :meth:`~agent.store.sqlite.SqliteStore.close` after its last flush succeeded (a failed last
  flush saves nothing more). A save writes the sums memory holds *over* the saved rows: a row
  of the same series and window is replaced, the others stay, valid by the rules above
  (memory forgets every window of a series where a write spoils one; the file loses only the
  rows spoilt). Each slice takes its sums from memory when it is written, under the
  connection's lock: a read keeps its sums in the same hold of the lock as it reads them, and
  a flush or a roll-up chunk forgets sums in memory in the same hold as its commit, so no
  slice can carry a sum read before a commit that spoilt it. Pruning forgets in memory only
  after its steps; so every save leaves out the sums with ``lo`` below the highest cutoff a
  pruning pass has begun with (the *floor*).
* :func:`take`, at the next open, reads them *and deletes them* in one transaction; the
  running agent writes them again at its first periodic save (a minute after the open). A
  crash (kill -9, OOM kill) therefore resumes the sums of the last slice saved before it, each
  still matching the file.
* A store opened without the opt-in (``slo-agent report`` and ``advise``) neither takes nor
  saves them; if it writes to the file at all (a flush with data, pruning, rolling up) it
  deletes them in that write's transaction (:func:`discard`).
* A file of an older layout has no saved sums: the first start sums afresh.
* Rows that cannot be right (``hi <= lo``, negative counts, more bad than total, a series id
  not in ``series``, a label with a track) are ignored, never an error.

After the take, the in-memory rules keep applying (:mod:`agent.store.window_sums`). A window
whose edges moved more than :data:`~agent.store.window_sums.RESCAN_OVER` minutes in all since
its sum was saved (a rolling window, both edges: a stop of more than 12 hours; a calendar
month: its end only, or a new month) is summed afresh at its first read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from agent.slo.events import Counts
from agent.store.row_batches import Insert, write_rows
from agent.store.tiers import Rolled
from agent.store.window_sums import Kept, WindowSums, is_tracked

T = TypeVar("T")

KEPT_SUM_DDL: tuple[str, ...] = (
    """CREATE TABLE kept_sum (
    sid INTEGER NOT NULL,      -- series.id, kind "sli"
    label TEXT NOT NULL,       -- the window's label ("1h", "28d", "month", ...)
    lo INTEGER NOT NULL,       -- the kept range's first minute
    hi INTEGER NOT NULL,       -- the minute after its last
    total INTEGER NOT NULL,
    bad INTEGER NOT NULL,
    PRIMARY KEY (sid, label)
) WITHOUT ROWID""",
)
# Layout 8: the deletes of :func:`forget_inside` (each roll-up chunk of ``sli_bucket``) and
# :func:`forget_below` (each pruning step) seek the rows they delete instead of scanning every
# saved sum (70,000 rows at 10,000 SLOs; bench.sum_saves).
KEPT_SUM_INDEX_DDL: tuple[str, ...] = ("CREATE INDEX kept_sum_by_lo ON kept_sum (lo)",)

_READ = (
    "SELECT s.name, k.label, k.lo, k.hi, k.total, k.bad FROM kept_sum AS k"
    " JOIN series AS s ON s.id = k.sid AND s.kind = 'sli' AND s.part = ''"
)
_IDS = "SELECT name, id FROM series WHERE kind = 'sli' AND part = ''"
_UPSERT = Insert(
    "kept_sum",
    ("sid", "label", "lo", "hi", "total", "bad"),
    "ON CONFLICT (sid, label) DO UPDATE SET lo = excluded.lo, hi = excluded.hi,"
    " total = excluded.total, bad = excluded.bad",
)
_NAMES_PER_DELETE = 500  # bound parameters per statement stay far below SQLite's limit

Row = tuple[int, str, int, int, float, float]  # counts are whole numbers, typed as Counts is


def series_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """SLI series name -> id, for every series the file knows."""
    return dict(conn.execute(_IDS).fetchall())


def save(
    conn: sqlite3.Connection,
    kept: Iterable[tuple[str, str, Kept]],
    floor: int | None = None,
    ids: Mapping[str, int] | None = None,
) -> int:
    """Write ``kept`` (series, label, kept sum: the evaluation track's, see
    :meth:`WindowSums.own`) over the saved sums, leaving out those with ``lo`` below ``floor``
    (pruning may have spoilt them); run it in a write transaction. A saved row of the same
    series and label is replaced; the others stay (every saved row is valid, whatever memory
    forgot). ``ids`` (series name -> id) is read from the file if not given; series without an
    id (never written) are left out. Return the rows written."""
    known = series_ids(conn) if ids is None else ids
    rows = _rows(((known.get(series), label, k) for series, label, k in kept), floor)
    return write_rows(conn, _UPSERT, rows)  # a slice's 3,500 rows in a few statements


def take(conn: sqlite3.Connection, into: WindowSums) -> int:
    """Load the saved sums into ``into`` and delete them from the file; run it in a write
    transaction (the delete and the read commit together). Return the sums loaded."""
    loaded = 0
    for series, label, kept in _valid(conn.execute(_READ)):
        into.keep(series, label, (kept.lo, kept.hi), kept.counts)
        loaded += 1
    discard(conn)
    return loaded


def discard(conn: sqlite3.Connection) -> None:
    """Delete every saved sum (inside the caller's transaction)."""
    conn.execute("DELETE FROM kept_sum")


# --- invalidation, each in the transaction of the write that causes it ----------------------


def written_below(
    conn: sqlite3.Connection, write: Callable[[sqlite3.Connection], T], series: Sequence[str]
) -> T:
    """``write`` (a flush that puts buckets of ``series`` below the horizon), then delete the
    saved sums of those series, in the caller's transaction."""
    value = write(conn)
    for i in range(0, len(series), _NAMES_PER_DELETE):
        names = series[i : i + _NAMES_PER_DELETE]
        marks = ", ".join("?" for _ in names)
        conn.execute(
            "DELETE FROM kept_sum WHERE sid IN (SELECT id FROM series"
            f" WHERE kind = 'sli' AND part = '' AND name IN ({marks}))",
            names,
        )
    return value


def forget_below(conn: sqlite3.Connection, minute: int) -> None:
    """Delete the saved sums over buckets before ``minute`` (pruned in this transaction)."""
    conn.execute("DELETE FROM kept_sum WHERE lo < ?", (minute,))


def forget_inside(conn: sqlite3.Connection, lo: int, hi: int, grain: int) -> None:
    """Delete the saved sums whose range starts inside ``(lo, hi)`` off a multiple of
    ``grain``: rolling that slice up (in this transaction) moved buckets before their start."""
    conn.execute("DELETE FROM kept_sum WHERE lo > ? AND lo < ? AND lo % ? != 0", (lo, hi, grain))


def rolling(conn: sqlite3.Connection, roll: Callable[[sqlite3.Connection], Rolled]) -> Rolled:
    """``roll`` (a chunk of ``sli_bucket``'s roll-up), then :func:`forget_inside` its slice."""
    rolled = roll(conn)
    if rolled.slice is not None:
        forget_inside(conn, *rolled.slice)
    return rolled


def _rows(kept: Iterable[tuple[int | None, str, Kept]], floor: int | None) -> list[Row]:
    return [
        (sid, label, k.lo, k.hi, k.counts.total, k.counts.bad)
        for sid, label, k in kept
        if sid is not None and not is_tracked(label) and (floor is None or k.lo >= floor)
    ]


def _valid(rows: Iterable[tuple[object, ...]]) -> Iterator[tuple[str, str, Kept]]:
    for series, label, *numbers in rows:
        if not isinstance(series, str) or not isinstance(label, str) or is_tracked(label):
            continue
        ints = [n for n in numbers if isinstance(n, int)]
        if len(ints) != 4:
            continue
        lo, hi, total, bad = ints
        if lo < hi and 0 <= bad <= total:
            yield series, label, Kept(lo, hi, Counts(total, bad))
