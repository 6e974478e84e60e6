"""Periodic work at a fixed rate that sheds visibly: a cycle that overruns makes the agent skip
the ticks it ran over (counted per loop, and logged at most once a minute), never queue them.

Also the scheduler's telemetry wrapped the same way: probe runs skipped because the previous
run of the same job is still in flight (or missed, or coalesced) are logged, rate-limited, next
to the counter the exporter keeps.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Protocol

from agent.schedule.scheduler import SchedulerTelemetry

log = logging.getLogger(__name__)

LOG_EVERY = 60.0
"""Seconds between two log lines about shed load (each line sums what was shed since)."""


class CycleTelemetry(Protocol):
    def count_cycles_skipped(self, loop: str, cycles: int) -> None: ...


class ShedLog:
    """Sums shed work by kind and logs it as one warning at most every ``every`` seconds."""

    def __init__(self, what: str, clock: Callable[[], float], every: float = LOG_EVERY) -> None:
        self._what = what
        self._clock = clock
        self._every = every
        self._pending: Counter[str] = Counter()
        self._logged_at = -math.inf

    def add(self, kind: str, count: int) -> None:
        if count <= 0:
            return
        self._pending[kind] += count
        now = self._clock()
        if now - self._logged_at < self._every:
            return
        since = "" if self._logged_at == -math.inf else f" in the last {now - self._logged_at:.0f}s"
        detail = ", ".join(f"{kind}: {n}" for kind, n in sorted(self._pending.items()))
        log.warning(
            "shedding load: %d %s skipped%s (%s); the agent cannot keep up",
            sum(self._pending.values()),
            self._what,
            since,
            detail,
        )
        self._pending.clear()
        self._logged_at = now


class SheddingTelemetry:
    """The scheduler's telemetry, plus a rate-limited log line for every skipped probe run."""

    def __init__(self, telemetry: SchedulerTelemetry, clock: Callable[[], float]) -> None:
        self._telemetry = telemetry
        self._log = ShedLog("probe runs", clock)

    def observe_lag(self, seconds: float) -> None:
        self._telemetry.observe_lag(seconds)

    def count_skipped(self, reason: str, runs: int = 1) -> None:
        self._telemetry.count_skipped(reason, runs)
        self._log.add(reason, runs)


class Cadence:
    """Runs ``work`` every ``interval`` seconds of ``monotonic`` time, at a fixed rate.

    A cycle starts on a tick ``start + k * interval``. When a cycle ends after the next tick, the
    ticks it ran over are skipped (not run late one after another), counted as
    ``cycles_skipped{loop}`` and logged (rate-limited); the next cycle starts on the first tick
    after it ended.
    """

    def __init__(
        self,
        loop: str,
        interval: float,
        telemetry: CycleTelemetry,
        monotonic: Callable[[], float],
        log_clock: Callable[[], float] | None = None,
    ) -> None:
        self.loop = loop
        self.interval = interval
        self._telemetry = telemetry
        self._monotonic = monotonic
        self._log = ShedLog(f"{loop} cycles", log_clock or monotonic)
        self.skipped = 0

    def next_tick(self, tick: float, ended: float) -> tuple[float, int]:
        """The tick to start on after a cycle started at ``tick`` ended at ``ended``, and how
        many ticks that skips."""
        due = tick + self.interval
        if ended <= due:
            return due, 0
        missed = math.ceil((ended - due) / self.interval)
        return due + missed * self.interval, missed

    async def run(self, work: Callable[[], Awaitable[object]]) -> None:
        tick = self._monotonic()
        while True:
            await work()
            tick, missed = self.next_tick(tick, self._monotonic())
            if missed:
                self.skipped += missed
                self._telemetry.count_cycles_skipped(self.loop, missed)
                self._log.add("overran", missed)
            await asyncio.sleep(max(0.0, tick - self._monotonic()))
