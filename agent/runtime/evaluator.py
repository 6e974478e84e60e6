"""Turns the store's buckets (and counts read elsewhere) into an immutable status snapshot,
using the pure SLO math."""

from __future__ import annotations

from collections.abc import Mapping

from agent.model import PrometheusSli, SpecSet
from agent.runtime.pipeline import Store
from agent.slo.evaluate import evaluate_node, evaluate_slo
from agent.slo.events import Counts, series_key
from agent.slo.status import JourneyStatus, Snapshot
from agent.slo.windows import required_ranges


def evaluate(
    specs: SpecSet,
    store: Store,
    now: float,
    external: Mapping[str, Mapping[str, Counts]] | None = None,
) -> Snapshot:
    """Evaluate every SLO of ``specs`` at ``now``.

    SLOs measured by the agent come from ``store`` (one batched store read); SLOs measured by
    the user's own metrics (a :class:`~agent.model.PrometheusSli`) from ``external``, keyed like
    the store's sums (``series_key(node, slo) -> window label -> Counts``). A window missing
    from either is no data.
    """
    external = external or {}
    requests: dict[str, Mapping[str, tuple[float, float]]] = {}
    for node in specs.nodes:
        windows = specs.windows_for(node)
        for slo in node.slos:
            if not isinstance(slo.sli, PrometheusSli):
                requests[series_key(node.name, slo.name)] = required_ranges(slo, windows, now)
    for journey in specs.journeys:
        windows = specs.windows_for(journey)
        for slo in journey.slos:
            requests[series_key(journey.name, slo.name)] = required_ranges(slo, windows, now)
    sums = store.sums_many(requests)
    statuses = []
    for node in specs.nodes:
        counts: dict[str, Mapping[str, Counts]] = {}
        for slo in node.slos:
            measured = external if isinstance(slo.sli, PrometheusSli) else sums
            counts[slo.name] = measured.get(series_key(node.name, slo.name), {})
        statuses.append(evaluate_node(node, specs.windows_for(node), counts, now))
    journeys = tuple(
        JourneyStatus(
            journey.name,
            tuple(
                evaluate_slo(
                    journey.name,
                    journey.mode_label,
                    slo,
                    specs.windows_for(journey),
                    sums.get(series_key(journey.name, slo.name), {}),
                    now,
                )
                for slo in journey.slos
            ),
        )
        for journey in specs.journeys
    )
    return Snapshot(evaluated_at=now, nodes=tuple(statuses), journeys=journeys)
