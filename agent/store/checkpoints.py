"""Checkpoints of the store's write-ahead log, in a thread of their own, off the flush's path.

A commit in WAL mode appends the pages it changed to the ``-wal`` file; a checkpoint copies them
back into the database file and fsyncs both. SQLite runs one by itself inside the commit that
takes the log past 1,000 pages. Over a month of history that commit is a flush: each flush
changes ~490 scattered pages at 10,000 SLOs (every series' newest bucket lies on a leaf page of
its own), so every second or third flush wrote ~1,000 pages back to random places in a 1.2 GB
file and fsynced it, holding the store's connection all the while (54 ms on average, against
9 ms of CPU for the flush's own writing; ``bench.flush_cost``).

:class:`Checkpointer` moves that off the store's connection (whose automatic checkpoint stays
only as a backstop, :data:`BACKSTOP_PAGES`) to a connection and a thread of its own: after a
write, at most every ``every`` seconds, a ``PASSIVE`` checkpoint, which waits for no reader or
writer, so flushes and reads go on while it copies pages.

Nothing changes for durability: a commit is in the log before its flush returns, whether or not
it was checkpointed (a process crash loses nothing committed), and the log is fsynced by every
checkpoint, as before (an operating-system crash may roll back what was committed since the last
one: now at most ``every`` seconds of flushes, instead of about 1,000 pages). SQLite's last
connection to close checkpoints what is left.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 2.0  # seconds between checkpoints while the store is written

# A log of this many pages after a checkpoint has not started over for a while (a writer starts
# it over only when it finds every page copied): a RESTART checkpoint, waiting at most
# RESTART_WAIT for the writer, has the next writer start it over, so it stops growing.
RESTART_FRAMES = 4096
RESTART_WAIT_MS = 50

# The store's own connection still checkpoints past this many pages of log (40 MB of 4 KiB
# pages, ~10 s of flushes at 10,000 SLOs): only when writes outrun the thread (a burst, a bulk
# load, a stalled thread), so the log stays bounded whatever happens.
BACKSTOP_PAGES = 10_000


class Checkpointer:
    """Checkpoints ``path``'s write-ahead log in a thread, at most every ``every`` seconds
    after :meth:`written` is called; ``spent`` is told the seconds each one took."""

    def __init__(
        self,
        path: Path,
        every: float,
        spent: Callable[[float], None],
        busy_timeout: float = 5.0,
    ) -> None:
        self._path = path
        self._every = every
        self._spent = spent
        self._busy_timeout = busy_timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.done = 0  # checkpoints run
        self.failed = 0  # checkpoints that raised (the log keeps its pages: nothing is lost)
        self.restarts = 0  # RESTART checkpoints asked for (a log that had not started over)

    def written(self) -> None:
        """The store committed a write: a checkpoint is due once ``every`` has passed."""
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="store-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (after the checkpoint under way, if any)."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        self._wake.set()
        if thread is not None:
            thread.join()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames < RESTART_FRAMES:
            return
        conn.execute(f"PRAGMA busy_timeout = {RESTART_WAIT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()  # busy: the next time
            self.restarts += 1
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        last = time.monotonic()
        try:
            while True:
                self._wake.wait()
                if self._stop.is_set():
                    return
                wait = last + self._every - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return
                self._wake.clear()
                last = time.monotonic()
                try:
                    if conn is None:
                        conn = sqlite3.connect(
                            self._path,
                            timeout=self._busy_timeout,
                            isolation_level=None,
                            check_same_thread=False,
                        )
                    self._checkpoint(conn)
                    self.done += 1
                except sqlite3.Error as exc:
                    if not self.failed:  # once: the next flush's checkpoint tries again
                        log.warning("checkpointing the store %s failed: %s", self._path, exc)
                    self.failed += 1
                finally:
                    self._spent(time.monotonic() - last)
        finally:
            if conn is not None:
                conn.close()
