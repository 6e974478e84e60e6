"""The events recorded between two reads, kept per minute and bounded."""

from __future__ import annotations

from agent.slo.events import Counts, SliEvent
from agent.store.last_counts import NEW_MINUTES, LastCounts, new_in
from tests.store.factories import BASE


def test_new_events_are_kept_per_minute_and_taken_once() -> None:
    last = LastCounts()
    last.put("a/x", {"1h": ((0, 10), None)}, {"1h": Counts(5, 1)})
    last.touch([SliEvent("a/x", True), SliEvent("b/y", False)], BASE + 1)
    last.touch([SliEvent("a/x", False)], BASE + 61)

    kept, new = last.take("a/x")
    assert kept is not None
    assert kept.counts == {"1h": Counts(5, 1)}
    minute = int(BASE // 60)
    assert new == {minute: [1, 0], minute + 1: [1, 1]}
    assert new_in(new, (minute, minute + 1)) == Counts(1, 0)
    assert new_in(new, (minute, minute + 2)) == Counts(2, 1)
    assert new_in(new, (minute + 2, minute + 9)) == Counts(0, 0)
    assert last.take("a/x")[1] == {}  # taken: the read under way counted them


def test_a_series_with_more_new_minutes_than_kept_is_counted_afresh() -> None:
    last = LastCounts()
    last.put("a/x", {"1h": ((0, 10), None)}, {"1h": Counts(5, 1)})
    for minute in range(NEW_MINUTES + 5):
        last.touch([SliEvent("a/x", True)], BASE + 60 * minute)
    assert last.take("a/x") == (None, {})
    last.touch([SliEvent("a/x", True)], BASE)
    assert last.take("a/x")[0] is not None  # counted afresh once, then kept again


def test_forgotten_series_are_counted_afresh() -> None:
    last = LastCounts()
    last.put("a/x", {"1h": ((0, 10), None)}, {"1h": Counts(5, 1)})
    last.forget(["a/x"])
    assert last.take("a/x") == (None, {})
