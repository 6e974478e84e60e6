from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.store.factories import BASE, events, probe_result


def pragmas(db: Path, *names: str) -> list[object]:
    conn = sqlite3.connect(db)
    try:
        return [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
    finally:
        conn.close()


def test_a_new_store_is_created_with_its_parent_directories(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "store.db"
    with SqliteStore(db) as store:
        store.record(probe_result(BASE), events(("shop/a", True)))
    assert pragmas(db, "application_id", "user_version", "journal_mode", "auto_vacuum") == [
        APPLICATION_ID,
        SCHEMA_VERSION,
        "wal",
        2,  # incremental
    ]
    with SqliteStore(str(db)) as store:
        assert store.series_totals() == {"shop/a": Counts(1, 0)}


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    db.touch()
    with SqliteStore(db) as store:
        assert store.series_totals() == {}
    assert pragmas(db, "user_version") == [SCHEMA_VERSION]


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    content = b"these are my notes, not a database\n" * 200
    db.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        SqliteStore(db)
    assert str(caught.value) == (
        f"{db} is not a slo-agent store: not an SQLite database (file is not a database)"
    )
    assert db.read_bytes() == content
    assert not Path(f"{db}-wal").exists()


def test_an_sqlite_database_of_another_application_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(db)
    assert str(caught.value) == (
        f"{db} is not a slo-agent store: an SQLite database of another application"
    )
    assert pragmas(db, "journal_mode", "user_version") == ["delete", 0]


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    SqliteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as caught:
        SqliteStore(db)
    assert str(caught.value) == (
        f"{db} was written by a newer slo-agent (store schema {SCHEMA_VERSION + 1};"
        f" this version reads schema {SCHEMA_VERSION} and older)"
    )


def test_a_store_without_a_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()
    with pytest.raises(StoreError, match=re.escape(f"{db} is a damaged slo-agent store")):
        SqliteStore(db)


def test_a_path_that_cannot_hold_a_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=re.escape(f"cannot open the store {tmp_path}")):
        SqliteStore(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=re.escape(f"cannot create the store directory {blocker}")):
        SqliteStore(blocker / "store.db")
