"""Incidents from the failure runs the store tracks over every result, recovery, failovers and
percentiles."""

from __future__ import annotations

import pytest

from agent.advisor.incidents import (
    Incident,
    failovers,
    mean_recovery,
    node_incidents,
    percentile,
)
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.store.evidence import DrillKey, DrillRun, EvidencePending, FailureRun, FailureRunTracker


def result(at: float, ok: bool, probe: str = "p", duration: float = 0.1) -> ProbeResult:
    outcome, reason = (Outcome.SUCCESS, Reason.OK) if ok else (Outcome.FAILURE, Reason.STATUS)
    return ProbeResult("n", probe, at, Observation(outcome, reason, duration))


def runs(pattern: str, probe: str = "p", every: float = 10.0) -> list[FailureRun]:
    """The failure runs of ``"..xx.x"``: one result per character, every ``every`` seconds
    (``x`` fails), as the store's tracker follows them."""
    tracker, pending = FailureRunTracker(), EvidencePending()
    for i, c in enumerate(pattern):
        tracker.observe(result(i * every, c == ".", probe), pending)
    return list(pending.failure_runs.values())


def drill(at: float, ok: bool, duration: float = 0.1) -> DrillRun:
    return DrillRun(DrillKey("n", "backup"), at, ok, duration)


@pytest.mark.parametrize(
    ("pattern", "min_failures", "expected"),
    [
        ("....", 2, []),
        ("..x..", 2, []),
        ("..x..", 1, [Incident(20, 30, 1)]),
        ("..xx..", 2, [Incident(20, 40, 2)]),
        (".xx.xxx.", 2, [Incident(10, 30, 2), Incident(40, 70, 3)]),
        ("..xxx", 2, [Incident(20, None, 3)]),
        ("xx", 3, []),
    ],
)
def test_probe_incidents(pattern: str, min_failures: int, expected: list[Incident]) -> None:
    assert list(node_incidents(runs(pattern), min_failures, 0, now=1000)) == expected


def test_overlapping_incidents_of_two_probes_merge() -> None:
    results = runs("..xxx...", "a") + runs(".xx.....", "b", every=12.0)
    assert node_incidents(results, 2, 0, now=100) == (Incident(12, 50, 5),)


def test_a_run_is_clipped_to_the_span_and_still_going_on_at_a_past_now() -> None:
    (run,) = runs("..xxxxxx.")  # failing from 20 to 80
    assert node_incidents([run], 2, 50, now=70) == (Incident(50, None, 6),)
    assert node_incidents([run], 2, 90, now=100) == ()
    assert node_incidents([run], 2, 0, now=20) == ()  # had not begun


def test_the_tracker_carries_a_run_across_flushes_and_a_restart() -> None:
    tracker, first = FailureRunTracker(), EvidencePending()
    tracker.observe(result(10, False), first)
    tracker.observe(result(20, False), first)
    assert list(first.failure_runs.values()) == [FailureRun("n", "p", 10, None, 2)]
    restarted, second = FailureRunTracker(first.failure_runs.values()), EvidencePending()
    restarted.observe(result(30, False), second)
    restarted.observe(result(40, True), second)
    restarted.observe(result(50, True), second)
    assert list(second.failure_runs.values()) == [FailureRun("n", "p", 10, 40, 3)]


def test_an_ongoing_incident_absorbs_later_ones() -> None:
    results = runs("..xxxx", "a") + runs("....xx.", "b")
    (merged,) = node_incidents(results, 2, 0, now=100)
    assert (merged.start, merged.end, merged.failures) == (20, None, 6)
    assert merged.duration(100) == 80


def test_mean_recovery_counts_recovered_incidents_only() -> None:
    assert mean_recovery([Incident(0, 30, 2), Incident(100, 160, 3), Incident(200, None, 9)]) == 45
    assert mean_recovery([Incident(0, None, 2)]) is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, None),
        ([3.0], 0.99, 3.0),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.0),
        ([*range(1, 101)], 0.99, 99),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_failover_is_detection_to_the_first_successful_drill_during_the_incident() -> None:
    incidents = [Incident(100, 200, 5), Incident(300, 400, 5), Incident(500, None, 3)]
    drills = [
        drill(50, True),  # before any incident
        drill(120, False),
        drill(150, True, duration=2.0),  # 100 -> 152
        drill(330, False),  # drilled, never failed over
        drill(600, True, duration=1.0),  # ongoing: 500 -> 601
    ]
    fared = failovers(incidents, drills, now=700)
    assert fared.drilled == 3
    assert fared.seconds == (52.0, 101.0)
    assert fared.mean_seconds == pytest.approx(76.5)
