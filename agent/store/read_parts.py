"""How many series a window-sum read takes under the connection's lock at once.

A flush waits for the read part under way (:mod:`agent.store.turns`), so a part should hold the
connection briefly. What a series costs differs widely: a read whose kept sums are patched
with a few new buckets costs well under 0.1 ms a series, one that sums weeks afresh (the first
evaluation after a start, the advisor's first replayed step) ~0.3 ms alone, and tens of times
that while other threads run Python beside it. Parts of a fixed 100 series held the connection
for up to 1.1 s in those reads (10,000 SLOs, 7 days of history, the advisor replaying).
:class:`ReadParts` sizes each part from the cost per series of the part before it, to hold for
about :data:`HOLD_TARGET` seconds, between 1 and :data:`MOST_SERIES` series.
"""

from __future__ import annotations

HOLD_TARGET = 0.02  # seconds a part should hold the connection
MOST_SERIES = 100  # series per part, at most


class ReadParts:
    """The size of the next part, learnt from the parts before it (one per kind of read)."""

    def __init__(self, target: float = HOLD_TARGET, most: int = MOST_SERIES) -> None:
        self._target = target
        self._most = most
        self.size = most  # series in the next part

    def held(self, series: int, seconds: float) -> None:
        """A part of ``series`` held the connection for ``seconds``."""
        if series <= 0 or seconds <= 0:
            return
        per_series = seconds / series
        self.size = max(1, min(self._most, int(self._target / per_series)))
