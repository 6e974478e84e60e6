"""Snapshots for the Alertmanager push tests, evaluated from event counts by the real SLO math."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta

from agent.model import Alerting, Node, SpecSet
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts
from agent.slo.status import Snapshot
from tests.support.builders import node, spec_set

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z

# 99.9% over 30d: the 1h/5m page tier (14.4) and the 1d/2h ticket tier (3) fire, the 6h/30m
# page tier (6) and the 3d/6h ticket tier (1) do not, and an old outage used up the budget.
BURNING: Mapping[str, Counts] = {
    "5m": Counts(100, 10),  # burn 100
    "30m": Counts(600, 12),  # 20
    "1h": Counts(1200, 30),  # 25
    "2h": Counts(2400, 48),  # 20
    "6h": Counts(12000, 50),  # 4.17
    "1d": Counts(28800, 120),  # 4.17
    "3d": Counts(200000, 150),  # 0.75
    "30d": Counts(300000, 400),  # 1.33x the budget: exhausted
}
# Only the 1d/2h ticket tier fires.
TICKET_ONLY: Mapping[str, Counts] = {**BURNING, "5m": Counts(100, 0), "1h": Counts(1200, 5)}
CLEAN: Mapping[str, Counts] = {label: Counts(c.total, 0) for label, c in BURNING.items()}


def acme_pay() -> Node:
    """An orchestrated node with an availability and a latency SLO, labels and a runbook."""
    base = node("acme-pay", latency_under=timedelta(milliseconds=400))
    return dataclasses.replace(
        base,
        alerting=Alerting(
            labels={"team": "checkout"},
            annotations={"runbook_url": "https://runbooks.example/acme-pay"},
        ),
    )


def specs() -> SpecSet:
    return spec_set(acme_pay())


def snapshot(
    specs: SpecSet, counts_by_slo: Mapping[str, Mapping[str, Counts]], at: float = NOW
) -> Snapshot:
    """Every node of ``specs`` evaluated at ``at``; SLOs missing from ``counts_by_slo`` have no
    events."""
    statuses = tuple(evaluate_node(n, specs.windows_for(n), counts_by_slo, at) for n in specs.nodes)
    return Snapshot(evaluated_at=at, nodes=statuses)
