"""Failure counts by reason are rows (layout 4), and a layout 3 store, which kept them as one
column per reason, is migrated in place with the same counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.probes.result import Reason
from agent.store import SqliteStore
from agent.store.schema import SCHEMA_VERSION
from tests.store.factories import BASE, probe_result, to_layout_3

FAILURES = (
    (BASE, "home", Reason.STATUS),
    (BASE + 1, "home", Reason.STATUS),
    (BASE + 2, "home", Reason.TIMEOUT),
    (BASE + 61, "home", Reason.BODY_TOO_LARGE),
    (BASE + 62, "api", Reason.DNS),
    (BASE + 63, "api", Reason.OK),  # a success
)


def _fill(store: SqliteStore) -> None:
    for at, probe, reason in FAILURES:
        store.record(probe_result(at, probe=probe, reason=reason), ())
    store.flush()


def _columns(db: Path, table: str) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_failures_by_reason_are_rows_and_read_back_by_probe_and_minute(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:
        _fill(store)
        totals = store.probe_totals()
        minutes = store.probe_minutes("shop", 0, 2**40)
    assert totals[("shop", "home")].failures_by_reason == {
        Reason.STATUS: 2,
        Reason.TIMEOUT: 1,
        Reason.BODY_TOO_LARGE: 1,
    }
    assert totals[("shop", "api")].failures_by_reason == {Reason.DNS: 1}
    first = int(BASE // 60)
    assert minutes[first].failures_by_reason == {Reason.STATUS: 2, Reason.TIMEOUT: 1}
    assert minutes[first + 1].failures_by_reason == {Reason.BODY_TOO_LARGE: 1, Reason.DNS: 1}
    assert not [c for c in _columns(db, "probe_bucket") if c.startswith("failed_")]


def test_a_layout_3_store_is_migrated_in_place_with_the_same_counts(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:
        _fill(store)
        totals = store.probe_totals()
        minutes = store.probe_minutes("shop", 0, 2**40)
    conn = sqlite3.connect(db)
    to_layout_3(conn)
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    # the file is now as layout 3 wrote it: the counts sit in the reason columns
    status, timeout = conn.execute(
        "SELECT SUM(failed_status), SUM(failed_timeout) FROM probe_bucket"
    ).fetchone()
    conn.close()
    assert (status, timeout) == (2, 1)

    with SqliteStore(db, clock=lambda: BASE + 120) as store:  # nothing to roll up yet
        assert store.probe_totals() == totals
        assert store.probe_minutes("shop", 0, 2**40) == minutes
        store.record(probe_result(BASE + 3, reason=Reason.STATUS), ())  # adds to a moved row
        store.flush()
        assert store.probe_totals()[("shop", "home")].failures_by_reason[Reason.STATUS] == 3

    assert "failed_status" not in _columns(db, "probe_bucket")
    assert _columns(db, "probe_reason_bucket") == ["sid", "minute", "reason", "failures"]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 9
    finally:
        conn.close()


def test_a_reason_this_version_does_not_know_counts_as_error(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with SqliteStore(db) as store:
        _fill(store)
    conn = sqlite3.connect(db)  # as a newer agent with a new reason would have written it
    conn.execute(
        "INSERT INTO probe_reason_bucket SELECT id, ?, 'throttled_someday', 4 FROM series"
        " WHERE kind = 'probe' AND name = 'shop' AND part = 'api'",
        (int(BASE // 60),),
    )
    conn.commit()
    conn.close()
    with SqliteStore(db) as store:
        assert store.probe_totals()[("shop", "api")].failures_by_reason == {
            Reason.DNS: 1,
            Reason.ERROR: 4,
        }
