"""Which probe worker process runs a job: a stable partition of one agent's jobs by job key.

Unlike :mod:`agent.schedule.shard` (which splits nodes between agent replicas), this splits
the probe jobs of one agent between its ``--probe-workers`` processes. A job's worker depends
only on its key and the number of workers, so a reload or a restarted worker keeps every other
job where it was. Pure: no I/O, no clock.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")


def worker_of(key: str, workers: int) -> int:
    """The index (``0 <= i < workers``) of the worker that runs the job ``key``."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return zlib.crc32(key.encode()) % workers


def partition(jobs: Mapping[str, V], index: int, workers: int) -> dict[str, V]:
    """The jobs of ``jobs`` that worker ``index`` of ``workers`` runs."""
    return {key: job for key, job in jobs.items() if worker_of(key, workers) == index}


__all__ = ["partition", "worker_of"]
