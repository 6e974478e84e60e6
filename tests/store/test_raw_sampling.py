"""Raw results keep what an incident timeline needs; buckets still count everything."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.store.buckets import RawSampler
from agent.store.sqlite import SqliteStore

OK = Observation(Outcome.SUCCESS, Reason.OK, 0.01, 200)
DOWN = Observation(Outcome.FAILURE, Reason.STATUS, 0.01, 503)


def _result(t: float, ok: bool, probe: str = "health") -> ProbeResult:
    return ProbeResult("shop", probe, t, OK if ok else DOWN)


@pytest.mark.parametrize(
    ("timeline", "kept"),
    [
        # one result per second, all fine: the first, then one per minute
        ([(t, True) for t in range(0, 125)], [0, 60, 120]),
        # a failure, then recovery: every failure and the first success after it
        ([(0, True), (1, True), (2, False), (3, False), (4, True), (5, True)], [0, 2, 3, 4]),
        # a success long after the last kept one is kept again
        ([(0, True), (30, True), (61, True)], [0, 61]),
    ],
    ids=["steady", "incident", "gap"],
)
def test_sampler_keeps_failures_changes_and_one_success_a_minute(
    timeline: list[tuple[float, bool]], kept: list[float]
) -> None:
    sampler = RawSampler(60.0)
    assert [t for t, ok in timeline if sampler.keep(_result(t, ok))] == kept


def test_probes_are_sampled_independently() -> None:
    sampler = RawSampler(60.0)
    assert sampler.keep(_result(0, True, "a"))
    assert sampler.keep(_result(1, True, "b"))
    assert not sampler.keep(_result(2, True, "a"))


def test_zero_keeps_every_result() -> None:
    sampler = RawSampler(0.0)
    assert all(sampler.keep(_result(t, True)) for t in range(10))


def test_store_counts_every_result_but_keeps_sampled_raw_rows(tmp_path: Path) -> None:
    start = 1_700_000_040.0
    with SqliteStore(tmp_path / "s.db", raw_success_every=timedelta(minutes=1)) as store:
        for i in range(120):  # two minutes, one probe a second, one failure at 30 s
            store.record(_result(start + i, i != 30), [])
        store.flush()
        counts = store.probe_totals("shop")[("shop", "health")]
        raw = store.recent_results(node="shop", limit=1000)
    assert (counts.total, counts.failures) == (120, 1)
    assert [r.started_at - start for r in raw] == [0, 30, 31, 91]
