"""The evaluations' kept window sums, saved at a clean close and taken back at the next start.

Without them the first evaluation after a start sums every window afresh: about 1,300 tier
rows per series for a 28-day window (:mod:`agent.store.tiers`), seconds of CPU for 10,000 SLOs
(bench/RESULTS.md). With them it reads only what each window gained and lost while the agent
was stopped (:meth:`~agent.store.window_sums.WindowSums.plan`), as every later evaluation does.

Table ``kept_sum`` (layout 7) holds, per series id and window label, the frozen part's minute
range ``[lo, hi)`` and its stored counts: the in-memory :class:`~agent.store.window_sums.Kept`
of the evaluation track only (labels without a track, see
:func:`~agent.store.window_sums.tracked`; the advisor's replay keeps its own and never saves
them).

When they are valid
-------------------
Saved sums are valid exactly from a clean close to the next open, and only the running agent
uses them (``SqliteStore(..., resume_window_sums=True)``):

* :func:`save`, at :meth:`~agent.store.sqlite.SqliteStore.close` after its last flush
  succeeded, with the file held and no upkeep step running any more, replaces every saved
  row in one transaction. A failed last flush saves nothing.
* :func:`take`, at the next open, reads them *and deletes them* in one transaction: from then
  on the agent writes, prunes and rolls up, and a crash (kill -9, OOM kill, power loss: no
  close) leaves nothing that could be resumed against rows that changed since. The start after
  a crash sums afresh.
* A store opened without the opt-in (``slo-agent report`` and ``advise``) neither takes nor
  saves them; if it writes to the file at all (a flush with data, pruning, rolling up) it
  deletes them in that write's transaction (:func:`discard`), since they no longer match.
* A file of an older layout has no saved sums: the first start sums afresh.
* Rows that cannot be right (``hi <= lo``, negative counts, more bad than total, a series id
  not in ``series``, a label with a track) are ignored, never an error.

After the take, the in-memory rules keep applying (:mod:`agent.store.window_sums`): a write
below the restored horizon forgets its series' sums, pruning forgets sums over pruned buckets
(so a shorter retention after the restart is handled as it prunes), rolling up forgets sums
whose start lies in a rolled slice. A window whose edges moved more than
:data:`~agent.store.window_sums.RESCAN_OVER` minutes in all while stopped (a rolling window,
both edges: a stop of more than 12 hours; a calendar month: its end only, or a new month) is
summed afresh at its first read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from agent.slo.events import Counts
from agent.store.window_sums import Kept, WindowSums, is_tracked

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

_READ = (
    "SELECT s.name, k.label, k.lo, k.hi, k.total, k.bad FROM kept_sum AS k"
    " JOIN series AS s ON s.id = k.sid AND s.kind = 'sli' AND s.part = ''"
)
_IDS = "SELECT name, id FROM series WHERE kind = 'sli' AND part = ''"
_INSERT = "INSERT INTO kept_sum (sid, label, lo, hi, total, bad) VALUES (?, ?, ?, ?, ?, ?)"


def save(conn: sqlite3.Connection, kept: Iterable[tuple[str, str, Kept]]) -> int:
    """Replace the saved sums with ``kept`` (series, label, kept sum: the evaluation track's,
    see :meth:`WindowSums.own`); run it in a write transaction. Series without an id (never
    written) are left out. Return the rows saved."""
    ids: dict[str, int] = dict(conn.execute(_IDS).fetchall())
    rows = [
        (ids[series], label, k.lo, k.hi, k.counts.total, k.counts.bad)
        for series, label, k in kept
        if series in ids and not is_tracked(label)
    ]
    conn.execute("DELETE FROM kept_sum")
    conn.executemany(_INSERT, rows)
    return len(rows)


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
