"""Reading one spec file, bounded: regular files only, at most :data:`MAX_SPEC_BYTES`.

A FIFO, a device or a symlink to ``/dev/zero`` named ``*.yaml`` is refused at once instead of
blocking or reading without end: the file is opened without blocking and checked with
``fstat`` on the open descriptor (so it cannot be swapped between the check and the read).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_SPEC_BYTES = 4 * 1024 * 1024  # 4 MiB per spec file


class UnreadableSpec(Exception):
    """A spec file that cannot be read; the message says why, for ``file: message``."""


def read_spec_bytes(path: Path) -> bytes:
    """The whole content of ``path``; raise UnreadableSpec for anything but a regular file of
    at most MAX_SPEC_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise UnreadableSpec(f"cannot be read: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableSpec(f"cannot be read: {_kind(info.st_mode)}, not a regular file")
        if info.st_size > MAX_SPEC_BYTES:
            raise UnreadableSpec(_too_large(f"{info.st_size:,} bytes"))
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SPEC_BYTES:  # the file may grow while it is read
            chunk = os.read(fd, MAX_SPEC_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_SPEC_BYTES:
            raise UnreadableSpec(_too_large(f"{size:,} bytes or more"))
        return b"".join(chunks)
    except OSError as error:
        raise UnreadableSpec(f"cannot be read: {error.strerror}") from None
    finally:
        os.close(fd)


def read_spec_text(path: Path) -> str:
    """:func:`read_spec_bytes` decoded as UTF-8."""
    try:
        return read_spec_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableSpec("cannot be read: not UTF-8 text") from None


def _too_large(size: str) -> str:
    limit = MAX_SPEC_BYTES // (1024 * 1024)
    return f"is larger than {limit} MiB ({size}), the most a spec file may hold; split it"


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "a special file")
