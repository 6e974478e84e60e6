"""Turns the store's buckets into an immutable status snapshot, using the pure SLO math."""

from __future__ import annotations

from collections.abc import Mapping

from agent.model import SpecSet
from agent.runtime.pipeline import Store
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts, series_key
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges


def evaluate(specs: SpecSet, store: Store, now: float) -> Snapshot:
    """Evaluate every SLO of ``specs`` at ``now`` from ``store`` (one batched store read)."""
    requests: dict[str, Mapping[str, tuple[float, float]]] = {}
    for node in specs.nodes:
        windows = specs.windows_for(node)
        for slo in node.slos:
            requests[series_key(node.name, slo.name)] = required_ranges(slo, windows, now)
    sums = store.sums_many(requests)
    statuses = []
    for node in specs.nodes:
        counts: dict[str, Mapping[str, Counts]] = {
            slo.name: sums.get(series_key(node.name, slo.name), {}) for slo in node.slos
        }
        statuses.append(evaluate_node(node, specs.windows_for(node), counts, now))
    return Snapshot(evaluated_at=now, nodes=tuple(statuses))
