"""The demo tells its story: the default schedule, probed as the demo specs say, pages where
it should, soon after each fault starts, and nowhere else.

Probing is simulated with the same pure functions the ecosystem serves from, and alerting
with the agent's own burn-rate math, second by second over two cycles.
"""

from __future__ import annotations

from itertools import accumulate

import pytest

from agent.demo.faults import DEMO_SCHEDULE, Fault, FaultKind, delay_for, fails, faults_at
from agent.model import HttpCheck, Node, Severity, Slo, SpecSet
from agent.slo.alerts import burn_factor, is_firing
from agent.slo.burn import guarded_burn_rate
from agent.slo.events import Counts
from tests.support.builders import probe_sli

CYCLE = int(DEMO_SCHEDULE.cycle)
HORIZON = 2 * CYCLE + 120  # two cycles, and the end of the last fault

# (node, slo) -> the node whose fault slot must page it
PAGES = {
    ("acme-pay", "availability"),
    ("backup-pay", "availability"),
    ("storefront", "availability"),
    ("storefront", "latency"),
    ("storefront", "health"),
    ("fastship", "latency"),
    ("inventory", "availability"),
}


def is_good(node: Node, slo: Slo, fault: Fault, n: int) -> bool:
    """Whether probe run ``n`` of ``slo``'s probe counts as a good event under ``fault``."""
    check = node.probe(probe_sli(slo).probe).check
    if not isinstance(check, HttpCheck):
        return True  # the port of every demo node stays open
    delay = delay_for(fault, n)
    if fails(fault, n) or delay >= check.timeout.total_seconds():
        return False
    if fault.kind is FaultKind.CONTRACT_BREAK and any(
        path.removeprefix("$.") in fault.patch for path in check.json_equals
    ):
        return False
    limit = probe_sli(slo).latency_under
    return limit is None or delay < limit.total_seconds()


def paging_seconds(specs: SpecSet, node: Node, slo: Slo) -> list[bool]:
    """For every second of two cycles: does the page tier fire?"""
    every = int(node.probe(probe_sli(slo).probe).interval.total_seconds())
    runs = range(0, HORIZON + 1, every)
    bad = [
        0 if is_good(node, slo, faults_at(DEMO_SCHEDULE, t)[node.name], n) else 1
        for n, t in enumerate(runs)
    ]
    bad_before = [0, *accumulate(bad)]  # bad_before[i]: bad events among runs 0..i-1
    (page,) = [t for t in specs.windows_for(node).tiers if t.severity is Severity.PAGE]
    factor = burn_factor(page, slo.window.length)  # type: ignore[union-attr]

    def burn(now: int, length: float) -> float | None:
        first = max(0, int((now - length) // every) + 1)  # runs in (now - length, now]
        last = now // every + 1
        counts = Counts(total=last - first, bad=bad_before[last] - bad_before[first])
        return guarded_burn_rate(counts, slo.objective, slo.min_events)

    return [
        is_firing(
            burn(now, page.long.total_seconds()), burn(now, page.short.total_seconds()), factor
        )
        for now in range(HORIZON + 1)
    ]


def every_slo(specs: SpecSet) -> list[tuple[Node, Slo]]:
    return [(node, slo) for node in specs.nodes for slo in node.slos]


def test_the_expected_slos_exist(demo_specs: SpecSet) -> None:
    names = {(node.name, slo.name) for node, slo in every_slo(demo_specs)}
    assert names >= PAGES


def test_nothing_pages_in_the_first_healthy_minute(demo_specs: SpecSet) -> None:
    for node, slo in every_slo(demo_specs):
        assert not any(paging_seconds(demo_specs, node, slo)[:60]), (node.name, slo.name)


def test_each_fault_pages_within_two_minutes_of_its_start_in_every_cycle(
    demo_specs: SpecSet,
) -> None:
    for node, slo in every_slo(demo_specs):
        if (node.name, slo.name) not in PAGES:
            continue
        slots = [s for s in DEMO_SCHEDULE.slots if s.node == node.name]
        paging = paging_seconds(demo_specs, node, slo)
        for cycle in (0, CYCLE):  # from the start of a node's first slot to its last's end
            start = cycle + int(min(s.start for s in slots))
            end = cycle + int(max(s.end for s in slots))
            first = paging.index(True, start)
            assert first <= min(start + 120, end), (node.name, slo.name, first)
            assert not any(paging[cycle + 60 : start]), (node.name, slo.name)
            # and it stops once the short window has seen the fault end
            assert not paging[end + 65], (node.name, slo.name)


def test_the_outage_pages_within_seconds(demo_specs: SpecSet) -> None:
    node = demo_specs.node("acme-pay")
    paging = paging_seconds(demo_specs, node, node.slos[0])
    assert paging.index(True) <= 65


@pytest.mark.parametrize(
    ("node", "slo"),
    [
        ("slowfreight", "availability"),
        ("slowfreight", "latency"),
        ("fastship", "availability"),
        ("inventory", "reachability"),
    ],
)
def test_steady_or_unaffected_slos_never_page(demo_specs: SpecSet, node: str, slo: str) -> None:
    spec = demo_specs.node(node)
    (objective,) = [s for s in spec.slos if s.name == slo]
    assert not any(paging_seconds(demo_specs, spec, objective))


def test_every_slo_is_classified(demo_specs: SpecSet) -> None:
    quiet = {
        ("slowfreight", "availability"),
        ("slowfreight", "latency"),
        ("fastship", "availability"),
        ("inventory", "reachability"),
    }
    names = {(node.name, slo.name) for node, slo in every_slo(demo_specs)}
    assert names == PAGES | quiet
