"""Backing off as a throttling target asks: after a run answered with ``Retry-After``
(reason ``throttled``), a probe's runs are skipped until that much time has passed, at most
:data:`MAX_BACKOFF_INTERVALS` of the probe's intervals. A skipped run is no result and no SLI
event: the target was not asked. Time is an argument (the run's start, unix seconds).
"""

from __future__ import annotations

from datetime import timedelta

from agent.probes.result import Observation

MAX_BACKOFF_INTERVALS = 10  # a Retry-After longer than this many intervals is cut to it


class Backoff:
    """Per probe key: the time before which its runs are skipped."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def waiting(self, key: str, now: float) -> bool:
        """Whether the run of ``key`` starting at ``now`` is to be skipped."""
        if not self._until:  # no target asked to wait: the common case, one test
            return False
        until = self._until.get(key)
        if until is None:
            return False
        if now >= until:
            del self._until[key]
            return False
        return True

    def observe(self, key: str, started: float, interval: timedelta, seen: Observation) -> None:
        """Note the run of ``key`` that started at ``started`` and saw ``seen``."""
        if seen.retry_after is None:
            return
        wait = min(seen.retry_after, MAX_BACKOFF_INTERVALS * interval.total_seconds())
        self._until[key] = started + wait

    def forget(self, keys: set[str]) -> None:
        """Stop tracking probes no longer scheduled (bounded by the scheduled set)."""
        for key in [key for key in self._until if key not in keys]:
            del self._until[key]
