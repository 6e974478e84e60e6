"""A store opened to read only (:class:`~agent.store.read_only.ReadOnlyStore`): it reads what
the writing store reads, while that one writes on, and can change nothing in the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.probes.result import Reason
from agent.store.read_only import ReadOnlyStore
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, events, probe_result, to_layout_7

SERIES = [f"n{i}/availability" for i in range(20)]  # enough for a read split in two


def _record(store: SqliteStore, minutes: range) -> None:
    for minute in minutes:
        at = BASE + 60 * minute
        for i, series in enumerate(SERIES):
            good = (minute + i) % 7 != 0
            reason = Reason.OK if good else Reason.TIMEOUT
            store.record(probe_result(at, node=f"n{i}", reason=reason), events((series, good)))
        store.flush()


def test_it_reads_what_the_writer_reads_while_the_writer_writes_on(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    windows = {"day": (BASE, BASE + 2 * 86_400.0), "hour": (BASE + 600, BASE + 4200)}
    with SqliteStore(path) as writer:
        _record(writer, range(0, 1500, 7))  # over a day back: reads are split in two
        with ReadOnlyStore(path) as reader:
            first = reader.sums_many(dict.fromkeys(SERIES, windows))
            assert first == writer.sums_many(dict.fromkeys(SERIES, windows), keep=False)
            assert reader.split_reads == 1
            _record(writer, range(1500, 1560, 3))  # committed meanwhile: seen by the next read
            assert reader.sums_many(dict.fromkeys(SERIES, windows), keep=False) == (
                writer.sums_many(dict.fromkeys(SERIES, windows), keep=False)
            )
            assert reader.probe_totals() == writer.probe_totals()
            assert reader.failure_runs("n0", BASE, BASE + 2 * 86_400) == writer.failure_runs(
                "n0", BASE, BASE + 2 * 86_400
            )


def test_every_write_is_refused_and_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path, checkpoint_every=0) as writer:
        _record(writer, range(0, 30))
        watcher = sqlite3.connect(path)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        with ReadOnlyStore(path) as reader:
            with pytest.raises(StoreError, match="open to read only"):
                reader.record(probe_result(BASE), events((SERIES[0], True)))
            with pytest.raises(StoreError, match="readonly"):
                reader.save_advisor_state("{}")
            with pytest.raises(StoreError, match="open to read only"):
                reader.prune(BASE + 86_400 * 60)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
        watcher.close()
        assert writer.advisor_state() is None


@pytest.mark.parametrize("case", ["missing", "older layout", "not a store"])
def test_it_opens_only_a_current_store_and_changes_nothing(tmp_path: Path, case: str) -> None:
    path = tmp_path / "s.db"
    if case == "older layout":
        SqliteStore(path).close()
        with sqlite3.connect(path) as conn:
            to_layout_7(conn)
        conn.close()
    elif case == "not a store":
        path.write_bytes(b"not sqlite at all, but long enough to be read as a header" * 20)
    contents = path.read_bytes() if path.exists() else None
    with pytest.raises(StoreError, match=str(path)):
        ReadOnlyStore(path)
    assert (path.read_bytes() if path.exists() else None) == contents  # not created, migrated
