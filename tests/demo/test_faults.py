"""The demo fault schedule: pure data, pure functions of the demo's elapsed seconds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.demo.faults import (
    DEMO_NODES,
    DEMO_SCHEDULE,
    HEALTHY,
    Fault,
    FaultKind,
    FaultSchedule,
    Slot,
    contract_break,
    delay_for,
    error_burst,
    fails,
    faults_at,
    healthy,
    latency_spike,
    next_slot,
    outage,
)

SLOW = healthy(delay=0.3, spread=0.2)
OUTAGE = outage(503)
BURST_20 = error_burst(0.2, 500)
SPIKE = latency_spike(0.8, 0.2)
BURST_30 = error_burst(0.3, 500)
DEGRADED = contract_break({"status": "degraded"})

ALL_HEALTHY = {
    "storefront": HEALTHY,
    "inventory": HEALTHY,
    "acme-pay": HEALTHY,
    "backup-pay": HEALTHY,
    "fastship": HEALTHY,
    "slowfreight": SLOW,
}


def expect(**changed: Fault) -> dict[str, Fault]:
    """ALL_HEALTHY with some nodes changed (``acme_pay`` names acme-pay)."""
    return {**ALL_HEALTHY, **{name.replace("_", "-"): f for name, f in changed.items()}}


@pytest.mark.parametrize(
    ("elapsed", "faults"),
    [
        (0.0, expect()),
        (59.999, expect()),
        (60.0, expect(acme_pay=OUTAGE)),
        (119.9, expect(acme_pay=OUTAGE)),
        (120.0, expect(acme_pay=OUTAGE, storefront=BURST_20)),
        (159.9, expect(acme_pay=OUTAGE, storefront=BURST_20)),
        (160.0, expect(acme_pay=OUTAGE, inventory=OUTAGE)),
        (179.9, expect(acme_pay=OUTAGE, inventory=OUTAGE)),
        (180.0, expect(acme_pay=OUTAGE)),
        (200.0, expect(acme_pay=OUTAGE, inventory=OUTAGE)),
        (209.9, expect(acme_pay=OUTAGE, inventory=OUTAGE)),
        (210.0, expect(inventory=OUTAGE)),
        (219.9, expect(inventory=OUTAGE)),
        (220.0, expect()),
        (239.9, expect()),
        (240.0, expect(fastship=SPIKE)),
        (359.9, expect(fastship=SPIKE)),
        (360.0, expect()),
        (390.0, expect(inventory=BURST_30)),
        (449.9, expect(inventory=BURST_30)),
        (450.0, expect()),
        (480.0, expect(backup_pay=DEGRADED)),
        (539.9, expect(backup_pay=DEGRADED)),
        (540.0, expect()),
        (599.9, expect()),
    ],
)
def test_default_schedule_timeline(elapsed: float, faults: dict[str, Fault]) -> None:
    assert dict(faults_at(DEMO_SCHEDULE, elapsed)) == faults


@pytest.mark.parametrize("elapsed", [0.0, 61.0, 130.0, 250.0, 400.0, 500.0, 570.0])
@pytest.mark.parametrize("cycles", [1, 2, 7])
def test_schedule_repeats_every_cycle(elapsed: float, cycles: int) -> None:
    later = elapsed + cycles * DEMO_SCHEDULE.cycle
    assert faults_at(DEMO_SCHEDULE, later) == faults_at(DEMO_SCHEDULE, elapsed)


def test_every_demo_node_has_a_fault_at_every_moment() -> None:
    for second in range(0, 600, 5):
        assert set(faults_at(DEMO_SCHEDULE, second)) == set(DEMO_NODES)


def test_every_fault_kind_appears_in_the_default_schedule() -> None:
    kinds = {slot.fault.kind for slot in DEMO_SCHEDULE.slots} | {FaultKind.HEALTHY}
    assert kinds == set(FaultKind)


def test_negative_elapsed_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        faults_at(DEMO_SCHEDULE, -1.0)


@pytest.mark.parametrize(
    ("fault", "window", "failures"),
    [
        (BURST_20, 5, 1),
        (BURST_20, 20, 4),
        (BURST_30, 10, 3),
        (BURST_30, 100, 30),
        (error_burst(0.5), 8, 4),
        (error_burst(1 / 3), 9, 3),
        (OUTAGE, 7, 7),
        (HEALTHY, 50, 0),
        (SPIKE, 50, 0),
        (DEGRADED, 50, 0),
    ],
)
@pytest.mark.parametrize("first", [0, 1, 3, 17, 1000])
def test_error_selection_is_exact_over_any_run_of_requests(
    fault: Fault, window: int, failures: int, first: int
) -> None:
    assert sum(fails(fault, n) for n in range(first, first + window)) == failures


def test_error_burst_fails_every_kth_request() -> None:
    assert [n for n in range(20) if fails(BURST_20, n)] == [4, 9, 14, 19]


def test_delays_cover_their_range_and_repeat() -> None:
    delays = [delay_for(SLOW, n) for n in range(200)]
    assert all(0.3 <= d < 0.5 for d in delays)
    assert min(delays) < 0.31
    assert max(delays) > 0.49
    assert delays == [delay_for(SLOW, n) for n in range(200)]
    assert delay_for(latency_spike(0.8), 5) == 0.8
    assert delay_for(HEALTHY, 5) == 0.0


def test_slowfreight_stays_under_and_fastship_spikes_over_their_latency_objectives() -> None:
    # thresholds of the bundled demo specs: fastship 500ms, slowfreight 800ms
    slowfreight = [delay_for(SLOW, n) for n in range(1000)]
    spike = [delay_for(SPIKE, n) for n in range(1000)]
    assert max(slowfreight) < 0.8
    assert min(spike) > 0.5


def test_next_slot() -> None:
    wait, slot = next_slot(DEMO_SCHEDULE, 30.0) or (0.0, None)
    assert (wait, slot and slot.node) == (30.0, "acme-pay")
    wait, slot = next_slot(DEMO_SCHEDULE, 130.0) or (0.0, None)
    assert (wait, slot and slot.node) == (30.0, "inventory")
    wait, slot = next_slot(DEMO_SCHEDULE, 230.0) or (0.0, None)
    assert (wait, slot and slot.node) == (10.0, "fastship")
    wait, slot = next_slot(DEMO_SCHEDULE, 590.0 + 600.0) or (0.0, None)
    assert (wait, slot and slot.node) == (70.0, "acme-pay")
    assert next_slot(FaultSchedule(nodes=("a",), cycle=10.0), 3.0) is None


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        (HEALTHY, "healthy"),
        (SLOW, "healthy, +300-500ms"),
        (BURST_20, "20% 500s"),
        (SPIKE, "latency spike +800-1000ms"),
        (OUTAGE, "outage (503)"),
        (DEGRADED, "contract break (\"status\": 'degraded')"),
    ],
)
def test_describe(fault: Fault, text: str) -> None:
    assert fault.describe() == text


def test_faults_are_immutable_and_hashable() -> None:
    patch = {"status": "degraded"}
    fault = contract_break(patch)
    patch["status"] = "ok"
    assert fault.patch == {"status": "degraded"}
    assert hash(fault) == hash(contract_break({"status": "degraded"}))


def schedule(*slots: Slot, cycle: float = 10.0, **baselines: Fault) -> Callable[[], object]:
    return lambda: FaultSchedule(nodes=("a", "b"), cycle=cycle, slots=slots, baselines=baselines)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (schedule(cycle=0.0), "cycle must be positive"),
        (schedule(Slot("nope", 0, 1, OUTAGE)), "slot for unknown node 'nope'"),
        (schedule(nope=SLOW), "baseline for unknown node 'nope'"),
        (schedule(Slot("a", 5, 20, OUTAGE)), "must lie within 0-10"),
        (schedule(Slot("a", 5, 5, OUTAGE)), "must lie within"),
        (schedule(Slot("a", 0, 6, OUTAGE), Slot("a", 5, 8, SPIKE)), "slots of a overlap at 5"),
        (lambda: error_burst(1.5), "error_ratio must be within"),
        (lambda: latency_spike(-1.0), "must not be negative"),
    ],
)
def test_invalid_schedules_and_faults_are_rejected(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make()
