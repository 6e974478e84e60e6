"""Window-sum reads hold the store's connection in parts sized to a short hold."""

from __future__ import annotations

from pathlib import Path

from agent.store import SqliteStore
from agent.store.read_parts import HOLD_TARGET, MOST_SERIES, ReadParts
from tests.store.factories import BASE, events, probe_result


def test_parts_shrink_when_series_are_dear_and_grow_back_when_cheap() -> None:
    parts = ReadParts()
    assert parts.size == MOST_SERIES
    parts.held(100, 1.0)  # 10 ms a series: two fit a 20 ms hold
    assert parts.size == int(HOLD_TARGET / 0.01)
    parts.held(parts.size, 10.0)  # dearer than the whole target: one at a time, never none
    assert parts.size == 1
    parts.held(1, 0.00001)  # cheap again: as many as allowed
    assert parts.size == MOST_SERIES
    parts.held(0, 5.0)  # nothing read says nothing
    parts.held(3, 0.0)
    assert parts.size == MOST_SERIES


def test_a_read_in_several_parts_sums_what_one_part_sums(tmp_path: Path) -> None:
    series = [f"node-{i}/availability" for i in range(7)]
    with SqliteStore(tmp_path / "store.db") as store:
        for minute in range(40):
            for i, name in enumerate(series):
                good = (minute * (i + 1)) % 5 != 0
                store.record(
                    probe_result(BASE + 60 * minute, node=f"node-{i}"), events((name, good))
                )
        store.flush()
        ranges = {"1h": (BASE - 3600.0, BASE + 2400.0), "10m": (BASE + 1800.0, BASE + 2400.0)}
        requests = dict.fromkeys(series, ranges)
        whole = store.sums_many(requests, keep=False)
        small = store._read_parts.setdefault("", ReadParts())
        small.held(1, 1.0)  # as if a series cost a second: the next read starts with one
        assert small.size == 1
        parted = store.sums_many(requests, keep=False)
    assert parted == whole
    assert all(whole[name]["1h"].total == 40 for name in series)
