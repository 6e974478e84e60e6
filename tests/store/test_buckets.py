from __future__ import annotations

import math

import pytest

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.events import Counts
from agent.store.buckets import (
    MAX_MINUTE,
    MIN_MINUTE,
    Pending,
    ProbeCounts,
    first_minute_from,
    minute_of,
)
from agent.store.latency import LatencyHistogram, bucket_of
from tests.store.factories import BASE, events, probe_result


@pytest.mark.parametrize(
    ("seconds", "minute"),
    [
        (0.0, 0),
        (59.999, 0),
        (60.0, 1),
        (-0.001, -1),
        (-60.0, -1),
        (BASE, BASE // 60),
        (BASE - 1e-6, BASE // 60 - 1),
        (BASE + 59.999999, BASE // 60),
        (math.nextafter(BASE, 0), BASE // 60 - 1),
    ],
)
def test_minute_of_puts_an_instant_in_the_minute_that_contains_it(
    seconds: float, minute: float
) -> None:
    assert minute_of(seconds) == int(minute)


@pytest.mark.parametrize(
    ("seconds", "minute"),
    [
        (0.0, 0),
        (0.001, 1),
        (60.0, 1),
        (-59.0, 0),
        (BASE, BASE // 60),
        (math.nextafter(BASE, math.inf), BASE // 60 + 1),
        (math.inf, MAX_MINUTE),
        (-math.inf, MIN_MINUTE),
    ],
)
def test_first_minute_from_is_the_first_bucket_starting_at_or_after(
    seconds: float, minute: float
) -> None:
    assert first_minute_from(seconds) == int(minute)


def test_a_nan_range_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        first_minute_from(math.nan)


def test_failures_are_counted_by_reason_in_rows_of_the_reasons_seen() -> None:
    pending = Pending(max_results=10)
    pending.add(probe_result(BASE, reason=Reason.STATUS), ())
    pending.add(probe_result(BASE + 1, reason=Reason.STATUS), ())
    pending.add(probe_result(BASE + 2, reason=Reason.TIMEOUT), ())
    pending.add(probe_result(BASE + 3), ())
    minute = int(BASE // 60)
    assert sorted(pending.probe_reason_rows({("shop", "home"): 7})) == [
        (7, minute, "status", 2),
        (7, minute, "timeout", 1),
    ]


def test_the_latency_of_successful_runs_is_counted_with_their_probe_bucket() -> None:
    pending = Pending(max_results=10)
    pending.add(probe_result(BASE, duration=0.2), ())
    pending.add(probe_result(BASE + 1, duration=0.2), ())
    pending.add(probe_result(BASE + 2, reason=Reason.TIMEOUT, duration=5.0), ())
    pending.add(probe_result(BASE + 3, node="bank", duration=0.2), ())
    newer = Pending(max_results=10)
    newer.add(probe_result(BASE + 4, duration=0.7), ())
    pending.absorb(newer)
    minute = int(BASE // 60)
    assert sorted(pending.latency_rows()) == [
        ("bank", "home", minute, bucket_of(0.2), 1),
        ("shop", "home", minute, bucket_of(0.2), 2),
        ("shop", "home", minute, bucket_of(0.7), 1),
    ]
    assert pending.latency_minutes("shop", minute, minute + 1) == {
        minute: LatencyHistogram({bucket_of(0.2): 2, bucket_of(0.7): 1})
    }
    assert pending.latency_minutes("shop", minute + 1, minute + 2) == {}


def test_pending_merges_events_of_one_minute_into_one_bucket() -> None:
    pending = Pending(max_results=10)
    pending.add(probe_result(BASE + 1), events(("shop/a", True), ("shop/b", False)))
    pending.add(probe_result(BASE + 59), events(("shop/a", False), ("shop/b", False)))
    pending.add(probe_result(BASE + 60), events(("shop/a", True)))
    assert sorted(pending.sli_rows({"shop/a": 1, "shop/b": 2})) == [
        (1, int(BASE // 60), 2, 1),
        (1, int(BASE // 60) + 1, 1, 0),
        (2, int(BASE // 60), 2, 2),
    ]


def test_absorb_adds_newer_data_after_older_data() -> None:
    older = Pending(max_results=10)
    older.add(probe_result(BASE, reason=Reason.TIMEOUT, duration=5.0), events(("shop/a", False)))
    newer = Pending(max_results=10)
    newer.add(probe_result(BASE + 5, duration=0.5), events(("shop/a", True)))
    newer.add(probe_result(BASE + 70), events(("shop/c", True)))
    older.absorb(newer)
    assert older.series_totals() == {"shop/a": Counts(2, 1), "shop/c": Counts(1, 0)}
    assert older.probe_totals(None) == {
        ("shop", "home"): ProbeCounts(3, 1, 5.75, {Reason.TIMEOUT: 1})
    }
    assert [r.started_at for r in older.results] == [BASE, BASE + 5, BASE + 70]


def test_pending_raw_results_are_capped_and_drops_are_counted() -> None:
    pending = Pending(max_results=3)
    for i in range(5):
        pending.add(probe_result(BASE + i), events(("shop/a", True)))
    assert [r.started_at for r in pending.results] == [BASE + 2, BASE + 3, BASE + 4]
    assert pending.dropped_results == 2
    assert pending.series_totals() == {"shop/a": Counts(5, 0)}  # buckets are never dropped

    newer = Pending(max_results=3)
    newer.add(probe_result(BASE + 9), [])
    pending.absorb(newer)
    assert [r.started_at for r in pending.results] == [BASE + 3, BASE + 4, BASE + 9]
    assert pending.dropped_results == 3


def test_a_failure_without_a_reason_counts_as_an_error() -> None:
    pending = Pending(max_results=10)
    failed = Observation(outcome=Outcome.FAILURE, reason=Reason.OK, duration=1.0)
    pending.add(ProbeResult("shop", "home", BASE, failed), [])
    assert pending.probe_totals(None)[("shop", "home")].failures_by_reason == {Reason.ERROR: 1}


def test_probe_counts_add_and_mean() -> None:
    a = ProbeCounts(2, 1, 1.0, {Reason.DNS: 1})
    b = ProbeCounts(2, 2, 3.0, {Reason.DNS: 1, Reason.TLS: 1})
    total = a + b
    assert total == ProbeCounts(4, 3, 4.0, {Reason.DNS: 2, Reason.TLS: 1})
    assert total.mean_duration == 1.0
    assert ProbeCounts().mean_duration is None
