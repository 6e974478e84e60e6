"""Turns the store's buckets (and counts read elsewhere) into an immutable status snapshot,
using the pure SLO math."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Collection, Mapping

from agent.model import PrometheusSli, SpecSet
from agent.runtime.pipeline import Store
from agent.slo.certificates import ProbeKey, certificate_statuses
from agent.slo.evaluate import evaluate_node, evaluate_slo
from agent.slo.events import Counts, series_key
from agent.slo.status import JourneyStatus, SloKey, Snapshot, TierKey
from agent.slo.windows import required_ranges


def evaluate(
    specs: SpecSet,
    store: Store,
    now: float,
    external: Mapping[str, Mapping[str, Counts]] | None = None,
    firing_before: Mapping[SloKey, Collection[TierKey]] | None = None,
    certificates: Mapping[ProbeKey, float] | None = None,
) -> Snapshot:
    """Evaluate every SLO of ``specs`` at ``now``.

    SLOs measured by the agent come from ``store`` (one batched store read); SLOs measured by
    the user's own metrics (a :class:`~agent.model.PrometheusSli`) from ``external``, keyed like
    the store's sums (``series_key(node, slo) -> window label -> Counts``). A window missing
    from either is no data. ``firing_before`` holds the tiers that fired at the evaluation
    before (``Snapshot.firing_tiers``): a short window without data does not end them
    (:mod:`agent.slo.alerts`). ``certificates`` holds the last peer-certificate expiry per
    (node, probe) (:class:`agent.runtime.certificates.CertificateBook`).
    """
    external = external or {}
    before = firing_before or {}
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
        statuses.append(evaluate_node(node, specs.windows_for(node), counts, now, before))
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
                    before.get(SloKey(journey.name, slo.name), frozenset()),
                )
                for slo in journey.slos
            ),
        )
        for journey in specs.journeys
    )
    return Snapshot(
        evaluated_at=now,
        nodes=tuple(statuses),
        journeys=journeys,
        certificates=certificate_statuses(specs, certificates or {}),
    )


OWNERS_PER_STEP = 200
"""Nodes evaluated per step of :func:`evaluate_in_steps` (~50 ms of work with two SLOs each)."""


async def evaluate_in_steps(
    specs: SpecSet,
    store: Store,
    now: float,
    external: Mapping[str, Mapping[str, Counts]] | None = None,
    previous: Snapshot | None = None,
    *,
    per_step: int = OWNERS_PER_STEP,
    certificates: Mapping[ProbeKey, float] | None = None,
) -> Snapshot:
    """:func:`evaluate` for a large spec set without starving the event loop.

    An evaluation is Python work; run whole in a worker thread it shares the interpreter lock
    with the event loop for as long as it takes (~0.6 s for 4,000 SLOs), and probes waited up to
    a quarter of a second to start (bench/RESULTS.md). Here it runs ``per_step`` nodes at a
    time, each step in a worker thread and followed by a pause as long as the step took, so
    the loop always has at least half of the interpreter. Every step evaluates at the same
    ``now``; journeys go with the last step. ``previous`` is the snapshot of the evaluation
    before (its firing alerts, see :func:`evaluate`).
    """
    before = previous.firing_tiers() if previous is not None else {}
    nodes = specs.nodes
    steps = [nodes[i : i + per_step] for i in range(0, len(nodes), per_step)] or [()]
    parts: list[Snapshot] = []
    for index, part in enumerate(steps):
        last = index == len(steps) - 1
        subset = dataclasses.replace(specs, nodes=part, journeys=specs.journeys if last else ())
        started = time.monotonic()
        parts.append(await asyncio.to_thread(evaluate, subset, store, now, external, before))
        if not last:
            await asyncio.sleep(time.monotonic() - started)
    return Snapshot(
        evaluated_at=now,
        nodes=tuple(status for snapshot in parts for status in snapshot.nodes),
        journeys=tuple(journey for snapshot in parts for journey in snapshot.journeys),
        certificates=certificate_statuses(specs, certificates or {}),
    )
