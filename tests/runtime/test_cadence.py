"""Periodic loops at a fixed rate: an overrun skips the ticks it ran over, counts them and
says so in the log, at most once a minute."""

from __future__ import annotations

import logging

import pytest

from agent.runtime.cadence import LOG_EVERY, Cadence, SheddingTelemetry
from tests.support.fakes import RecordingTelemetry


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("ended", "tick", "missed"),
    [
        (1000.5, 1010.0, 0),  # done early: the next tick
        (1010.0, 1010.0, 0),  # done on the next tick: no skip
        (1010.1, 1020.0, 1),  # overran one tick
        (1035.0, 1040.0, 3),  # overran three
        (1040.0, 1040.0, 3),  # ended on a tick: starts on it
    ],
)
def test_the_next_tick_skips_what_the_cycle_ran_over(
    ended: float, tick: float, missed: int
) -> None:
    cadence = Cadence("evaluation", 10.0, RecordingTelemetry(), Clock())
    assert cadence.next_tick(1000.0, ended) == (tick, missed)


async def test_an_overrunning_cycle_is_counted_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    telemetry = RecordingTelemetry()
    cadence = Cadence("flush", 1.0, telemetry, clock)
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1
        clock.now += 2.5  # each cycle overruns two ticks
        if runs == 4:
            raise asyncio_stop

    asyncio_stop = RuntimeError("enough")
    with caplog.at_level(logging.WARNING), pytest.raises(RuntimeError):
        await cadence.run(work)

    # the fake clock stands still while the loop sleeps: cycles end at 1002.5 (ticks 1001 and
    # 1002 skipped), 1005 (1004) and 1007.5 (1006, 1007)
    assert telemetry.cycles_skipped == {"flush": 5}
    lines = [r.getMessage() for r in caplog.records if "shedding load" in r.getMessage()]
    assert lines == ["shedding load: 2 flush cycles skipped (overran: 2); the agent cannot keep up"]


def test_skipped_probe_runs_are_counted_and_summed_in_one_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    telemetry = RecordingTelemetry()
    shedding = SheddingTelemetry(telemetry, clock)
    with caplog.at_level(logging.WARNING):
        shedding.count_skipped("max_instances")
        clock.now += 10
        shedding.count_skipped("coalesced", 3)
        shedding.count_skipped("max_instances")
        clock.now += LOG_EVERY
        shedding.count_skipped("missed")
    assert telemetry.skipped == {"max_instances": 2, "coalesced": 3, "missed": 1}
    lines = [r.getMessage() for r in caplog.records if "shedding load" in r.getMessage()]
    assert lines == [
        "shedding load: 1 probe runs skipped (max_instances: 1); the agent cannot keep up",
        "shedding load: 5 probe runs skipped in the last 70s (coalesced: 3, max_instances: 1, "
        "missed: 1); the agent cannot keep up",
    ]
