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

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

from agent.slo.events import Counts

FROZEN_AFTER = 10
"""Minutes after which a bucket is taken as final: no probe or journey runs that long."""

RESCAN_OVER = 1440
"""Minutes a window's edges may move in all before it is summed afresh rather than patched."""

_NO_COUNTS = Counts()  # immutable: one zero serves every plan

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
    """How to get one window's counts: the frozen part as a kept sum (or nothing) patched by
    signed terms, plus the live part read whole.

    (Named tuples, not dataclasses: an evaluation makes one per SLO and window.)
    """

    frozen: Range  # the frozen part of the window, kept after this evaluation
    base: Counts  # the kept counts the patches apply to (zero when summed afresh)
    patches: tuple[Term, ...]  # what to add to (or take from) ``base`` for the frozen part
    live: Range | None  # the live part, read every time and never kept

    def reads(self) -> list[Range]:
        """Every range whose stored counts the plan needs."""
        ranges = [term.range for term in self.patches]
        return ranges if self.live is None else [*ranges, self.live]


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

    def __init__(self, on_forget: Callable[[list[str]], None] | None = None) -> None:
        self._kept: dict[str, dict[str, Kept]] = {}
        self.horizon: int | None = None  # the highest frozen horizon any kept sum reaches
        # told the series whose sums are forgotten (their stored buckets may have changed)
        self.on_forget = on_forget

    def plan(
        self, series: str, label: str, window: Range, horizon: int, *, use_kept: bool = True
    ) -> Plan:
        """The plan for ``series`` over ``window`` with buckets below ``horizon`` frozen;
        ``use_kept=False`` sums the window afresh whatever is kept."""
        lo, hi = window
        frozen = (lo, max(lo, min(hi, horizon)))
        live = (max(lo, horizon), hi) if max(lo, horizon) < hi else None
        if frozen[0] >= frozen[1]:
            return Plan(frozen, _NO_COUNTS, (), live)
        kept = self._kept.get(series, {}).get(label) if use_kept else None
        if kept is None or abs(frozen[0] - kept.lo) + abs(frozen[1] - kept.hi) > RESCAN_OVER:
            return Plan(frozen, _NO_COUNTS, (Term(frozen, 1),), live)
        gained = _span(kept.hi, frozen[1])  # + what came in at the new end
        lost = _span(frozen[0], kept.lo)  # - what went out at the old start (signs flipped)
        return Plan(frozen, kept.counts, tuple(t for t in (gained, lost) if t), live)

    def keep(self, series: str, label: str, frozen: Range, counts: Counts) -> None:
        """Keep ``counts`` as the stored counts of ``series`` over ``frozen`` (if not empty)."""
        if frozen[0] >= frozen[1]:
            return
        self._kept.setdefault(series, {})[label] = Kept(frozen[0], frozen[1], counts)
        if self.horizon is None or frozen[1] > self.horizon:
            self.horizon = frozen[1]

    def forget(self, series: Iterable[str]) -> None:
        names = list(series)
        for name in names:
            self._kept.pop(name, None)
        self._told(names)

    def own(self) -> Iterator[tuple[str, str, Kept]]:
        """Every sum kept for the evaluations themselves (no read track): series, label, sum."""
        for series, kept in self._kept.items():
            for label, k in kept.items():
                if not is_tracked(label):
                    yield series, label, k

    def own_series(self) -> list[str]:
        """The series with some sum kept for the evaluations themselves."""
        return [s for s, kept in self._kept.items() if any(not is_tracked(k) for k in kept)]

    def own_of(self, series: Iterable[str]) -> Iterator[tuple[str, str, Kept]]:
        """:meth:`own` for ``series`` only (those with none kept are skipped)."""
        for name in series:
            for label, k in self._kept.get(name, {}).items():
                if not is_tracked(label):
                    yield name, label, k

    def drop_track(self, track: str) -> None:
        """Drop the sums kept for the read track ``track`` (see :func:`tracked`)."""
        if not track:
            raise ValueError("the evaluations' own sums have no track to drop")
        prefix = tracked(track, "")
        for kept in self._kept.values():
            for label in [label for label in kept if label.startswith(prefix)]:
                del kept[label]

    def forget_below(self, minute: int) -> None:
        """Forget every kept sum that covers a bucket before ``minute`` (they were pruned)."""
        names = [s for s, kept in self._kept.items() if _reaches_below(kept, minute)]
        for name in names:
            del self._kept[name]
        self._told(names)

    def forget_inside(self, lo: int, hi: int, grain: int) -> None:
        """Forget every kept sum whose window starts inside ``(lo, hi)`` off a multiple of
        ``grain``: rolling that slice up moved some of its buckets before the window's start."""
        names = [s for s, kept in self._kept.items() if _starts_inside(kept, lo, hi, grain)]
        for name in names:
            del self._kept[name]
        self._told(names)

    def _told(self, names: list[str]) -> None:
        if names and self.on_forget is not None:
            self.on_forget(names)


def tracked(track: str, label: str) -> str:
    """The key ``label``'s sum is kept under for the read track ``track``: reads that move
    through time on their own (the advisor's start-up replay, in the past) keep sums apart
    from the evaluations at now, so neither drags the other's window edges back and forth.
    Every sum of a series is forgotten alike, whatever its track."""
    return f"{track}\x00{label}" if track else label


def is_tracked(label: str) -> bool:
    """Whether ``label`` is a key of some read track's sums (see :func:`tracked`)."""
    return "\x00" in label


def _starts_inside(kept: Mapping[str, Kept], lo: int, hi: int, grain: int) -> bool:
    return any(lo < k.lo < hi and k.lo % grain for k in kept.values())


def _reaches_below(kept: Mapping[str, Kept], minute: int) -> bool:
    return any(k.lo < minute for k in kept.values())


def combine(plan: Plan, stored: Mapping[Range, Counts]) -> tuple[Counts, Counts]:
    """The frozen part's counts (to keep) and the whole window's, from the stored counts of
    each range the plan reads."""
    frozen = plan.base
    for term in plan.patches:
        patch = stored.get(term.range)
        if patch is not None:
            signed = _times(patch, term.sign)
            # a window summed afresh: its one patch is its sum (no Counts built to add zero)
            frozen = signed if frozen is _NO_COUNTS else frozen + signed
    live = None if plan.live is None else stored.get(plan.live)
    return frozen, frozen if live is None else frozen + live


def _times(counts: Counts, sign: int) -> Counts:
    return counts if sign > 0 else Counts(-counts.total, -counts.bad)
