"""A snapshot's firing tiers are computed once: the agent saves them after an evaluation and
the next evaluation starts from the same mapping, so the two can never disagree; a copy made
with ``dataclasses.replace`` (as the agent and ``report`` do) computes its own."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from agent.model import Mode, Severity
from agent.slo.events import Counts
from agent.slo.status import NodeStatus, SloKey, Snapshot, TierKey
from tests.slo.test_state import CLEAN, PAGE_BURN, TICKET_BURN, state_of

PAGE = TierKey(Severity.PAGE, "1h", "5m")


def snapshot(*statuses: tuple[Mapping[str, Counts], ...]) -> Snapshot:
    """One node whose SLOs have the counts of ``statuses`` (each a tuple of parts)."""
    slos = tuple(state_of(*parts) for parts in statuses)
    acme = NodeStatus("acme-pay", Mode.ORCHESTRATED, "payments", "payments", "Acme", slos)
    return Snapshot(evaluated_at=0.0, nodes=(acme,))


def test_the_firing_tiers_are_computed_once_and_read_only() -> None:
    paging = snapshot((CLEAN, PAGE_BURN))

    first = paging.firing_tiers()

    assert first == {SloKey("acme-pay", "availability"): frozenset({PAGE})}
    assert paging.firing_tiers() is first  # what was saved is what the next evaluation reads
    with pytest.raises(TypeError):
        first[SloKey("acme-pay", "latency")] = frozenset()  # type: ignore[index]


def test_a_replaced_snapshot_computes_its_own() -> None:
    paging = snapshot((CLEAN, PAGE_BURN))
    paging.firing_tiers()
    ticketing = snapshot((CLEAN, TICKET_BURN))

    moved = dataclasses.replace(paging, nodes=ticketing.nodes)
    calm = dataclasses.replace(paging, nodes=snapshot((CLEAN,)).nodes)

    assert moved.firing_tiers() == ticketing.firing_tiers() != paging.firing_tiers()
    assert calm.firing_tiers() == {}
    assert moved == ticketing  # the kept tiers take no part in a snapshot's equality
