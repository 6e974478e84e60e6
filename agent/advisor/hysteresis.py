"""Hysteresis: a recommendation comes into force only once the measurements have pointed to it,
without interruption, for ``sustain``; back to ``keep`` only once they have stopped pointing to
a flag for ``clear``. One incident never flips a recommendation, and a flag does not flicker.

The state is plain data handed in and returned: the caller keeps it between reviews (the
running agent in memory; ``slo-agent advise`` rebuilds it by replaying the stored history).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from agent.durations import format_duration

KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Pending:
    """A recommendation the measurements point to that is not in force yet."""

    recommendation: str
    target: str | None
    since: float  # since when the measurements point to it
    takes_effect_at: float  # when it comes into force if they keep pointing to it

    def shown(self) -> str:
        """``"review: operate"``, ``"reroute to backup-pay"``."""
        if self.target is None:
            return self.recommendation
        return f"{self.recommendation} to {self.target}"

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until it takes effect (0 once due)."""
        return max(0.0, self.takes_effect_at - now)

    def text(self, now: float) -> str:
        """``"pending: review: operate, takes effect in 2m10s"``."""
        wait = format_duration(timedelta(seconds=math.ceil(self.wait(now))))
        return f"pending: {self.shown()}, takes effect in {wait}"


@dataclass(frozen=True, slots=True)
class FlagState:
    """What is in force for one node, and what the measurements point to when that differs."""

    recommendation: str = KEEP  # in force
    target: str | None = None  # the node to reroute to
    since: float | None = None  # when it came into force (None: from the start)
    candidate: str | None = None  # what the measurements point to instead, if anything
    candidate_target: str | None = None
    candidate_since: float | None = None  # since when they do

    @property
    def flagged(self) -> bool:
        return self.recommendation != KEEP

    def pending(self, sustain: float, clear: float) -> Pending | None:
        """The candidate, with when it takes effect; None when nothing is pending."""
        if self.candidate is None or self.candidate_since is None:
            return None
        since = self.candidate_since
        wait = needed(self.candidate, sustain, clear)
        return Pending(self.candidate, self.candidate_target, since, since + wait)


def needed(candidate: str, sustain: float, clear: float) -> float:
    """Seconds a candidate must hold before it comes into force."""
    return clear if candidate == KEEP else sustain


def step(
    state: FlagState,
    signal: str,
    target: str | None,
    now: float,
    *,
    sustain: float,
    clear: float,
) -> FlagState:
    """The state after a review at ``now`` whose measurements point to ``signal`` (with
    ``target`` for a reroute)."""
    if (signal, target) == (state.recommendation, state.target):
        if state.candidate is None:
            return state
        return FlagState(state.recommendation, state.target, state.since)
    if (signal, target) == (state.candidate, state.candidate_target):
        since = state.candidate_since if state.candidate_since is not None else now
    else:
        since = now
    if now - since >= needed(signal, sustain, clear):
        return FlagState(signal, target, now)
    return FlagState(state.recommendation, state.target, state.since, signal, target, since)
