"""The store's upkeep (pruning, giving space back, rolling up) in slices that fit a flush tick.

A pass of upkeep is a sequence of short write transactions (:mod:`agent.store.pruning`,
:mod:`agent.store.rollup`), each committing its own progress. :class:`Upkeep` holds the pass
under way and runs its next steps while a :class:`Budget` lasts, so the agent can run it right
after each flush: new results are written first, then at most the budget's time of upkeep
(plus the one step under way when it ran out), and the next flush starts on time. A stopped
pass goes on at the next call exactly where it stopped; a crash between two steps loses
nothing, since every step is committed with where it stopped.

:class:`StoreWork` counts the seconds the store spends on each kind of work, so the agent can
report per flush tick how long writing, waiting for the file, pruning and rolling up took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

PARTS = ("write", "wait", "prune", "rollup", "checkpoint")
"""Kinds of store work: writing a flush, a flush waiting for the file, pruning, rolling up,
checkpointing the write-ahead log (in a thread of its own: :mod:`agent.store.checkpoints`)."""


class StoreWork:
    """Seconds of store work by part (:data:`PARTS`), summed until taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(PARTS, 0.0)

    def add(self, part: str, seconds: float) -> None:
        with self._lock:
            self._seconds[part] += seconds

    def take(self) -> dict[str, float]:
        """The seconds by part since the previous call."""
        with self._lock:
            taken, self._seconds = self._seconds, dict.fromkeys(PARTS, 0.0)
            return taken


class Budget:
    """Whether to begin one more step: always the first, then until ``seconds`` have passed
    since the budget was made, and never once ``stop()`` says so."""

    def __init__(
        self,
        seconds: float,
        stop: Callable[[], bool] = lambda: False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._deadline = monotonic() + seconds
        self._stop = stop
        self._first = True

    def more(self) -> bool:
        if self._stop():
            return False
        if self._first:
            self._first = False
            return True
        return self._monotonic() < self._deadline


class Upkeep:
    """A pass of upkeep under way, run a budget at a time; ``passes(now)`` gives the steps of a
    new pass started at ``now``."""

    def __init__(self, passes: Callable[[float], Iterator[object]]) -> None:
        self._passes = passes
        self._steps: Iterator[object] | None = None

    @property
    def under_way(self) -> bool:
        return self._steps is not None

    def run(self, now: float, budget: Budget) -> bool:
        """Go on with the pass under way (or start one at ``now``) while ``budget`` lasts;
        True when the pass is over."""
        if self._steps is None:
            self._steps = self._passes(now)
        while budget.more():
            try:
                step = next(self._steps, _OVER)
            except BaseException:  # the next pass starts afresh; every step done is committed
                self._steps = None
                raise
            if step is _OVER:
                self._steps = None
                return True
        return False


_OVER = object()
