"""Hysteresis: a recommendation comes into force only once the measurements have pointed to it,
without interruption, for ``sustain``; back to ``keep`` only once they have stopped pointing to
a flag for ``clear``. One incident never flips a recommendation, and a flag does not flicker.

The state is plain data handed in and returned: the caller keeps it between reviews (the
running agent in memory; ``slo-agent advise`` rebuilds it by replaying the stored history).
Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

KEEP = "keep"


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
