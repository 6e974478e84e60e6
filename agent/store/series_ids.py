"""The ids of the series a store has written, kept in memory so a flush looks up only new ones.

Buckets name their series by ``series.id``. Each flush used to insert-or-ignore every series it
wrote and look each id up by name in every upsert: three statements' worth of work per series
per flush, for ids that never change (series rows are never deleted or renumbered). Now a flush
asks the file only for series it has not seen, and its upserts bind the ids.

An id found inside a transaction is adopted only once that transaction has committed: after a
rollback the row is gone and SQLite may give its id to another series.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

ProbeKey = tuple[str, str]  # node, probe

_ENSURE = "INSERT OR IGNORE INTO series (kind, name, part) VALUES (?, ?, ?)"
_ID = "SELECT id FROM series WHERE kind = ? AND name = ? AND part = ?"


class SeriesIds:
    """``sli`` series name -> id and ``(node, probe)`` -> id, for committed series only."""

    __slots__ = ("probe", "sli")

    def __init__(self) -> None:
        self.sli: dict[str, int] = {}
        self.probe: dict[ProbeKey, int] = {}

    def resolve(
        self, conn: sqlite3.Connection, sli: Mapping[str, object], probes: Mapping[ProbeKey, object]
    ) -> SeriesIds:
        """The ids of ``sli`` and ``probes``, creating the missing series on ``conn`` (inside
        the caller's transaction). Known ids are shared; new ones are in the returned object
        only, until :meth:`adopt` takes them after the commit."""
        found = SeriesIds()
        found.sli = self.sli
        found.probe = self.probe
        if not sli.keys() - self.sli.keys() and not probes.keys() - self.probe.keys():
            return found  # the common case, found by set differences at C speed
        new_sli = [name for name in sli if name not in self.sli]
        new_probes = [key for key in probes if key not in self.probe]
        found.sli = dict(self.sli)
        found.probe = dict(self.probe)
        rows = [("sli", name, "") for name in new_sli]
        rows += [("probe", node, probe) for node, probe in new_probes]
        conn.executemany(_ENSURE, rows)
        for kind, name, part in rows:
            (sid,) = conn.execute(_ID, (kind, name, part)).fetchone()
            if kind == "sli":
                found.sli[name] = sid
            else:
                found.probe[(name, part)] = sid
        return found

    def adopt(self, committed: SeriesIds) -> None:
        """Keep the ids of a committed transaction."""
        self.sli = committed.sli
        self.probe = committed.probe
