"""The advisor's window sums kept from one review to the next, so that a review (and each step
of the start-up replay) reads the minutes its windows gained and lost, not the whole window.

For each node and window kind (its span, its recent span) a :class:`WindowSums` keeps the probe
counts, the merged latency histogram and the volume summary of the minutes ``[lo, frozen)``,
where ``frozen`` is :data:`~agent.store.window_sums.FROZEN_AFTER` minutes before the review:
buckets that old are final. When the window moves to ``[lo', hi')`` the kept part gains
``[frozen, frozen')`` and loses ``[lo, lo')`` (two short reads); the newest minutes
``[frozen', hi')`` are read afresh each time. A window that moves back, or jumps past what is
kept, is read whole. Every figure still counts every bucket of the window.
"""

from __future__ import annotations

from typing import Protocol

from agent.store.buckets import ProbeCounts, minute_of
from agent.store.evidence import MinuteVolume
from agent.store.latency import LatencyHistogram
from agent.store.sums import ProbeSums
from agent.store.window_sums import FROZEN_AFTER


class SumsStore(Protocol):
    @property
    def probe_rolls(self) -> int: ...

    def probe_sums(
        self, node: str, lo: int, hi: int, *, volume: bool, now_minute: int
    ) -> ProbeSums: ...

    def first_probe_minute(self, node: str, start: float, end: float) -> int | None: ...


def read_sums(
    store: SumsStore, node: str, lo: int, hi: int, *, volume: bool, now_minute: int
) -> ProbeSums:
    """The sums of ``node`` over the minutes ``[lo, hi)``, read whole (``now_minute``: the
    real time, which tells the rolled-up buckets)."""
    if lo >= hi:
        return _EMPTY
    return store.probe_sums(node, lo, hi, volume=volume, now_minute=now_minute)


_EMPTY = ProbeSums()


def _minus_counts(a: ProbeCounts, b: ProbeCounts) -> ProbeCounts:
    reasons = {r: n - b.failures_by_reason.get(r, 0) for r, n in a.failures_by_reason.items()}
    return ProbeCounts(
        a.total - b.total,
        a.failures - b.failures,
        a.duration_sum - b.duration_sum,
        {r: n for r, n in reasons.items() if n},
    )


def _minus_latency(a: LatencyHistogram, b: LatencyHistogram) -> LatencyHistogram:
    counts = {i: n - b.counts.get(i, 0) for i, n in a.counts.items()}
    return LatencyHistogram({i: n for i, n in counts.items() if n})


def _joined(older: MinuteVolume, newer: MinuteVolume) -> MinuteVolume:
    """The volume of two adjacent ranges of minutes, ``older`` before ``newer``."""
    first = older.first if older.first is not None else newer.first
    last = newer.last if newer.last is not None else older.last
    return MinuteVolume(older.total + newer.total, older.squares + newer.squares, first, last)


class WindowSums:
    """One node's sums over a window of minutes that moves forward (see the module doc)."""

    __slots__ = ("_frozen", "_hi", "_kept", "_lo", "_node", "_rolls", "_volume")

    def __init__(self, node: str, *, volume: bool) -> None:
        self._node = node
        self._volume = volume
        self._lo = self._frozen = 0
        self._hi = 0
        self._kept: ProbeSums | None = None  # over [lo, frozen)
        self._rolls = -1  # the store's probe_rolls when kept was read

    def read(self, store: SumsStore, lo: int, hi: int, now: float) -> ProbeSums:
        """The sums over ``[lo, hi)``, the buckets older than ``FROZEN_AFTER`` minutes before
        ``now`` taken as final."""
        now_minute = minute_of(now)
        frozen = max(lo, min(hi, now_minute - FROZEN_AFTER))
        self._advance(store, lo, frozen, now_minute)
        kept = self._kept
        assert kept is not None
        fresh = read_sums(store, self._node, frozen, hi, volume=self._volume, now_minute=now_minute)
        return ProbeSums(
            kept.counts + fresh.counts,
            kept.latency + fresh.latency,
            _joined(kept.volume, fresh.volume),
        )

    def _advance(self, store: SumsStore, lo: int, frozen: int, now_minute: int) -> None:
        kept, rolls = self._kept, store.probe_rolls
        volume, node = self._volume, self._node
        if (
            kept is None
            or rolls != self._rolls  # a roll-up moved buckets (and changed the volume's squares)
            or lo < self._lo
            or frozen < self._frozen
            or lo > self._frozen
        ):
            self._kept = read_sums(store, node, lo, frozen, volume=volume, now_minute=now_minute)
        else:
            gained = read_sums(
                store, node, self._frozen, frozen, volume=volume, now_minute=now_minute
            )
            lost = read_sums(store, node, self._lo, lo, volume=volume, now_minute=now_minute)
            self._kept = ProbeSums(
                _minus_counts(kept.counts + gained.counts, lost.counts),
                _minus_latency(kept.latency + gained.latency, lost.latency),
                self._moved_volume(store, kept.volume, gained.volume, lost.volume, lo, frozen),
            )
        self._lo, self._frozen, self._rolls = lo, frozen, rolls

    def _moved_volume(
        self,
        store: SumsStore,
        kept: MinuteVolume,
        gained: MinuteVolume,
        lost: MinuteVolume,
        lo: int,
        frozen: int,
    ) -> MinuteVolume:
        if not self._volume:
            return MinuteVolume()
        total = kept.total + gained.total - lost.total
        squares = kept.squares + gained.squares - lost.squares
        last = gained.last if gained.last is not None else kept.last
        if last is not None and last < lo:
            last = None
        first = kept.first
        if first is None or first < lo:  # the first minute with data moved out: seek the next
            first = store.first_probe_minute(self._node, lo * 60.0, frozen * 60.0)
        if first is None or last is None:
            return MinuteVolume(total, squares, None, None)
        return MinuteVolume(total, squares, first, last)


class EvidenceSums:
    """The :class:`WindowSums` of every node and window kind, kept between reviews."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], WindowSums] = {}
        # the real time during a replay: buckets more than FROZEN_AFTER minutes before it are
        # final, so a replayed review in the past reads nothing afresh
        self.settled_at: float | None = None

    def read(
        self, store: SumsStore, node: str, kind: str, lo: int, hi: int, now: float
    ) -> ProbeSums:
        """``node``'s sums over ``[lo, hi)`` at ``now`` for the window ``kind`` (``span``
        with the volume, ``recent`` without)."""
        window = self._windows.get((node, kind))
        if window is None:
            window = self._windows[(node, kind)] = WindowSums(node, volume=kind == "span")
        return window.read(store, lo, hi, max(now, self.settled_at or now))

    def keep_only(self, nodes: set[str]) -> None:
        """Forget the nodes not in ``nodes`` (removed from the specs)."""
        for key in [key for key in self._windows if key[0] not in nodes]:
            del self._windows[key]
