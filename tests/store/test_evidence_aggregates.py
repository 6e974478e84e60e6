"""The advisor's window aggregates give the same figures as the per-minute reads they replace,
on generated history (flushed and unflushed), and their size does not grow with the window."""

from __future__ import annotations

import math
import pickle
import random
import sqlite3
import statistics
from pathlib import Path

import pytest

from agent.advisor.incidents import percentile
from agent.probes.result import Reason
from agent.store.buckets import ProbeCounts, first_minute_from
from agent.store.evidence import DrillKey, DrillRun, failing_spans
from agent.store.latency import LatencyHistogram
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, probe_result

REASONS = (Reason.OK,) * 6 + (Reason.TIMEOUT, Reason.STATUS, Reason.ASSERTION, Reason.CONNECT)
HOURS = 6


def generate(store: SqliteStore, rng: random.Random, *, flush_until: float) -> None:
    """``HOURS`` of runs of two probes of ``shop`` (uneven volume, gaps, failures of every
    kind, runs of failures) and drills of two routes; flushed up to ``flush_until``, the rest
    left unflushed."""
    flushed = False
    for second in range(0, HOURS * 3600, 20):
        at = BASE + second
        if not flushed and at >= flush_until:
            store.flush()
            flushed = True
        if (second // 60) % 13 == 5 or rng.random() < 0.1:
            continue  # gaps: every 13th minute has no bucket at all
        down = 3600 <= second < 3600 + 600  # an outage of 10 minutes
        for probe in ("home", "api") if rng.random() < 0.7 else ("home",):
            reason = Reason.STATUS if down else rng.choice(REASONS)
            duration = rng.choice((0.05, 0.1, 0.25, 0.4, 1.5)) * rng.uniform(0.5, 1.5)
            store.record(probe_result(at, probe=probe, reason=reason, duration=duration), ())
        if second % 120 == 0:
            for fallback in ("backup", "spare"):
                ok = rng.random() < 0.8
                duration = round(rng.uniform(0.01, 2.0), 3)
                store.record_drill(DrillRun(DrillKey("shop", fallback), at + 1, ok, duration))


@pytest.fixture(params=[BASE + HOURS * 3600, BASE + HOURS * 3600 - 150], ids=["flushed", "partly"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> SqliteStore:
    opened = SqliteStore(tmp_path / "store.db")
    generate(opened, random.Random(7), flush_until=request.param)
    return opened


# a time at which none of the generated history is old enough to be rolled up (< 5 h)
RECENT = first_minute_from(BASE + 4 * 3600)


def minutes_of(start: float, end: float) -> tuple[int, int]:
    return first_minute_from(start), first_minute_from(end)


WINDOWS = [
    (BASE, BASE + HOURS * 3600),
    (BASE + 1234.5, BASE + 4 * 3600 + 17),
    (BASE + 5 * 3600, BASE + 9 * 3600),
]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_sums_and_histograms_equal_the_per_minute_ones(
    store: SqliteStore, start: float, end: float
) -> None:
    minutes = store.probe_minutes("shop", start, end)
    assert minutes  # the window has data
    expected = sum(minutes.values(), ProbeCounts())
    lo, hi = minutes_of(start, end)
    sums = store.probe_sums("shop", lo, hi, volume=False, now_minute=RECENT)
    counts = sums.counts
    assert (counts.total, counts.failures, counts.failures_by_reason) == (
        expected.total,
        expected.failures,
        expected.failures_by_reason,
    )
    assert counts.duration_sum == pytest.approx(expected.duration_sum)
    histogram = sum(store.latency_minutes("shop", start, end).values(), LatencyHistogram())
    assert sums.latency == histogram


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_volume_variation_equals_the_per_minute_series(
    store: SqliteStore, start: float, end: float
) -> None:
    per_minute = {m: c.total for m, c in store.probe_minutes("shop", start, end).items()}
    series = [per_minute.get(m, 0) for m in range(min(per_minute), max(per_minute) + 1)]
    assert 0 in series  # the gaps count as minutes without runs
    lo, hi = minutes_of(start, end)
    volume = store.probe_sums("shop", lo, hi, volume=True, now_minute=RECENT).volume
    assert (volume.total, volume.first, volume.last) == (
        sum(series),
        min(per_minute),
        max(per_minute),
    )
    expected = statistics.pstdev(series) / statistics.fmean(series)
    assert volume.variation == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_drill_summaries_equal_the_runs(store: SqliteStore, start: float, end: float) -> None:
    runs = store.drill_runs("shop", start, end)
    summaries = store.drill_summaries("shop", start, end)
    assert set(summaries) == {"backup", "spare"}
    for fallback, summary in summaries.items():
        mine = [r for r in runs if r.drill.fallback == fallback]
        assert (summary.runs, summary.successes) == (len(mine), sum(r.ok for r in mine))
        assert summary.ok_p50 == percentile([r.duration for r in mine if r.ok], 0.5)


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_drill_tallies_equal_the_runs(store: SqliteStore, start: float, end: float) -> None:
    runs = store.drill_runs("shop", start, end)
    tallies = store.drill_tallies("shop", start, end)
    assert set(tallies) == {"backup", "spare"}
    for fallback, tally in tallies.items():
        mine = [r for r in runs if r.drill.fallback == fallback]
        failed = [r.started_at for r in mine if not r.ok]
        assert (tally.runs, tally.failures) == (len(mine), len(failed))
        assert (tally.last_run_at, tally.last_failure_at) == (mine[-1].started_at, failed[-1])
        assert tally.failing is (not mine[-1].ok)


def test_drills_during_failures_are_those_inside_a_failure_run(store: SqliteStore) -> None:
    start, end = BASE, BASE + HOURS * 3600
    runs = store.failure_runs("shop", start, end, 3)
    assert runs
    assert all(r.failures >= 3 for r in runs)
    assert len(runs) < len(store.failure_runs("shop", start, end))  # short ones left out
    during = store.drill_runs_during("shop", failing_spans(runs, start, end))
    expected = [
        d
        for d in store.drill_runs("shop", start, end)
        if any(r.start <= d.started_at <= (end if r.end is None else r.end) for r in runs)
    ]
    assert during == expected
    assert during


def write_days(db: Path, days: int) -> None:
    """``days`` of one probe of ``shop`` at one run a minute, written straight with SQL: a
    failure in every 17th minute (never an incident), a drill every hour."""
    with SqliteStore(db):
        pass  # today's layout
    conn = sqlite3.connect(db)
    first = int(BASE // 60)
    minutes = range(first, first + days * 1440)
    conn.execute("INSERT INTO series (kind, name, part) VALUES ('probe', 'shop', 'home')")
    sid = "(SELECT id FROM series WHERE kind = 'probe' AND name = 'shop')"
    conn.executemany(
        f"INSERT INTO probe_bucket VALUES ({sid}, ?, 1, ?, 0.2)",
        ((m, int(m % 17 == 0)) for m in minutes),
    )
    conn.executemany(
        f"INSERT INTO probe_reason_bucket VALUES ({sid}, ?, 'timeout', 1)",
        ((m,) for m in minutes if m % 17 == 0),
    )
    conn.executemany(
        "INSERT INTO latency_bucket VALUES ('shop', 'home', ?, ?, 1)",
        ((m, 40 + m % 5) for m in minutes if m % 17),
    )
    conn.executemany(
        "INSERT INTO failure_run VALUES ('shop', 'home', ?, ?, 1)",
        ((m * 60.0, m * 60.0 + 60) for m in minutes if m % 17 == 0),
    )
    conn.executemany(
        "INSERT INTO drill_run (node, fallback, started_at, ok, duration) VALUES"
        " ('shop', 'backup', ?, 1, 0.3)",
        ((m * 60.0,) for m in minutes if m % 60 == 0),
    )
    conn.commit()
    conn.close()


def evidence_size(db: Path, days: int) -> tuple[int, int]:
    """(bytes of everything the advisor reads for ``days`` of ``shop``, runs counted)."""
    start, end = BASE, BASE + days * 86400
    with SqliteStore(db) as store:
        read = (
            sums := store.probe_sums(
                "shop", *minutes_of(start, end), volume=True, now_minute=minutes_of(start, end)[0]
            ),
            store.drill_summaries("shop", start, end),
            runs := store.failure_runs("shop", start, end, 3),
            store.drill_runs_during("shop", failing_spans(runs, start, end)),
        )
        counted = sums.counts.total
    return len(pickle.dumps(read)), counted


def test_what_the_advisor_reads_does_not_grow_with_the_window(tmp_path: Path) -> None:
    sizes = {}
    for days in (1, 28):
        write_days(tmp_path / f"{days}.db", days)
        sizes[days] = evidence_size(tmp_path / f"{days}.db", days)
    (one_day, one_runs), (month, month_runs) = sizes[1], sizes[28]
    assert month_runs == 28 * one_runs == 28 * 1440  # every run of the window counted
    # the same shape of data, 28 times as long: a few more bytes for larger numbers only
    assert month <= one_day + 64
    assert math.isclose(month, one_day, rel_tol=0.1)
