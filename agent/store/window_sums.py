"""Window sums carried from one evaluation to the next, so that each evaluation reads only the
buckets that entered or left a window since the previous one.

Summing a 28-day window afresh reads 40,320 minute buckets per SLO: ~21 ms per SLO per
evaluation, far too much for thousands of SLOs (bench/RESULTS.md). A window is split at the
*frozen horizon*, ``FROZEN_AFTER`` minutes before the current one:

* the frozen part, older buckets that no longer change, has its sum kept here; the next
  evaluation adds the buckets the window gained and subtracts those it lost;
* the live part, the last few minutes, is read afresh every time.

The store keeps the kept sums honest: a write into a bucket below the horizon (a flush that
was retried for a long time) forgets that series' sums, and pruning forgets every sum that
covers pruned buckets. Pure: no I/O, no clock, no locking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from agent.slo.events import Counts

FROZEN_AFTER = 10
"""Minutes after which a bucket is taken as final: no probe or journey runs that long."""

RESCAN_OVER = 1440
"""Minutes a window's edges may move in all before it is summed afresh rather than patched."""

Range = tuple[int, int]  # half-open minute range [lo, hi)


class Kept(NamedTuple):
    """The stored counts of one series over the minute range ``[lo, hi)``."""

    lo: int
    hi: int
    counts: Counts


class Term(NamedTuple):
    """``sign`` times the stored counts of a series over ``range``."""

    range: Range
    sign: int


class Plan(NamedTuple):
    """How to get one window's counts: a kept sum (or nothing) plus the terms to read.

    (Named tuples, not dataclasses: an evaluation makes one per SLO and window.)
    """

    frozen: Range  # the frozen part of the window, kept after this evaluation
    base: Counts  # the kept counts the terms patch (zero when summed afresh)
    terms: tuple[Term, ...]  # frozen-part terms, then the live part (sign 1)
    live_terms: int  # how many of the last terms are the live part (not kept)


def _span(start: int, end: int) -> Term | None:
    """The signed term for moving an edge from ``start`` to ``end`` (None when it did not)."""
    if start == end:
        return None
    return Term((start, end), 1) if start < end else Term((end, start), -1)


class WindowSums:
    """Kept frozen-part sums per series and window label.

    :meth:`plan` says what to read for one window, :meth:`keep` takes the frozen part's new
    sum; between the two the caller reads the terms and adds them up (:func:`combine`).
    """

    def __init__(self) -> None:
        self._kept: dict[str, dict[str, Kept]] = {}
        self.horizon: int | None = None  # the highest frozen horizon any kept sum reaches

    def plan(self, series: str, label: str, window: Range, horizon: int) -> Plan:
        """The plan for ``series`` over ``window`` with buckets below ``horizon`` frozen."""
        lo, hi = window
        frozen = (lo, max(lo, min(hi, horizon)))
        live = (max(lo, horizon), hi)
        live_terms = (Term(live, 1),) if live[0] < live[1] else ()
        kept = self._kept.get(series, {}).get(label)
        if frozen[0] >= frozen[1]:
            return Plan(frozen, Counts(), live_terms, len(live_terms))
        if kept is None or abs(frozen[0] - kept.lo) + abs(frozen[1] - kept.hi) > RESCAN_OVER:
            terms = (Term(frozen, 1), *live_terms)
            return Plan(frozen, Counts(), terms, len(live_terms))
        gained = _span(kept.hi, frozen[1])
        lost = _span(kept.lo, frozen[0])
        patches = [t for t in (gained, None if lost is None else Term(lost.range, -lost.sign)) if t]
        return Plan(frozen, kept.counts, (*patches, *live_terms), len(live_terms))

    def keep(self, series: str, label: str, frozen: Range, counts: Counts) -> None:
        """Keep ``counts`` as the stored counts of ``series`` over ``frozen`` (if not empty)."""
        if frozen[0] >= frozen[1]:
            return
        self._kept.setdefault(series, {})[label] = Kept(frozen[0], frozen[1], counts)
        if self.horizon is None or frozen[1] > self.horizon:
            self.horizon = frozen[1]

    def forget(self, series: Iterable[str]) -> None:
        for name in series:
            self._kept.pop(name, None)

    def forget_below(self, minute: int) -> None:
        """Forget every kept sum that covers a bucket before ``minute`` (they were pruned)."""
        for name in [s for s, kept in self._kept.items() if _reaches_below(kept, minute)]:
            del self._kept[name]


def _reaches_below(kept: Mapping[str, Kept], minute: int) -> bool:
    return any(k.lo < minute for k in kept.values())


def combine(plan: Plan, stored: Mapping[Range, Counts]) -> tuple[Counts, Counts]:
    """The frozen part's counts (to keep) and the whole window's, from the stored counts of
    each of the plan's term ranges."""
    frozen = plan.base
    cut = len(plan.terms) - plan.live_terms
    for term in plan.terms[:cut]:
        frozen = frozen + _times(stored.get(term.range, Counts()), term.sign)
    window = frozen
    for term in plan.terms[cut:]:
        window = window + stored.get(term.range, Counts())
    return frozen, window


def _times(counts: Counts, sign: int) -> Counts:
    return counts if sign > 0 else Counts(-counts.total, -counts.bad)
