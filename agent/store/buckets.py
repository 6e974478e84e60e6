"""Per-minute buckets and the in-memory buffer of data not yet written to disk.

A bucket is keyed by ``minute = floor(unix_seconds / 60)``; a bucket counts towards a time
range ``[start, end)`` when its minute *start* (``minute * 60``) lies in that range. Pure: no
I/O, no clock, no locking (the store guards a :class:`Pending` with its own lock).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agent.probes.result import Outcome, ProbeResult, Reason
from agent.slo.events import Counts, SliEvent
from agent.store.evidence import EvidencePending
from agent.store.journeys import JourneyPending
from agent.store.latency import LatencyHistogram, bucket_of

ProbeKey = tuple[str, str]  # node, probe

# Minute bounds standing in for an infinite range end.
MIN_MINUTE = -(2**62)
_NO_COUNTS = Counts()
MAX_MINUTE = 2**62


# --- tiers of history (the roll-up itself is agent.store.tiers) ---------------------------


@dataclass(frozen=True, slots=True)
class Tier:
    """Buckets older than ``after`` minutes are summed into buckets of ``grain`` minutes."""

    grain: int
    after: int


TIERS = (Tier(5, 5 * 60), Tier(10, 10 * 60), Tier(60, 60 * 60))


def target(tier: Tier, now_minute: int) -> int:
    """The minute below which buckets belong in ``tier`` at ``now_minute`` (a grain edge)."""
    edge = now_minute - tier.after
    return edge - edge % tier.grain


def grain_at(minute: int, now_minute: int) -> int:
    """The grain (minutes) of the tier the bucket starting at ``minute`` belongs to at
    ``now_minute``: what a per-minute figure over rolled buckets divides by. A bucket whose
    roll-up is still due may be finer."""
    grain = 1
    for tier in TIERS:
        if minute < target(tier, now_minute):
            grain = tier.grain
    return grain


def minute_of(seconds: float) -> int:
    """The bucket holding an event at ``seconds``: the ``m`` with ``60*m <= seconds < 60*(m+1)``."""
    m = math.floor(seconds / 60)
    # The float division may round across a minute edge; settle it with exact comparisons.
    while 60 * m > seconds:
        m -= 1
    while 60 * (m + 1) <= seconds:
        m += 1
    return m


def first_minute_from(seconds: float) -> int:
    """The smallest ``m`` with ``60*m >= seconds``: ranges ``[start, end)`` over bucket starts
    become minute ranges ``[first_minute_from(start), first_minute_from(end))``."""
    if math.isnan(seconds):
        raise ValueError("a time range bound is NaN")
    if seconds == math.inf:
        return MAX_MINUTE
    if seconds == -math.inf:
        return MIN_MINUTE
    m = math.ceil(seconds / 60)
    while 60 * (m - 1) >= seconds:
        m -= 1
    while 60 * m < seconds:
        m += 1
    return max(MIN_MINUTE, min(MAX_MINUTE, m))


def minute_ranges(ranges: Mapping[str, tuple[float, float]]) -> dict[str, tuple[int, int]]:
    """Label -> half-open minute range ``[lo, hi)`` for label -> ``(start, end)`` in seconds."""
    return {
        label: (first_minute_from(start), first_minute_from(end))
        for label, (start, end) in ranges.items()
    }


@dataclass(frozen=True, slots=True)
class ProbeCounts:
    """Probe runs in some time range: how many, how many failed and why, how long they took."""

    total: int = 0
    failures: int = 0
    duration_sum: float = 0.0  # seconds, over all runs
    failures_by_reason: Mapping[Reason, int] = field(default_factory=dict)  # non-zero entries

    def __add__(self, other: ProbeCounts) -> ProbeCounts:
        reasons = dict(self.failures_by_reason)
        for reason, n in other.failures_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + n
        return ProbeCounts(
            self.total + other.total,
            self.failures + other.failures,
            self.duration_sum + other.duration_sum,
            reasons,
        )

    @property
    def mean_duration(self) -> float | None:
        return self.duration_sum / self.total if self.total else None


class ProbeTally:
    """A mutable probe bucket being filled: run count, failures by reason, duration sum, and
    the latency histogram of its successful runs (bucket index -> runs, see
    :mod:`agent.store.latency`), so one lookup per result serves both."""

    __slots__ = ("duration_sum", "failures", "latency", "reasons", "total")

    def __init__(self) -> None:
        self.total = 0
        self.failures = 0
        self.duration_sum = 0.0
        self.reasons: dict[Reason, int] = {}  # failures by reason: rows, not columns
        self.latency: dict[int, int] = {}  # successful runs by latency bucket

    def add(self, result: ProbeResult) -> None:
        observation = result.observation
        duration = observation.duration
        self.total += 1
        self.duration_sum += duration
        if observation.outcome is Outcome.SUCCESS:
            # failed runs say nothing about answer latency
            index = bucket_of(duration)
            latency = self.latency
            latency[index] = latency.get(index, 0) + 1
            return
        self.failures += 1
        reason = observation.reason
        if reason is Reason.OK:  # a failure that names no reason is a generic error
            reason = Reason.ERROR
        reasons = self.reasons
        reasons[reason] = reasons.get(reason, 0) + 1

    def merge(self, other: ProbeTally) -> None:
        self.total += other.total
        self.failures += other.failures
        self.duration_sum += other.duration_sum
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n
        for index, n in other.latency.items():
            self.latency[index] = self.latency.get(index, 0) + n

    def counts(self) -> ProbeCounts:
        return ProbeCounts(self.total, self.failures, self.duration_sum, dict(self.reasons))


class Pending:
    """Everything recorded since the last successful flush.

    SLI buckets are kept per series (series -> minute -> [total, bad]) so that repeated events
    in one minute merge in memory and a per-series lookup does not scan other series. Raw
    results are kept in arrival order, at most ``max_results`` of them: when writes keep
    failing, the oldest raw results are dropped (``dropped_results`` counts them) while bucket
    counts are never dropped.
    """

    def __init__(self, max_results: int) -> None:
        self.sli: dict[str, dict[int, list[int]]] = {}
        self.probes: dict[tuple[str, str], dict[int, ProbeTally]] = {}
        self.results: deque[ProbeResult] = deque(maxlen=max_results)
        self.dropped_results = 0
        self.journeys = JourneyPending(max_results)
        self.evidence = EvidencePending()  # drill and failure runs (latency: in ``probes``)

    def __bool__(self) -> bool:
        return bool(self.sli or self.probes or self.results or self.journeys or self.evidence)

    def add(
        self, result: ProbeResult, events: Iterable[SliEvent], *, keep_raw: bool = True
    ) -> None:
        minute = minute_of(result.started_at)
        self.add_events(minute, events)
        key = (result.node, result.probe)
        tallies = self.probes.get(key)
        if tallies is None:
            tallies = self.probes[key] = {}
        tally = tallies.get(minute)
        if tally is None:
            tally = tallies[minute] = ProbeTally()
        tally.add(result)
        if not keep_raw:
            return
        if len(self.results) == self.results.maxlen:
            self.dropped_results += 1
        self.results.append(result)

    def add_events(self, minute: int, events: Iterable[SliEvent]) -> None:
        """Count SLI events in the bucket of ``minute``."""
        sli = self.sli
        for event in events:
            minutes = sli.get(event.series)
            if minutes is None:
                minutes = sli[event.series] = {}
            bucket = minutes.get(minute)
            if bucket is None:
                minutes[minute] = [1, 0 if event.good else 1]
            else:
                bucket[0] += 1
                if not event.good:
                    bucket[1] += 1

    def absorb(self, newer: Pending) -> None:
        """Add ``newer``'s data to this older buffer (used to put back a failed flush)."""
        for series, minutes in newer.sli.items():
            mine = self.sli.setdefault(series, {})
            for minute, (total, bad) in minutes.items():
                bucket = mine.get(minute)
                if bucket is None:
                    mine[minute] = [total, bad]
                else:
                    bucket[0] += total
                    bucket[1] += bad
        for key, tallies in newer.probes.items():
            mine_t = self.probes.setdefault(key, {})
            for minute, tally in tallies.items():
                if minute in mine_t:
                    mine_t[minute].merge(tally)
                else:
                    mine_t[minute] = tally
        maxlen = self.results.maxlen or 0
        self.dropped_results += newer.dropped_results
        self.dropped_results += max(0, len(self.results) + len(newer.results) - maxlen)
        self.results.extend(newer.results)
        self.journeys.absorb(newer.journeys)
        self.evidence.absorb(newer.evidence)

    # --- reading, for queries that include unflushed data ---------------------------------

    def sli_counts(self, series: str, ranges: Mapping[str, tuple[int, int]]) -> dict[str, Counts]:
        """Label -> counts of this buffer's buckets of ``series`` in each minute range."""
        minutes = self.sli.get(series)
        if not minutes:  # the common case: counts are immutable, one zero serves every label
            return dict.fromkeys(ranges, _NO_COUNTS)
        out = {}
        for label, (lo, hi) in ranges.items():
            total = bad = 0
            for minute, bucket in minutes.items():
                if lo <= minute < hi:
                    total += bucket[0]
                    bad += bucket[1]
            out[label] = Counts(total, bad)
        return out

    def series_totals(self) -> dict[str, Counts]:
        return {
            series: Counts(sum(b[0] for b in minutes.values()), sum(b[1] for b in minutes.values()))
            for series, minutes in self.sli.items()
        }

    def probe_totals(self, node: str | None) -> dict[tuple[str, str], ProbeCounts]:
        out: dict[tuple[str, str], ProbeCounts] = {}
        for key, tallies in self.probes.items():
            if node is not None and key[0] != node:
                continue
            total = ProbeTally()
            for tally in tallies.values():
                total.merge(tally)
            out[key] = total.counts()
        return out

    def probe_minutes(self, node: str, lo: int, hi: int) -> dict[int, ProbeCounts]:
        """Minute -> this buffer's probe counts of ``node`` (all probes) in ``[lo, hi)``."""
        tallies: dict[int, ProbeTally] = {}
        for (name, _), minutes in self.probes.items():
            if name != node:
                continue
            for minute, tally in minutes.items():
                if lo <= minute < hi:
                    tallies.setdefault(minute, ProbeTally()).merge(tally)
        return {minute: tally.counts() for minute, tally in tallies.items()}

    def latency_minutes(self, node: str, lo: int, hi: int) -> dict[int, LatencyHistogram]:
        """Minute -> this buffer's latency histogram of ``node`` (all probes) in ``[lo, hi)``."""
        out: dict[int, LatencyHistogram] = {}
        for (name, _), minutes in self.probes.items():
            if name != node:
                continue
            for minute, tally in minutes.items():
                if lo <= minute < hi and tally.latency:
                    histogram = LatencyHistogram(dict(tally.latency))
                    out[minute] = out[minute] + histogram if minute in out else histogram
        return out

    def series_below(self, minute: int) -> list[str]:
        """The series with a bucket before ``minute`` in this buffer."""
        return [series for series, minutes in self.sli.items() if min(minutes) < minute]

    # --- rows for the writer, with the series ids the file knows them by ------------------

    def sli_rows(self, ids: Mapping[str, int]) -> list[tuple[int, int, int, int]]:
        """``(series id, minute, total, bad)``: one row per SLI bucket."""
        return [
            (ids[series], minute, total, bad)
            for series, minutes in self.sli.items()
            for minute, (total, bad) in minutes.items()
        ]

    def probe_rows(self, ids: Mapping[ProbeKey, int]) -> list[tuple[int, int, int, int, float]]:
        """``(probe id, minute, total, failures, duration sum)``: one row per probe bucket."""
        return [
            (ids[key], minute, t.total, t.failures, t.duration_sum)
            for key, tallies in self.probes.items()
            for minute, t in tallies.items()
        ]

    def probe_reason_rows(self, ids: Mapping[ProbeKey, int]) -> list[tuple[int, int, str, int]]:
        """``(probe id, minute, reason, failures)``: one row per reason seen in a minute."""
        return [
            (ids[key], minute, reason.value, n)
            for key, tallies in self.probes.items()
            for minute, t in tallies.items()
            for reason, n in t.reasons.items()
        ]

    def latency_rows(self) -> list[tuple[str, str, int, int, int]]:
        """``(node, probe, minute, bucket, runs)``: one row per latency bucket seen in a
        minute."""
        return [
            (node, probe, minute, index, n)
            for (node, probe), tallies in self.probes.items()
            for minute, t in tallies.items()
            for index, n in t.latency.items()
        ]


class RawSampler:
    """Which raw results an incident timeline needs: every failure, every change of outcome
    (the first success after failures is the recovery), and otherwise one success per probe
    per ``success_every`` seconds (0 keeps every result). Buckets count every result anyway.

    At thousands of probes per second this keeps the raw table (and each flush) small: 2,000
    probes/s of steady successes write ~33 raw rows/s instead of 2,000.
    """

    def __init__(self, success_every: float) -> None:
        self._every = success_every
        # (node, probe) -> (last result ok?, start of the last success kept)
        self._state: dict[tuple[str, str], tuple[bool, float]] = {}

    def keep(self, result: ProbeResult) -> bool:
        if self._every <= 0:
            return True
        key = (result.node, result.probe)
        previous = self._state.get(key)
        if not result.ok:
            self._state[key] = (False, previous[1] if previous else float("-inf"))
            return True
        if previous is None or not previous[0] or result.started_at - previous[1] >= self._every:
            self._state[key] = (True, result.started_at)
            return True
        return False
