"""The advisor's I/O: reading the evidence of every node from the store, reviewing the nodes
periodically in the running agent, persisting its hysteresis state, and replaying the stored
history to rebuild that state when none is persisted (``slo-agent advise``, and the agent's
first start after an upgrade).

The review itself is pure (:mod:`agent.advisor.review`); this module only gathers what it needs,
all of it counting every run (never the sampled raw results) and none of it growing with the
window: summed probe counts (availability, failures by reason), a merged latency histogram
(percentiles), a per-minute volume summary, the incident-sized failure runs of the node's
probes, per fallback the drill counts and successful median plus the drills that ran during
failures, and the SLO statuses of a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from agent.advisor.hysteresis import FlagState
from agent.advisor.policy import DecisionPolicy
from agent.advisor.review import DecisionReport, review_nodes
from agent.advisor.signals import NodeEvidence, evidence_span
from agent.errors import StoreError
from agent.model import Node, SpecSet
from agent.runtime.advice_state import restore_state, saved_state
from agent.runtime.evaluator import evaluate
from agent.runtime.evidence_sums import EvidenceSums, read_sums
from agent.runtime.pipeline import Store
from agent.slo.events import Counts
from agent.slo.status import SloStatus, Snapshot
from agent.spec.defaults import default_decision_policy
from agent.store.buckets import first_minute_from
from agent.store.evidence import DrillRun, DrillSummary, FailureRun, failing_spans
from agent.store.sums import ProbeSums

log = logging.getLogger(__name__)

MAX_REPLAY_STEPS = 200  # reviews replayed to rebuild the hysteresis state, at most


class AdviceStore(Store, Protocol):
    """What the advisor reads from a store: aggregates over a window, whose size does not
    grow with the window."""

    def first_probe_minute(self, node: str, start: float, end: float) -> int | None: ...

    def sums_many(
        self,
        requests: Mapping[str, Mapping[str, tuple[float, float]]],
        *,
        keep: bool = True,
        track: str = "",
    ) -> dict[str, dict[str, Counts]]: ...

    def drop_track(self, track: str) -> None: ...

    @property
    def probe_rolls(self) -> int: ...

    def probe_sums(
        self, node: str, lo: int, hi: int, *, volume: bool, now_minute: int
    ) -> ProbeSums: ...

    def failure_runs(
        self, node: str, start: float, end: float, min_failures: int = 1
    ) -> list[FailureRun]: ...

    def drill_summaries(self, node: str, start: float, end: float) -> dict[str, DrillSummary]: ...

    def drill_runs_during(
        self, node: str, spans: Sequence[tuple[float, float]]
    ) -> list[DrillRun]: ...

    def advisor_state(self) -> str | None: ...

    def save_advisor_state(self, text: str) -> None: ...


def policy_of(specs: SpecSet) -> DecisionPolicy:
    """The policy in force: the specs' DecisionPolicy, else the built-in one."""
    return specs.decision_policy or default_decision_policy()


def _statuses(snapshot: Snapshot | None) -> dict[str, tuple[SloStatus, ...]]:
    """Node -> its SLO statuses in ``snapshot`` (the first status of a node, as listed)."""
    out: dict[str, tuple[SloStatus, ...]] = {}
    for status in () if snapshot is None else snapshot.nodes:
        out.setdefault(status.node, status.slos)
    return out


def node_evidence(
    node: Node,
    store: AdviceStore,
    now: float,
    policy: DecisionPolicy,
    slos: tuple[SloStatus, ...],
    sums: EvidenceSums | None = None,
) -> NodeEvidence:
    """``node``'s evidence at ``now`` over its span (:func:`evidence_span`): sums, merged
    histograms and summaries counted by the store from every bucket and run of the span;
    with ``sums``, the window sums are moved on from the previous review's."""
    span = evidence_span(node, now, policy.recent.total_seconds())
    name, start = node.name, span.start
    lo, recent_lo, hi = (first_minute_from(t) for t in (start, span.recent_start, now))
    if sums is None:
        whole = read_sums(store, name, lo, hi, volume=True, now_minute=hi)
        recent = read_sums(store, name, recent_lo, hi, volume=False, now_minute=hi)
    else:
        whole = sums.read(store, name, "span", lo, hi, now)
        recent = sums.read(store, name, "recent", recent_lo, hi, now)
    probes = {probe.name for probe in node.probes}
    runs = tuple(
        r
        for r in store.failure_runs(name, start, now, max(1, policy.incident_failures))
        if r.probe in probes
    )
    summaries = store.drill_summaries(name, start, now)
    during = store.drill_runs_during(name, failing_spans(runs, start, now))
    drills = {
        fallback.node: replace(
            summaries.get(fallback.node, DrillSummary()),
            during_failures=tuple(r for r in during if r.drill.fallback == fallback.node),
        )
        for fallback in node.fallbacks
    }
    return NodeEvidence(
        counts=whole.counts,
        recent_counts=recent.counts,
        latency=whole.latency,
        recent_latency=recent.latency,
        volume=whole.volume,
        failure_runs=runs,
        drills=drills,
        slos=slos,
    )


def read_evidence(
    specs: SpecSet,
    store: AdviceStore,
    now: float,
    snapshot: Snapshot | None,
    policy: DecisionPolicy,
    sums: EvidenceSums | None = None,
) -> dict[str, NodeEvidence]:
    """Every node's evidence at ``now``, with its SLO statuses from ``snapshot``."""
    if sums is not None:
        sums.keep_only({node.name for node in specs.nodes})
    statuses = _statuses(snapshot)  # indexed once: a scan per node is quadratic
    return {
        node.name: node_evidence(node, store, now, policy, statuses.get(node.name, ()), sums)
        for node in specs.nodes
    }


def review_at(
    specs: SpecSet,
    store: AdviceStore,
    snapshot: Snapshot | None,
    now: float,
    policy: DecisionPolicy,
    state: Mapping[str, FlagState],
    sums: EvidenceSums | None = None,
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """One review at ``now`` of every node of ``specs``, with the statuses of ``snapshot``
    (the window sums moved on from ``sums``, when given)."""
    evidence = read_evidence(specs, store, now, snapshot, policy, sums)
    return review_nodes(specs.nodes, specs.journeys, evidence, now, policy, state)


def replay_times(now: float, policy: DecisionPolicy) -> list[float]:
    """When to review to rebuild the state at ``now``: every ``interval`` over the last
    ``max(sustain, clear)`` and one interval more, at most :data:`MAX_REPLAY_STEPS` times
    (spaced wider if need be), ending at ``now``."""
    span = max(policy.sustain, policy.clear).total_seconds() + policy.interval.total_seconds()
    step = max(policy.interval.total_seconds(), span / MAX_REPLAY_STEPS, 1.0)
    count = math.ceil(span / step)
    return [now - (count - k) * step for k in range(count)] + [now]


REPLAY_TRACK = "replay"
"""The store's window sums the replay's evaluations keep, apart from the live evaluations':
the replay moves forward from the past a step at a time, and patches only each step's edges."""


REPLAY_SHARE = 0.5
"""The share of its time a paced replay works: after each step it rests as long as the step
took (times ``1/share - 1``), so that at 10,000 SLOs, where a step takes seconds, probing,
flushing and the evaluations at now keep their pace while the replay goes on."""


class _ReplayReads:
    """The store's sums read on the replay's own track (:data:`REPLAY_TRACK`); asks
    ``stopped`` before each read, so a stop need not wait for a whole evaluation."""

    def __init__(self, store: AdviceStore, stopped: Callable[[], bool]) -> None:
        self._store = store
        self._stopped = stopped

    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]:
        if self._stopped():
            raise ReplayStopped
        return self._store.sums_many(requests, track=REPLAY_TRACK)


def rest_unless(stopped: Callable[[], bool]) -> Callable[[float], None]:
    """A rest of some seconds (blocking, for a worker thread) cut short once ``stopped``."""

    def rest(seconds: float) -> None:
        until = time.monotonic() + seconds
        while not stopped() and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, _REST_SLICE))

    return rest


_REST_SLICE = 0.1  # seconds between looks at ``stopped`` while resting


class ReplayStopped(Exception):
    """The agent stopped during a start-up replay (checked between its steps)."""


class ReplayFailed(Exception):
    """A replay elsewhere (:class:`PastReplay`) did not deliver the state; says why."""


class PastReplay(Protocol):
    """The past steps of a start-up replay run elsewhere (in a child process:
    :class:`agent.runtime.replay_process.ReplayProcess`): the state :func:`replay_past` would
    return; :class:`ReplayStopped` once ``stopped``, :class:`ReplayFailed` if it cannot."""

    def __call__(
        self, specs: SpecSet, now: float, policy: DecisionPolicy, stopped: Callable[[], bool]
    ) -> dict[str, FlagState]: ...


def _first_data(specs: SpecSet, store: AdviceStore, start: float, now: float) -> float | None:
    """The start of the first minute in ``[start, now)`` with a probe bucket of any node (one
    seek per probe), None if none."""
    found = [store.first_probe_minute(node.name, start, now) for node in specs.nodes]
    minutes = [m for m in found if m is not None]
    return min(minutes) * 60.0 if minutes else None


def replay(
    specs: SpecSet,
    store: AdviceStore,
    now: float,
    policy: DecisionPolicy,
    sums: EvidenceSums | None = None,
    stopped: Callable[[], bool] = lambda: False,
    rest: Callable[[float], None] | None = None,
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """The review at ``now`` with the hysteresis state rebuilt from the stored history, as if
    the agent had reviewed the nodes every ``interval`` (SLOs measured outside the agent have
    no data in the replayed past): the past reviews (:func:`replay_past`), then the one at
    ``now`` (:func:`review_now`). ``stopped`` is asked between steps (and before each read of
    an evaluation's sums), and :class:`ReplayStopped` raised when it says so. With ``rest``,
    the replay is paced: after each past step it rests (:data:`REPLAY_SHARE`)."""
    sums = EvidenceSums() if sums is None else sums
    state = replay_past(specs, store, now, policy, sums, stopped, rest)
    if stopped():
        raise ReplayStopped
    return review_now(specs, store, now, policy, state, sums)


def replay_past(
    specs: SpecSet,
    store: AdviceStore,
    now: float,
    policy: DecisionPolicy,
    sums: EvidenceSums | None = None,
    stopped: Callable[[], bool] = lambda: False,
    rest: Callable[[float], None] | None = None,
) -> dict[str, FlagState]:
    """The hysteresis state after the replayed reviews before ``now`` (:func:`replay_times`
    but the last), each reading only data long flushed. The first step reads each node's span
    whole; the others read the minutes the windows gained and lost (``sums``, kept for the
    reviews after). Steps before the first stored probe bucket of any node are skipped (their
    windows hold nothing: as if the agent had started with its first data). ``stopped`` and
    ``rest`` as for :func:`replay`."""
    sums = EvidenceSums() if sums is None else sums
    state: dict[str, FlagState] = {}
    times = replay_times(now, policy)[:-1]
    if not times:
        return state
    first = _first_data(specs, store, _earliest_start(specs, policy, times[0]), now)
    sums.settled_at = now
    past = _ReplayReads(store, stopped)
    try:
        for at in times:
            if first is None or at <= first:
                continue
            if stopped():
                raise ReplayStopped
            began = time.monotonic()
            snapshot = evaluate(specs, past, at)
            _, state = review_at(specs, store, snapshot, at, policy, state, sums)
            if rest is not None:
                rest((time.monotonic() - began) * (1 / REPLAY_SHARE - 1))
    finally:
        sums.settled_at = None
        store.drop_track(REPLAY_TRACK)
    return state


def review_now(
    specs: SpecSet,
    store: AdviceStore,
    now: float,
    policy: DecisionPolicy,
    state: Mapping[str, FlagState],
    sums: EvidenceSums | None = None,
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """The last step of a replay: an evaluation at ``now`` (its statuses for the review) and
    the review at ``now`` going on from ``state``."""
    snapshot = evaluate(specs, store, now)
    return review_at(specs, store, snapshot, now, policy, state, sums)


def _earliest_start(specs: SpecSet, policy: DecisionPolicy, at: float) -> float:
    """Where the windows of the review at ``at`` (the first replayed one) start, at the
    earliest."""
    recent = policy.recent.total_seconds()
    return min((at, *(evidence_span(node, at, recent).start for node in specs.nodes)))


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
        past: PastReplay | None = None,
    ) -> None:
        """``past``: where a start-up replay runs its past steps (the agent: a child process);
        without it, or when it fails, in the caller's thread (paced when given ``rest``)."""
        self._store = store
        self.past = past
        self._clock = clock
        self._listeners = tuple(listeners)
        self._state: dict[str, FlagState] = {}
        self._sums = EvidenceSums()  # window sums moved on from one review to the next
        self._policy: DecisionPolicy | None = None
        self.report: DecisionReport | None = None  # the latest review

    def review(
        self,
        specs: SpecSet,
        snapshot: Snapshot,
        stopped: Callable[[], bool] = lambda: False,
        rest: Callable[[float], None] | None = None,
    ) -> DecisionReport:
        """Review every node now (blocking: run it in a worker thread); a start-up replay asks
        ``stopped`` between its steps (:class:`ReplayStopped`), and is paced with ``rest``
        when given (:func:`replay`)."""
        policy = policy_of(specs)
        now = self._clock()
        if self._policy != policy:  # first review, or the policy changed
            restored = restore_state(self._store.advisor_state(), policy, now)
            if restored is None:  # nothing persisted for this policy: rebuild the state
                steps = len(replay_times(now, policy))
                log.info(
                    "advisor: no saved state for this decision policy; replaying %d reviews of "
                    "the stored history to rebuild it%s (decisions show when it is done)",
                    steps,
                    "" if self.past is None else " in a child process",
                )
                began = time.monotonic()
                report, self._state = self._replay(specs, now, policy, stopped, rest)
                log.info("advisor: replayed %d reviews in %.1f s", steps, time.monotonic() - began)
            else:
                report, self._state = review_at(
                    specs, self._store, snapshot, now, policy, restored, self._sums
                )
            self._policy = policy
        else:
            report, self._state = review_at(
                specs, self._store, snapshot, now, policy, self._state, self._sums
            )
        text = saved_state(self._state, policy, now)
        self._store.save_advisor_state(text)
        self.report = report
        for listener in self._listeners:
            listener.set_decisions(report)
        return report

    def _replay(
        self,
        specs: SpecSet,
        now: float,
        policy: DecisionPolicy,
        stopped: Callable[[], bool],
        rest: Callable[[float], None] | None,
    ) -> tuple[DecisionReport, dict[str, FlagState]]:
        """The start-up replay: its past steps elsewhere (``past``) if it can, else here."""
        if self.past is not None:
            try:
                state = self.past(specs, now, policy, stopped)
            except ReplayFailed as exc:
                log.error(
                    "advisor: the replay process failed (%s); replaying in the agent's process "
                    "instead",
                    exc,
                )
            else:
                if stopped():
                    raise ReplayStopped
                return review_now(specs, self._store, now, policy, state, self._sums)
        return replay(specs, self._store, now, policy, self._sums, stopped, rest)

    async def run(
        self,
        specs: Callable[[], SpecSet],
        snapshot: Callable[[], Snapshot | None],
        stop: asyncio.Event,
    ) -> None:
        """Review after each ``interval`` until ``stop`` is set; reviews wait for a snapshot.
        A start-up replay is paced (:data:`REPLAY_SHARE`)."""
        rest = rest_unless(stop.is_set)
        while not stop.is_set():
            current = snapshot()
            wait = 1.0
            if current is not None:
                chosen = specs()
                try:
                    await asyncio.to_thread(self.review, chosen, current, stop.is_set, rest)
                except ReplayStopped:
                    return
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
