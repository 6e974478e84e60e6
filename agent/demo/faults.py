"""The demo's scripted faults: what each simulated node does at any moment of the demo.

Pure data and pure functions. Time is an argument (seconds since the demo started) and the
schedule repeats every ``cycle`` seconds, so the same moment of every cycle misbehaves the
same way. Which requests of an error burst fail is decided by the request's sequence number,
not by chance, so ``k`` consecutive requests during a burst of ratio ``r`` fail exactly
``k * r`` times whenever that is a whole number.

The default schedule, :data:`DEMO_SCHEDULE`, over a 10-minute cycle::

    0:00-1:00   everything healthy (slowfreight is always slow: 300-500 ms, within contract)
    1:00-3:30   acme-pay outage: every request answered 503          -> page (burn 2000 at 99.95%)
    2:00-2:40   storefront error burst: 20% of requests answered 500  -> page (burn 20 at 99%)
    2:40-3:00   inventory outage, and again 3:20-3:40: two incidents of 20 s each -> page
    4:00-6:00   fastship latency spike: +800-1000 ms, over its 500 ms latency SLO -> page
    6:30-7:30   inventory error burst: 30% of requests answered 500   -> page (burn 30 at 99%)
    8:00-9:00   backup-pay contract break: 200 with {"status": "degraded"} -> page
    9:00-10:00  everything healthy again, then the cycle repeats

What the advisor makes of it (the demo's DecisionPolicy raises a flag once its signal has held
for 30 s): inventory, operated, low in value and twice down for 20 s -> ``review: orchestrate``
(about 4:10); fastship during its spike, slower and costlier than slowfreight -> ``reroute`` to
slowfreight (about 5:00); backup-pay breaking its contract with no healthy, unflagged
alternative that keeps it (acme-pay is still short of its objective) -> ``review: operate``, and
acme-pay, strict (99.95%), its budget spent and its drilled fallback now failing ->
``review: operate`` (8:00-9:30).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from types import MappingProxyType
from typing import Final

JsonValue = str | int | float | bool | None

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # spreads delays evenly over their range, no RNG


class FaultKind(StrEnum):
    HEALTHY = "healthy"
    ERROR_BURST = "error_burst"  # a fraction of requests answered with an error status
    LATENCY_SPIKE = "latency_spike"  # every request answered late
    OUTAGE = "outage"  # every request answered 503
    CONTRACT_BREAK = "contract_break"  # 200, but the JSON body breaks the data contract


@dataclass(frozen=True, slots=True)
class Fault:
    """How one node answers while this fault is in force.

    ``delay`` (seconds) is added before every answer; request ``n`` waits an extra
    ``delay_spread * frac(n * golden ratio)``, so delays cover ``[delay, delay + spread)``
    evenly and repeatably. A healthy node may be slow: that is its baseline, not a fault.
    """

    kind: FaultKind = FaultKind.HEALTHY
    error_ratio: float = 0.0  # ERROR_BURST: share of requests answered with ``status``
    status: int = 200  # the status of a failed answer (ERROR_BURST, OUTAGE)
    delay: float = 0.0
    delay_spread: float = 0.0
    # CONTRACT_BREAK: keys laid over the normal JSON answer
    patch: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_ratio <= 1.0:
            raise ValueError(f"error_ratio must be within [0, 1], got {self.error_ratio}")
        if self.delay < 0 or self.delay_spread < 0:
            raise ValueError("delay and delay_spread must not be negative")
        object.__setattr__(self, "patch", MappingProxyType(dict(self.patch)))

    def describe(self) -> str:
        """A few words for people: ``20% 500s``, ``+800-1000ms``, ``outage (503)``."""
        slow = _describe_delay(self.delay, self.delay_spread)
        match self.kind:
            case FaultKind.HEALTHY:
                return f"healthy, {slow}" if slow else "healthy"
            case FaultKind.ERROR_BURST:
                return f"{self.error_ratio:.0%} {self.status}s"
            case FaultKind.LATENCY_SPIKE:
                return f"latency spike {slow}"
            case FaultKind.OUTAGE:
                return f"outage ({self.status})"
            case FaultKind.CONTRACT_BREAK:
                body = ", ".join(f'"{k}": {v!r}' for k, v in self.patch.items())
                return f"contract break ({body})" if body else "contract break"


HEALTHY: Final = Fault()


def healthy(delay: float = 0.0, spread: float = 0.0) -> Fault:
    return Fault(FaultKind.HEALTHY, delay=delay, delay_spread=spread)


def error_burst(ratio: float, status: int = 500) -> Fault:
    return Fault(FaultKind.ERROR_BURST, error_ratio=ratio, status=status)


def latency_spike(delay: float, spread: float = 0.0) -> Fault:
    return Fault(FaultKind.LATENCY_SPIKE, delay=delay, delay_spread=spread)


def outage(status: int = 503) -> Fault:
    return Fault(FaultKind.OUTAGE, error_ratio=1.0, status=status)


def contract_break(patch: Mapping[str, JsonValue]) -> Fault:
    return Fault(FaultKind.CONTRACT_BREAK, patch=patch)


@dataclass(frozen=True, slots=True)
class Slot:
    """``fault`` replaces ``node``'s baseline from ``start`` to ``end`` (seconds into a cycle)."""

    node: str
    start: float
    end: float
    fault: Fault


@dataclass(frozen=True, slots=True)
class FaultSchedule:
    """Every node's baseline behaviour plus the fault slots of one repeating cycle."""

    nodes: tuple[str, ...]
    cycle: float  # seconds
    slots: tuple[Slot, ...] = ()
    baselines: Mapping[str, Fault] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.cycle <= 0:
            raise ValueError(f"cycle must be positive, got {self.cycle}")
        known = set(self.nodes)
        for name in self.baselines:
            if name not in known:
                raise ValueError(f"baseline for unknown node {name!r}")
        for slot in self.slots:
            if slot.node not in known:
                raise ValueError(f"slot for unknown node {slot.node!r}")
            if not 0 <= slot.start < slot.end <= self.cycle:
                raise ValueError(
                    f"slot {slot.node} {slot.start}-{slot.end} must lie within 0-{self.cycle}"
                )
        for node in self.nodes:
            mine = sorted((s for s in self.slots if s.node == node), key=lambda s: s.start)
            for before, after in pairwise(mine):
                if after.start < before.end:
                    raise ValueError(f"slots of {node} overlap at {after.start}s")
        object.__setattr__(self, "baselines", MappingProxyType(dict(self.baselines)))

    def baseline(self, node: str) -> Fault:
        return self.baselines.get(node, HEALTHY)


def faults_at(schedule: FaultSchedule, elapsed: float) -> Mapping[str, Fault]:
    """The fault in force on every node ``elapsed`` seconds after the demo started."""
    if elapsed < 0:
        raise ValueError(f"elapsed must not be negative, got {elapsed}")
    now = elapsed % schedule.cycle
    faults = {node: schedule.baseline(node) for node in schedule.nodes}
    for slot in schedule.slots:
        if slot.start <= now < slot.end:
            faults[slot.node] = slot.fault
    return faults


def next_slot(schedule: FaultSchedule, elapsed: float) -> tuple[float, Slot] | None:
    """Seconds until the next slot starts after ``elapsed``, and that slot (None if no slots)."""
    if not schedule.slots:
        return None
    now = elapsed % schedule.cycle

    def wait(slot: Slot) -> float:
        ahead = slot.start - now
        return ahead if ahead > 0 else ahead + schedule.cycle

    slot = min(schedule.slots, key=lambda s: (wait(s), s.node))
    return wait(slot), slot


def fails(fault: Fault, n: int) -> bool:
    """Whether request number ``n`` (0-based, counted per endpoint) gets an error answer.

    Failures are spread evenly: of any ``k`` consecutive requests, ``floor`` or ``ceil`` of
    ``k * error_ratio`` fail, exactly ``k * error_ratio`` when that is a whole number.
    """
    if fault.kind is FaultKind.OUTAGE:
        return True
    if fault.kind is not FaultKind.ERROR_BURST:
        return False
    ratio = Fraction(fault.error_ratio).limit_denominator(10_000)
    return math.floor((n + 1) * ratio) > math.floor(n * ratio)


def delay_for(fault: Fault, n: int) -> float:
    """Seconds request number ``n`` waits before it is answered."""
    if fault.delay_spread == 0:
        return fault.delay
    return fault.delay + fault.delay_spread * ((n * _GOLDEN) % 1.0)


def _describe_delay(delay: float, spread: float) -> str:
    if delay == 0 and spread == 0:
        return ""
    low = round(delay * 1000)
    if spread == 0:
        return f"+{low}ms"
    return f"+{low}-{round((delay + spread) * 1000)}ms"


DEMO_NODES: Final = ("storefront", "inventory", "acme-pay", "backup-pay", "fastship", "slowfreight")

DEMO_SCHEDULE: Final = FaultSchedule(
    nodes=DEMO_NODES,
    cycle=600.0,
    baselines={"slowfreight": healthy(delay=0.3, spread=0.2)},
    slots=(
        Slot("acme-pay", 60.0, 210.0, outage(503)),
        Slot("storefront", 120.0, 160.0, error_burst(0.2, 500)),
        Slot("fastship", 240.0, 360.0, latency_spike(0.8, 0.2)),
        Slot("inventory", 160.0, 180.0, outage(503)),
        Slot("inventory", 200.0, 220.0, outage(503)),
        Slot("inventory", 390.0, 450.0, error_burst(0.3, 500)),
        Slot("backup-pay", 480.0, 540.0, contract_break({"status": "degraded"})),
    ),
)
