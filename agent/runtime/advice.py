"""The advisor's I/O: reading the evidence of every node from the store, reviewing the nodes
periodically in the running agent, and replaying the stored history to rebuild the hysteresis
state (``slo-agent advise``, and the agent at start).

The review itself is pure (:mod:`agent.advisor.review`); this module only gathers what it needs,
all of it counting every run (never the sampled raw results): per-minute probe buckets
(availability, failures by reason, volume), per-minute latency histograms (percentiles), the
failure runs of the node's probes (incidents), every drill run (fallback drills, failovers),
and the SLO statuses of a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from agent.advisor.hysteresis import FlagState
from agent.advisor.policy import DecisionPolicy
from agent.advisor.review import DecisionReport, review_nodes
from agent.advisor.signals import NodeEvidence, span_start
from agent.errors import StoreError
from agent.model import SpecSet
from agent.runtime.evaluator import evaluate
from agent.runtime.pipeline import Store
from agent.slo.status import SloStatus, Snapshot
from agent.spec.defaults import default_decision_policy
from agent.store.buckets import ProbeCounts
from agent.store.evidence import DrillRun, FailureRun
from agent.store.latency import LatencyHistogram

log = logging.getLogger(__name__)

MAX_REPLAY_STEPS = 200  # reviews replayed to rebuild the hysteresis state, at most


class AdviceStore(Store, Protocol):
    """What the advisor reads from a store."""

    def probe_minutes(self, node: str, start: float, end: float) -> dict[int, ProbeCounts]: ...

    def latency_minutes(
        self, node: str, start: float, end: float
    ) -> dict[int, LatencyHistogram]: ...

    def failure_runs(self, node: str, start: float, end: float) -> list[FailureRun]: ...

    def drill_runs(self, node: str, start: float, end: float) -> list[DrillRun]: ...


def policy_of(specs: SpecSet) -> DecisionPolicy:
    """The policy in force: the specs' DecisionPolicy, else the built-in one."""
    return specs.decision_policy or default_decision_policy()


def _statuses(snapshot: Snapshot | None, node: str) -> tuple[SloStatus, ...]:
    if snapshot is None:
        return ()
    for status in snapshot.nodes:
        if status.node == node:
            return status.slos
    return ()


def read_evidence(
    specs: SpecSet, store: AdviceStore, start: float, end: float, snapshot: Snapshot | None
) -> dict[str, NodeEvidence]:
    """Every node's evidence over ``[start, end)`` (the buckets of the whole minutes in it, as
    the store counts them), with its SLO statuses from ``snapshot``."""
    evidence: dict[str, NodeEvidence] = {}
    for node in specs.nodes:
        probes = {probe.name for probe in node.probes}
        drills: dict[str, list[DrillRun]] = {fallback.node: [] for fallback in node.fallbacks}
        for run in store.drill_runs(node.name, start, end):
            if run.drill.fallback in drills:
                drills[run.drill.fallback].append(run)
        failure_runs = store.failure_runs(node.name, start, end)
        evidence[node.name] = NodeEvidence(
            failure_runs=tuple(r for r in failure_runs if r.probe in probes),
            drills={fallback: tuple(runs) for fallback, runs in drills.items()},
            buckets=store.probe_minutes(node.name, start, end),
            latency=store.latency_minutes(node.name, start, end),
            slos=_statuses(snapshot, node.name),
        )
    return evidence


def review_at(
    specs: SpecSet,
    store: AdviceStore,
    snapshot: Snapshot,
    now: float,
    policy: DecisionPolicy,
    state: Mapping[str, FlagState],
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """One review at ``now`` of every node of ``specs``, with the statuses of ``snapshot``."""
    start = min((span_start(node, now) for node in specs.nodes), default=now)
    evidence = read_evidence(specs, store, start, now, snapshot)
    return review_nodes(specs.nodes, specs.journeys, evidence, now, policy, state)


def replay_times(now: float, policy: DecisionPolicy) -> list[float]:
    """When to review to rebuild the state at ``now``: every ``interval`` over the last
    ``max(sustain, clear)`` and one interval more, at most :data:`MAX_REPLAY_STEPS` times
    (spaced wider if need be), ending at ``now``."""
    span = max(policy.sustain, policy.clear).total_seconds() + policy.interval.total_seconds()
    step = max(policy.interval.total_seconds(), span / MAX_REPLAY_STEPS, 1.0)
    count = math.ceil(span / step)
    return [now - (count - k) * step for k in range(count)] + [now]


def replay(
    specs: SpecSet, store: AdviceStore, now: float, policy: DecisionPolicy
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """The review at ``now`` with the hysteresis state rebuilt from the stored history, as if
    the agent had reviewed the nodes every ``interval`` (SLOs measured outside the agent have
    no data in the replayed past)."""
    times = replay_times(now, policy)
    first = min((span_start(node, times[0]) for node in specs.nodes), default=times[0])
    evidence = read_evidence(specs, store, first, now, None)
    nodes = {node.name: node for node in specs.nodes}
    state: dict[str, FlagState] = {}
    report: DecisionReport | None = None
    for at in times:
        snapshot = evaluate(specs, store, at)
        sliced = {
            name: e.between(span_start(nodes[name], at), at, _statuses(snapshot, name))
            for name, e in evidence.items()
        }
        report, state = review_nodes(specs.nodes, specs.journeys, sliced, at, policy, state)
    assert report is not None  # times is never empty
    return report, state


class DecisionListener(Protocol):
    def set_decisions(self, report: DecisionReport) -> None: ...


class Advisor:
    """Reviews the running agent's nodes every ``policy.interval`` and keeps the hysteresis
    state in memory (rebuilt from the store at start)."""

    def __init__(
        self,
        store: AdviceStore,
        *,
        clock: Callable[[], float],
        listeners: Sequence[DecisionListener] = (),
    ) -> None:
        self._store = store
        self._clock = clock
        self._listeners = tuple(listeners)
        self._state: dict[str, FlagState] = {}
        self._policy: DecisionPolicy | None = None
        self.report: DecisionReport | None = None  # the latest review

    def review(self, specs: SpecSet, snapshot: Snapshot) -> DecisionReport:
        """Review every node now (blocking: run it in a worker thread)."""
        policy = policy_of(specs)
        now = self._clock()
        if self._policy != policy:  # first review, or the policy changed: rebuild the state
            report, self._state = replay(specs, self._store, now, policy)
            self._policy = policy
        else:
            report, self._state = review_at(specs, self._store, snapshot, now, policy, self._state)
        self.report = report
        for listener in self._listeners:
            listener.set_decisions(report)
        return report

    async def run(
        self,
        specs: Callable[[], SpecSet],
        snapshot: Callable[[], Snapshot | None],
        stop: asyncio.Event,
    ) -> None:
        """Review after each ``interval`` until ``stop`` is set; reviews wait for a snapshot."""
        while not stop.is_set():
            current = snapshot()
            wait = 1.0
            if current is not None:
                chosen = specs()
                try:
                    await asyncio.to_thread(self.review, chosen, current)
                except StoreError as exc:
                    log.error("reviewing decisions failed: %s", exc)
                except Exception:  # a bug here must not stop the agent
                    log.exception("reviewing decisions raised")
                wait = policy_of(chosen).interval.total_seconds()
            try:
                async with asyncio.timeout(wait):
                    await stop.wait()
            except TimeoutError:
                pass
