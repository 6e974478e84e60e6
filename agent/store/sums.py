"""A node's probe sums over a range of minutes, as the advisor reads them. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.store.buckets import ProbeCounts
from agent.store.evidence import MinuteVolume
from agent.store.latency import LatencyHistogram


@dataclass(frozen=True, slots=True)
class ProbeSums:
    """Probe counts, the merged latency histogram and the volume summary over some minutes
    (the volume left empty when not asked for)."""

    counts: ProbeCounts = field(default_factory=ProbeCounts)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    volume: MinuteVolume = field(default_factory=MinuteVolume)
