"""Where in its interval each probe first runs, so 1,000 probes never fire at once. Pure."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta


def stable_hash(key: str) -> int:
    """A hash of ``key`` that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def spread_offsets(jobs: Iterable[tuple[str, timedelta]]) -> Mapping[str, float]:
    """First-run offset in seconds for each ``(key, interval)``.

    Jobs sharing an interval are spaced evenly across it, in an order fixed by a stable hash of
    their key, so the offsets are deterministic and a job's place does not depend on the order
    the specs were written in.
    """
    groups: defaultdict[float, list[str]] = defaultdict(list)
    for key, interval in jobs:
        groups[interval.total_seconds()].append(key)
    offsets: dict[str, float] = {}
    for seconds, keys in groups.items():
        keys.sort(key=lambda k: (stable_hash(k), k))
        step = seconds / len(keys)
        for rank, key in enumerate(keys):
            offsets[key] = rank * step
    return offsets
