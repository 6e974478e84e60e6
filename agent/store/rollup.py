"""Rolling older buckets up into coarser tiers (:mod:`agent.store.tiers`), a bounded amount per
call, each chunk in its own short transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from functools import partial

from agent.store import tiers

# runs one chunk in a write transaction under the store's lock; told which table it rolled
Transaction = Callable[[tiers.Shape, Callable[[sqlite3.Connection], tiers.Rolled]], tiers.Rolled]


class Roller:
    """Rolls every bucket table into every tier, at most ``limit`` rows read per :meth:`roll`
    and about ``batch`` per transaction; the next call goes on where this one stopped."""

    def __init__(self, transaction: Transaction, *, batch: int, limit: int) -> None:
        self._transaction = transaction
        self._batch = batch
        self.limit = limit

    def roll(self, now_minute: int) -> int:
        """Roll what is due at ``now_minute``; return the rows read (``limit`` or more means
        more may be left for the next call)."""
        return sum(self.steps(now_minute, self.limit))

    def steps(self, now_minute: int, limit: int) -> Iterator[int]:
        """:meth:`roll` one transaction at a time (each reads about ``batch`` rows and saves
        where it stopped in the same transaction); yields the rows each read."""
        rows = 0
        for tier in tiers.TIERS:  # the 10-minute tier first: the hour tier reads its rows
            for shape in tiers.SHAPES:
                while rows < limit:
                    room = min(self._batch, limit - rows)
                    chunk = partial(
                        tiers.roll_chunk, shape=shape, tier=tier, now_minute=now_minute, room=room
                    )
                    done = self._transaction(shape, chunk)
                    rows += done.rows
                    yield done.rows
                    if done.done:
                        break
