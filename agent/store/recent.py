"""Recent SLI events at fine resolution, so that short windows are exact.

Minute buckets make a window of length ``w`` anything between ``w - 1m`` and ``w`` long: a 1m
window at the start of a minute holds only the few seconds of the current one. Windows shorter
than an hour are therefore counted here, in memory, in slots of ``resolution_for(w)`` seconds —
the largest divisor of a minute that is at most ``w / 60`` (1 s for 1m, 5 s for 5m, 30 s for
30m). A window then covers the events of ``[now - w, now)`` to within one slot, a 60th of its
length; windows of an hour or more read minute buckets, which are a 60th or less of them too.

Each resolution in use has one ring of slots per series, sized for the longest window it serves
plus :data:`LATE_SECONDS` for results recorded after later ones. A ring only knows events
recorded since its resolution was first asked for: :attr:`Resolution.since`, a whole minute, is
where it takes over from the minute buckets, so the two never count an event twice.

Pure: no I/O, no clock, no locking (the store guards a :class:`RecentSlots` with its lock).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.slo.events import Counts, SliEvent

FINE_BELOW = 3600.0
"""Windows (seconds) shorter than this are counted in fine slots; longer ones in minutes."""

LATE_SECONDS = 120
"""How far behind the newest event of a series an event may arrive and still be counted."""

_DIVISORS_OF_A_MINUTE = (30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1)


def resolution_for(length: float) -> int:
    """The slot length (seconds) for a window of ``length`` seconds shorter than an hour."""
    for divisor in _DIVISORS_OF_A_MINUTE:
        if divisor * 60 <= length:
            return divisor
    return 1


def first_slot_from(seconds: float, resolution: int) -> int:
    """The smallest ``q`` with ``q * resolution >= seconds`` (exact at slot edges)."""
    q = math.ceil(seconds / resolution)
    while (q - 1) * resolution >= seconds:
        q -= 1
    while q * resolution < seconds:
        q += 1
    return q


class Ring:
    """The last ``size`` slots of one series: slot ``q`` lives at index ``q % size``.

    ``head`` is the newest slot written; slots in ``(head - size, head]`` hold their counts,
    slots after ``head`` are empty, older ones are gone.
    """

    __slots__ = ("bad", "head", "size", "total")

    def __init__(self, size: int, head: int) -> None:
        self.size = size
        self.total = array("I", bytes(4 * size))
        self.bad = array("I", bytes(4 * size))
        self.head = head

    def add(self, slot: int, good: bool) -> None:
        if slot > self.head:
            self._clear(self.head + 1, slot + 1)
            self.head = slot
        elif slot <= self.head - self.size:
            return  # older than the ring holds: only the minute buckets count it
        i = slot % self.size
        self.total[i] += 1
        if not good:
            self.bad[i] += 1

    def counts(self, lo: int, hi: int) -> Counts:
        """Events in the slots ``[lo, hi)``; ``lo`` must be within the ring."""
        n = min(hi, self.head + 1) - lo
        if n <= 0:
            return Counts()
        if n >= self.size:
            return Counts(sum(self.total), sum(self.bad))
        a = lo % self.size
        if a + n <= self.size:
            return Counts(sum(self.total[a : a + n]), sum(self.bad[a : a + n]))
        b = a + n - self.size
        return Counts(
            sum(self.total[a:]) + sum(self.total[:b]), sum(self.bad[a:]) + sum(self.bad[:b])
        )

    def resized(self, size: int) -> Ring:
        """A ring of ``size`` slots holding this one's slots (the newest ``size`` of them)."""
        ring = Ring(size, self.head)
        for slot in range(self.head - min(size, self.size) + 1, self.head + 1):
            ring.total[slot % size] = self.total[slot % self.size]
            ring.bad[slot % size] = self.bad[slot % self.size]
        return ring

    def _clear(self, lo: int, hi: int) -> None:
        """Zero the slots ``[lo, hi)`` (all of them when the span is a full turn or more)."""
        if hi - lo >= self.size:
            self.total = array("I", bytes(4 * self.size))
            self.bad = array("I", bytes(4 * self.size))
            return
        total, bad, size = self.total, self.bad, self.size
        for slot in range(lo, hi):
            total[slot % size] = 0
            bad[slot % size] = 0


@dataclass(slots=True)
class Resolution:
    """The rings of one slot length: which slots they hold and since when they are complete."""

    seconds: int
    size: int  # slots per ring
    since: float  # unix seconds, a whole minute: rings hold every event from here on
    rings: dict[str, Ring] = field(default_factory=dict)


def slots_for(resolution: int, length: float) -> int:
    """Ring slots for windows up to ``length`` seconds at ``resolution``, late events included."""
    return math.ceil(length / resolution) + 1 + math.ceil(LATE_SECONDS / resolution)


@dataclass(frozen=True, slots=True)
class Split:
    """How to count one window: ``older`` (seconds, or None) from minute buckets, the rest from
    the slots ``[lo, hi)`` of ``resolution``'s rings."""

    older: tuple[float, float] | None
    resolution: int
    lo: int
    hi: int


class RecentSlots:
    """Fine-resolution rings for every window length shorter than :data:`FINE_BELOW`."""

    def __init__(self) -> None:
        self._resolutions: dict[int, Resolution] = {}

    def __bool__(self) -> bool:
        return bool(self._resolutions)

    def add(self, events: Sequence[SliEvent], at: float) -> None:
        """Count the events of one run that started at ``at`` (unix seconds)."""
        for resolution in self._resolutions.values():
            slot = int(at // resolution.seconds)
            rings = resolution.rings
            for event in events:
                ring = rings.get(event.series)
                if ring is None:
                    ring = rings[event.series] = Ring(resolution.size, slot)
                ring.add(slot, event.good)

    def split(self, start: float, end: float, now: float) -> Split | None:
        """How to count ``[start, end)`` at ``now``, or None when it is not a recent window
        shorter than an hour (read it from minute buckets)."""
        length = end - start
        if not 0 < length < FINE_BELOW or end > now + 1 or end < now - LATE_SECONDS:
            return None
        seconds = resolution_for(length)
        size = slots_for(seconds, length)
        resolution = self._resolutions.get(seconds)
        if resolution is None:
            since = 60.0 * first_slot_from(now, 60)
            resolution = self._resolutions[seconds] = Resolution(seconds, size, since)
        elif size > resolution.size:
            # A longer window than the rings were sized for: grow them. The slots they did not
            # hold are gone, so the minute buckets take over until the grown rings fill up.
            resolution.size = size
            resolution.rings = {s: r.resized(size) for s, r in resolution.rings.items()}
            resolution.since = 60.0 * first_slot_from(now, 60)
        lo = first_slot_from(start, seconds)
        hi = first_slot_from(end, seconds)
        since = resolution.since
        if start >= since:
            return Split(None, seconds, lo, hi)
        if end <= since:
            return Split((start, end), seconds, hi, hi)
        # The part before the rings took over comes from minute buckets: take the bucket that
        # holds ``start`` when at least half of it lies in the window (nearest whole minute).
        # Counting only buckets that start inside it lost up to a minute of events, for one
        # window length after a resolution was first read (a 1m window held 6 of 60 runs).
        older = 60.0 * math.floor(start / 60 + 0.5)
        first = first_slot_from(since, seconds)
        return Split((older, since) if older < since else None, seconds, first, hi)

    def counts(self, series: str, split: Split) -> Counts:
        """The ring part of ``split`` for ``series`` (no events yet: zero)."""
        ring = self._resolutions[split.resolution].rings.get(series)
        if ring is None:
            return Counts()
        lo = max(split.lo, ring.head - ring.size + 1)
        return ring.counts(lo, split.hi)

    def forget(self, keep: set[str]) -> None:
        """Drop the rings of every series not in ``keep`` (removed from the specs)."""
        for resolution in self._resolutions.values():
            for series in [s for s in resolution.rings if s not in keep]:
                del resolution.rings[series]
