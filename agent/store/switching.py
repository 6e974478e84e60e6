"""A write that other threads' Python does not keep waiting.

CPython runs one thread's Python at a time. ``sqlite3`` lets go of that lock around each
statement it runs, and the writing thread then waits for it to come back: when other threads
run Python (the evaluation's steps, the advisor's reviews, a ``/metrics`` render), each such
wait lasts up to the interpreter's switch interval (``sys.getswitchinterval()``, 5 ms), after
which the running thread is asked to let go. A flush of ~25 ms alone took up to 0.5 s beside
the advisor's replay and an evaluation at 10,000 SLOs (bench/RESULTS.md,
``bench.flush_beside_replay``). :func:`short_switches` lowers the switch interval while a write
runs, so each wait lasts at most :data:`WRITE_SWITCH_INTERVAL`; the other threads hand over
more often for those milliseconds only, and the interval in force before comes back when the
last such write ends (writes in several threads at once share one lowering).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

WRITE_SWITCH_INTERVAL = 0.0005  # seconds

_lock = threading.Lock()
_writers = 0
_before = 0.0


@contextlib.contextmanager
def short_switches(interval: float | None = None) -> Iterator[None]:
    """Run the block with the switch interval at most ``interval`` seconds (default
    :data:`WRITE_SWITCH_INTERVAL`, read at each call)."""
    global _writers, _before
    interval = WRITE_SWITCH_INTERVAL if interval is None else interval
    with _lock:
        if _writers == 0:
            _before = sys.getswitchinterval()
            if interval < _before:
                sys.setswitchinterval(interval)
        _writers += 1
    try:
        yield
    finally:
        with _lock:
            _writers -= 1
            if _writers == 0:
                sys.setswitchinterval(_before)
