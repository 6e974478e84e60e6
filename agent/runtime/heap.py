"""Keeping Python's garbage collector off the probe path.

At thousands of probes per second the agent holds a few hundred thousand long-lived objects
(the spec set, scheduler jobs, metric children). A full collection scans them all and paused
the event loop for 50-80 ms, which showed up as scheduler lag p99 (bench/RESULTS.md). Freezing
what exists after a spec set is activated moves it out of the collector's scans, and fewer
young-generation collections save CPU; reference counting still frees almost everything.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

MALLOC_ARENAS = 2  # glibc's default is 8 per core: each thread's freed memory stays in its own
_M_ARENA_MAX = -8  # mallopt's parameter number for it (malloc.h)

YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def tune_collector() -> None:
    """Collect less often; called once by the process that runs the agent."""
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


def freeze_long_lived() -> None:
    """Exclude every object alive now (a freshly activated spec set) from future collections."""
    gc.freeze()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (``MALLOC_ARENA_MAX``), before the agent starts its threads.

    The agent's threads (store flush and reads, evaluation steps, /metrics rendering) each got
    an arena of their own, and memory freed in one is not reused by the others: at 10,000 SLOs
    the cap measured ~100 MB less RSS (bench/RESULTS.md). Left alone when the environment sets
    ``MALLOC_ARENA_MAX`` or the C library is not glibc; True when the cap is in force.
    """
    import os

    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


_libc: ctypes.CDLL | bool | None = False  # False: not looked up yet


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is False:
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name is not None else None
            _libc = libc if libc is not None and hasattr(libc, "malloc_trim") else None
        except OSError:
            _libc = None
    return _libc if isinstance(_libc, ctypes.CDLL) else None


def release_free_memory() -> bool:
    """Give the pages malloc holds free back to the system (glibc's ``malloc_trim(0)``).

    glibc returns freed memory only from the top of its heap; what a render or an evaluation
    freed below live blocks stayed in RSS: at 1,000 SLOs with 28 days of history, 55-70 MB
    free inside malloc's arenas after a few minutes, and RSS crept up with it (bench/RESULTS.md,
    "Memory over time"). Called after an evaluation and after a /metrics body is dropped; it
    costs milliseconds. False when the C library is not glibc.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
