"""The series ids a store keeps between flushes: only committed ones, and the ones in the file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.layout5 import SERIES_DDL
from agent.store.series_ids import SeriesIds
from tests.store.factories import BASE, events, probe_result


def _connect(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "series.db", isolation_level=None)
    conn.execute(SERIES_DDL)
    return conn


def _stored(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    rows = conn.execute("SELECT kind, name, part, id FROM series")
    return {(kind, name, part): sid for kind, name, part, sid in rows}


def test_new_series_are_created_and_their_file_ids_adopted(tmp_path: Path) -> None:
    conn = _connect(tmp_path)
    conn.execute("INSERT INTO series (kind, name, part) VALUES ('sli', 'old/slo', '')")
    ids = SeriesIds()
    conn.execute("BEGIN")
    found = ids.resolve(
        conn, dict.fromkeys(["a/availability", "old/slo"]), dict.fromkeys([("a", "health")])
    )
    conn.execute("COMMIT")
    ids.adopt(found)
    stored = _stored(conn)
    assert ids.sli == {
        "a/availability": stored[("sli", "a/availability", "")],
        "old/slo": stored[("sli", "old/slo", "")],
    }
    assert ids.probe == {("a", "health"): stored[("probe", "a", "health")]}


def test_known_series_ask_nothing_of_the_file(tmp_path: Path) -> None:
    conn = _connect(tmp_path)
    ids = SeriesIds()
    ids.adopt(
        ids.resolve(conn, dict.fromkeys(["a/availability"]), dict.fromkeys([("a", "health")]))
    )
    conn.execute("DELETE FROM series")  # a flush of known series must not look for them
    again = ids.resolve(conn, dict.fromkeys(["a/availability"]), dict.fromkeys([("a", "health")]))
    assert _stored(conn) == {}
    assert (again.sli, again.probe) == (ids.sli, ids.probe)


def test_ids_of_a_rolled_back_flush_are_not_kept(tmp_path: Path) -> None:
    conn = _connect(tmp_path)
    ids = SeriesIds()
    conn.execute("BEGIN")
    lost = ids.resolve(conn, dict.fromkeys(["a/availability"]), dict.fromkeys([]))
    conn.execute("ROLLBACK")
    assert lost.sli  # found inside the transaction ...
    assert ids.sli == {}  # ... but not adopted
    # another series now takes the id the rolled-back one had
    conn.execute("INSERT INTO series (kind, name, part) VALUES ('sli', 'b/latency', '')")
    conn.execute("BEGIN")
    found = ids.resolve(conn, dict.fromkeys(["a/availability", "b/latency"]), dict.fromkeys([]))
    conn.execute("COMMIT")
    ids.adopt(found)
    stored = _stored(conn)
    assert ids.sli == {
        "a/availability": stored[("sli", "a/availability", "")],
        "b/latency": stored[("sli", "b/latency", "")],
    }
    assert ids.sli["a/availability"] != ids.sli["b/latency"]


def test_a_flush_rolled_back_after_creating_series_counts_nothing_twice_or_astray(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    store = SqliteStore(db, raw_success_every=timedelta(0))
    store.record(probe_result(BASE), events(("shop/a", False)))
    other = sqlite3.connect(db, isolation_level=None)
    try:
        # the flush creates shop/a's series, then fails on the raw result: all rolled back
        other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON probe_result"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        with pytest.raises(StoreError, match="refused"):
            store.flush()
        other.execute("DROP TRIGGER refuse")
        # another series takes the id shop/a had in the rolled-back transaction
        other.execute("INSERT INTO series (kind, name, part) VALUES ('sli', 'elsewhere/x', '')")
    finally:
        other.close()
    store.record(probe_result(BASE + 1), events(("shop/a", True)))
    store.flush()
    store.record(probe_result(BASE + 2), events(("shop/a", True)))
    store.flush()  # with the ids kept from the flush before
    store.close()
    with SqliteStore(db) as reopened:
        assert reopened.series_totals() == {"shop/a": Counts(3, 1)}
        assert reopened.probe_totals()[("shop", "home")].total == 3
