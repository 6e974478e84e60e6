"""One running agent per store file.

Two agents counting into one store double count every budget, so ``slo-agent run`` holds an
exclusive ``flock`` on ``<store>.lock`` for as long as it runs. The lock file names its holder
(pid, host, start time) so the refused second agent can say who has the store. The kernel drops
the lock when the holder exits, even on ``kill -9``; the file itself stays (removing it would
let a third agent lock a new file while the second still holds the old one). Offline readers
(``report``, ``advise``) take no lock: they only read.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from agent.errors import StoreError
from agent.store.schema import unusable_reason

HOLDER_LIMIT = 4096  # bytes of the holder line read back; the file is ours, but be safe


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


class StoreLock:
    """An exclusive lock on ``store``, taken at once or refused with a StoreError naming the
    holder. Use as a context manager or call :meth:`release`."""

    def __init__(self, store: Path, *, clock: float | None = None) -> None:
        self.path = lock_path(store)
        started = time.time() if clock is None else clock
        try:
            store.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store directory {store.parent}: {exc.strerror}"
            ) from None
        unusable = unusable_reason(store)
        if unusable:
            raise StoreError(f"cannot open the store {store}: {unusable}")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot open the store {store}: cannot create its lock file {self.path}: "
                f"{exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StoreError(
                f"cannot open the store {store}: another agent is running on it ({holder}); "
                f"stop it or give this one its own --store (lock file {self.path})"
            ) from None
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        line = f"pid {os.getpid()} on {socket.gethostname()} since {when}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, line.encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    text = os.pread(fd, HOLDER_LIMIT, 0).decode("utf-8", "replace").strip()
    printable = "".join(c for c in text.splitlines()[0] if c.isprintable()) if text else ""
    return printable or "holder unknown"
