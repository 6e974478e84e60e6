"""Work with a promised latency goes first: background work steps aside while it runs.

The agent promises a flush every second (what a ``kill -9`` can lose) and a ``/metrics`` answer
within a scrape's patience, while long Python work runs beside them in threads: the
evaluation's steps and the advisor's reviews (at 10,000 SLOs, the one-off replay of its reviews
after an upgrade runs for minutes). CPython runs one thread's Python at a time, and a thread
that gives the interpreter up (at every SQLite statement, every socket write) waits up to the
switch interval (5 ms) to get it back from each busy thread. A flush's write that took 25 ms
alone took up to 0.5-2 s beside the replay and an evaluation (bench/RESULTS.md).

So such work holds :class:`Foreground` while it runs (:meth:`Foreground.held`), and background
work calls :meth:`Foreground.yield_to` (or :meth:`Foreground.yield_to_async`) at its pause
points, between pieces of a few milliseconds and never while holding a lock that foreground
work may need. A pause point waits while any foreground work is under way, for at most
``max_wait`` seconds at a time, so background work always gets on, however busy the
foreground. An idle pause point costs one attribute read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

DEFAULT_MAX_WAIT = 0.5  # seconds a pause point waits for foreground work, at most


class Foreground:
    """Counts foreground work under way; background pause points wait while there is some."""

    def __init__(self, max_wait: float = DEFAULT_MAX_WAIT) -> None:
        if not max_wait > 0:
            raise ValueError(f"max_wait must be > 0, got {max_wait!r}")
        self._max_wait = max_wait
        self._clear = threading.Condition()
        self._active = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.yielded = 0.0  # seconds background work waited at pause points (for the bench)

    @property
    def busy(self) -> bool:
        return self._active > 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Foreground work runs in this block (from any thread, nested or not)."""
        with self._clear:
            self._active += 1
        try:
            yield
        finally:
            with self._clear:
                self._active -= 1
                if not self._active:
                    self._clear.notify_all()
                    for loop, clear in self._waiters:
                        with contextlib.suppress(RuntimeError):  # its loop is closed
                            loop.call_soon_threadsafe(_set_clear, clear)

    def yield_to(self) -> float:
        """A pause point of background work in a thread: wait while foreground work is under
        way, for at most ``max_wait`` seconds; return the seconds waited."""
        if not self._active:
            return 0.0
        began = time.monotonic()
        with self._clear:
            self._clear.wait_for(lambda: not self._active, self._max_wait)
            waited = time.monotonic() - began
            self.yielded += waited
        return waited

    async def yield_to_async(self) -> float:
        """:meth:`yield_to` for background work driven from the event loop, which must not
        block: the loop goes on while this waits."""
        if not self._active:
            return 0.0
        began = time.monotonic()
        loop = asyncio.get_running_loop()
        clear = loop.create_future()
        with self._clear:
            if not self._active:
                return 0.0
            waiter = (loop, clear)
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._max_wait):
                await clear
        except TimeoutError:
            pass
        finally:
            with self._clear:
                self._waiters.remove(waiter)
                waited = time.monotonic() - began
                self.yielded += waited
        return waited


def _set_clear(clear: asyncio.Future[None]) -> None:
    if not clear.done():
        clear.set_result(None)


NO_FOREGROUND = Foreground()
"""A gate nothing ever holds: the default where no foreground work is declared."""


__all__ = ["DEFAULT_MAX_WAIT", "NO_FOREGROUND", "Foreground"]
