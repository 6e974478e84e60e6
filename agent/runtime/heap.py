"""Keeping Python's garbage collector off the probe path.

At thousands of probes per second the agent holds a few hundred thousand long-lived objects
(the spec set, scheduler jobs, metric children). A full collection scans them all and paused
the event loop for 50-80 ms, which showed up as scheduler lag p99 (bench/RESULTS.md). Freezing
what exists after a spec set is activated moves it out of the collector's scans, and fewer
young-generation collections save CPU; reference counting still frees almost everything.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def tune_collector() -> None:
    """Collect less often; called once by the process that runs the agent."""
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


def freeze_long_lived() -> None:
    """Exclude every object alive now (a freshly activated spec set) from future collections."""
    gc.freeze()
