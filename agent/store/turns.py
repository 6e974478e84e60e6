"""A lock granted in turn: whoever asked first gets it next.

``threading.Lock`` is not fair: a thread that releases it and asks again at once (a reader
going from one part of its reads to the next, an upkeep step after another) usually gets it
back before a waiting thread has even woken up, so a flush can wait behind a whole evaluation
although the reads let go between parts. With :class:`TurnLock` the flush waits for at most the
holder's current part.
"""

from __future__ import annotations

import threading
from types import TracebackType


class TurnLock:
    """A non-reentrant lock granted first come, first served (by ticket)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._issued = 0  # tickets handed out
        self._serving = 0  # the ticket that holds the lock (or is next to)
        self._gave_up: set[int] = set()  # tickets whose wait was interrupted (Ctrl-C)

    def acquire(self) -> None:
        with self._changed:
            ticket = self._issued
            self._issued += 1
            try:
                while ticket != self._serving:
                    self._changed.wait()
            except BaseException:  # interrupted while waiting: its turn is skipped
                if ticket == self._serving:
                    self._next_turn()
                else:
                    self._gave_up.add(ticket)
                raise

    def release(self) -> None:
        with self._changed:
            self._next_turn()

    def _next_turn(self) -> None:
        self._serving += 1
        while self._serving in self._gave_up:
            self._gave_up.discard(self._serving)
            self._serving += 1
        self._changed.notify_all()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
