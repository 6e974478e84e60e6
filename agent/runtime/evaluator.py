"""Turns the store's buckets (and counts read elsewhere) into an immutable status snapshot,
using the pure SLO math."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Protocol

from agent.model import Node, PrometheusSli, SpecSet
from agent.runtime.pipeline import Store
from agent.slo.certificates import ProbeKey, certificate_statuses
from agent.slo.evaluate import evaluate_node, evaluate_slo
from agent.slo.events import Counts, series_key
from agent.slo.status import JourneyStatus, NodeStatus, SloKey, Snapshot, TierKey
from agent.slo.status_memo import StatusMemo
from agent.slo.windows import required_ranges


class SumsReader(Protocol):
    """What :func:`evaluate` reads: the store's window sums."""

    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]: ...


def evaluate(
    specs: SpecSet,
    store: SumsReader,
    now: float,
    external: Mapping[str, Mapping[str, Counts]] | None = None,
    firing_before: Mapping[SloKey, Collection[TierKey]] | None = None,
    certificates: Mapping[ProbeKey, float] | None = None,
    memo: StatusMemo | None = None,
) -> Snapshot:
    """Evaluate every SLO of ``specs`` at ``now``.

    SLOs measured by the agent come from ``store`` (one batched store read); SLOs measured by
    the user's own metrics (a :class:`~agent.model.PrometheusSli`) from ``external``, keyed like
    the store's sums (``series_key(node, slo) -> window label -> Counts``). A window missing
    from either is no data. ``firing_before`` holds the tiers that fired at the evaluation
    before (``Snapshot.firing_tiers``): a short window without data does not end them
    (:mod:`agent.slo.alerts`). ``certificates`` holds the last peer-certificate expiry per
    (node, probe) (:class:`agent.runtime.certificates.CertificateBook`). ``memo`` holds the
    statuses of the evaluation before (:mod:`agent.slo.status_memo`): those whose inputs did
    not change are handed back; the snapshot equals the one built without it.
    """
    external = external or {}
    before = firing_before or {}
    nodes = specs.nodes
    statuses = []
    if memo is not None:
        memo.start()
    for i in range(0, len(nodes), READ_NODES):  # the store's lock is held one read at a time
        part = nodes[i : i + READ_NODES]
        statuses += node_statuses(specs, part, store.sums_many, now, external, before, memo)
    journey_sums = store.sums_many(journey_requests(specs, now))
    journeys = journey_statuses(specs, journey_sums, now, before, memo)
    if memo is not None:
        memo.finish()
    return Snapshot(
        evaluated_at=now,
        nodes=tuple(statuses),
        journeys=journeys,
        certificates=certificate_statuses(specs, certificates or {}),
    )


READ_NODES = 250
"""Nodes whose sums :func:`evaluate` reads at once: a store read holds the store's lock (which
its flush needs) for as long as it takes, so a large set is read in parts."""

Sums = Mapping[str, Mapping[str, Counts]]
Requests = dict[str, Mapping[str, tuple[float, float]]]


def node_requests(specs: SpecSet, nodes: Sequence[Node], now: float) -> Requests:
    """The store ranges the agent-measured SLOs of ``nodes`` need at ``now``."""
    requests: Requests = {}
    for node in nodes:
        windows = specs.windows_for(node)
        for slo in node.slos:
            if not isinstance(slo.sli, PrometheusSli):
                requests[series_key(node.name, slo.name)] = required_ranges(slo, windows, now)
    return requests


def journey_requests(specs: SpecSet, now: float) -> Requests:
    requests: Requests = {}
    for journey in specs.journeys:
        windows = specs.windows_for(journey)
        for slo in journey.slos:
            requests[series_key(journey.name, slo.name)] = required_ranges(slo, windows, now)
    return requests


def node_statuses(
    specs: SpecSet,
    nodes: Sequence[Node],
    read: Callable[[Requests], Sums],
    now: float,
    external: Sums,
    before: Mapping[SloKey, Collection[TierKey]],
    memo: StatusMemo | None = None,
) -> list[NodeStatus]:
    """The statuses of ``nodes``, their store sums read with one ``read`` call."""
    sums = read(node_requests(specs, nodes, now))
    return statuses_from(specs, nodes, sums, now, external, before, memo)


def statuses_from(
    specs: SpecSet,
    nodes: Sequence[Node],
    sums: Sums,
    now: float,
    external: Sums,
    before: Mapping[SloKey, Collection[TierKey]],
    memo: StatusMemo | None = None,
) -> list[NodeStatus]:
    statuses = []
    for node in nodes:
        counts: dict[str, Mapping[str, Counts]] = {}
        for slo in node.slos:
            measured = external if isinstance(slo.sli, PrometheusSli) else sums
            counts[slo.name] = measured.get(series_key(node.name, slo.name), {})
        windows = specs.windows_for(node)
        statuses.append(evaluate_node(node, windows, counts, now, before, memo))
    return statuses


def journey_statuses(
    specs: SpecSet,
    sums: Sums,
    now: float,
    before: Mapping[SloKey, Collection[TierKey]],
    memo: StatusMemo | None = None,
) -> tuple[JourneyStatus, ...]:
    out = []
    for journey in specs.journeys:
        windows = specs.windows_for(journey)
        slos = []
        for slo in journey.slos:
            counts = sums.get(series_key(journey.name, slo.name), {})
            fired = before.get(SloKey(journey.name, slo.name), frozenset())
            mode = journey.mode_label
            build = partial(evaluate_slo, journey.name, mode, slo, windows, counts, now, fired)
            if memo is None:
                slos.append(build(None))
            else:
                slos.append(memo.slo(journey.name, mode, slo, windows, counts, now, fired, build))
        out.append(JourneyStatus(journey.name, tuple(slos)))
    return tuple(out)


OWNERS_PER_STEP = 200
"""Nodes evaluated per step of :func:`evaluate_in_steps` (~50 ms of work with two SLOs each)."""


FIRST_PAUSE = 0.25
"""The pause after each step of the first evaluation, as a fraction of the step's time: until it
is done the agent is not ready, and few probes have run yet (their first runs are spread over
their intervals), so it takes a larger share of the interpreter than later evaluations."""

FIRST_PAUSE_WITH_WORKERS = 0.0
"""The same with probe workers: the probes run in their own processes, and what is left on the
loop before ready (recording the few first results, answering ``/readyz``) needs no pause to
get its turns (at 10,000 SLOs the pauses were ~0.5 s of a start's wall time)."""


async def evaluate_in_steps(
    specs: SpecSet,
    store: Store,
    now: float,
    external: Mapping[str, Mapping[str, Counts]] | None = None,
    previous: Snapshot | None = None,
    *,
    per_step: int = OWNERS_PER_STEP,
    certificates: Mapping[ProbeKey, float] | None = None,
    pause: float = 1.0,
    firing_before: Mapping[SloKey, Collection[TierKey]] | None = None,
    memo: StatusMemo | None = None,
) -> Snapshot:
    """:func:`evaluate` for a large spec set without starving the event loop.

    Every step evaluates ``per_step`` nodes at the same ``now`` in a worker thread and is
    followed by a pause as long as the step took, so the loop always has at least half of the
    interpreter. (Slices of ~5 ms run on the loop itself, store reads in a thread, were
    measured worse: on a loaded machine a slice's wall time stretches with the machine's load,
    and the loop's gaps reached p99 230-650 ms against ~30 ms here; bench/RESULTS.md.)
    Journeys go with the last step. ``previous`` is the snapshot of the evaluation before
    (its firing alerts, see :func:`evaluate`). The snapshot equals :func:`evaluate`'s.
    ``pause``: the pause after a step as a fraction of the step's time (the agent's first
    evaluation, before it is ready, pauses :data:`FIRST_PAUSE`). ``firing_before``: the tiers
    firing before, when there is no ``previous`` (the agent's first evaluation after a start,
    :mod:`agent.runtime.held_tiers`). ``memo``: see :func:`evaluate`.
    """
    external = external or {}
    before = previous.firing_tiers() if previous is not None else firing_before or {}
    nodes = specs.nodes
    statuses: list[NodeStatus] = []
    if memo is not None:
        memo.start()
    for i in range(0, len(nodes), per_step):
        part = nodes[i : i + per_step]
        started = time.monotonic()
        statuses += await asyncio.to_thread(
            node_statuses, specs, part, store.sums_many, now, external, before, memo
        )
        await asyncio.sleep(pause * (time.monotonic() - started))
    journey_sums = await asyncio.to_thread(store.sums_many, journey_requests(specs, now))
    journeys = journey_statuses(specs, journey_sums, now, before, memo)
    if memo is not None:
        memo.finish()
    return Snapshot(
        evaluated_at=now,
        nodes=tuple(statuses),
        journeys=journeys,
        certificates=certificate_statuses(specs, certificates or {}),
    )
