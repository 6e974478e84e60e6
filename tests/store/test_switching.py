"""A write lowers the interpreter's switch interval while it runs, and the interval in force
before comes back when the last write ends, whatever the threads' order."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.store import SqliteStore
from agent.store.switching import WRITE_SWITCH_INTERVAL, short_switches
from tests.store.factories import BASE, events, probe_result


@pytest.fixture(autouse=True)
def _interval_kept() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_the_interval_is_short_inside_and_as_before_after() -> None:
    sys.setswitchinterval(0.004)
    with short_switches():
        assert sys.getswitchinterval() == pytest.approx(WRITE_SWITCH_INTERVAL, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.004, abs=2e-6)


def test_a_shorter_interval_already_in_force_is_kept() -> None:
    sys.setswitchinterval(0.0001)
    with short_switches():
        assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)


def test_writes_in_two_threads_restore_the_interval_when_the_last_ends() -> None:
    sys.setswitchinterval(0.004)
    inside, leave = threading.Event(), threading.Event()

    def other_write() -> None:
        with short_switches():
            inside.set()
            assert leave.wait(30)

    thread = threading.Thread(target=other_write)
    with short_switches():
        thread.start()
        assert inside.wait(30)
    # this write ended first: the other still runs with the short interval
    assert sys.getswitchinterval() == pytest.approx(WRITE_SWITCH_INTERVAL, abs=2e-6)
    leave.set()
    thread.join(30)
    assert sys.getswitchinterval() == pytest.approx(0.004, abs=2e-6)


def test_a_flush_runs_with_short_switches_and_restores_the_interval(tmp_path: Path) -> None:
    sys.setswitchinterval(0.004)
    seen: list[float] = []
    with SqliteStore(tmp_path / "store.db") as store:
        store.record(probe_result(BASE), events(("n/availability", True)))
        real = store._flush

        def watched() -> int:
            seen.append(sys.getswitchinterval())
            return real()

        store._flush = watched  # type: ignore[method-assign]
        assert store.flush() > 0
    assert seen  # the flush, and the one closing the store
    assert all(v == pytest.approx(WRITE_SWITCH_INTERVAL, abs=2e-6) for v in seen)
    assert sys.getswitchinterval() == pytest.approx(0.004, abs=2e-6)
