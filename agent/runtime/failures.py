"""The last failure of every probe, journey step and fallback drill, in memory, and one log line
when one's outcome changes.

The probe pipeline, the journey pipeline and the drill pipeline record every run (two
dictionary reads, and a write on a failure or a change); the agent puts :meth:`FailureBook.of`,
:meth:`FailureBook.steps_of` and :meth:`FailureBook.drills_of` into each snapshot, from where
the status API, the status page and the exporters read them. A detail is redacted (the known
secrets, URL credentials, ``Authorization`` values) and bounded when it is recorded, so nothing
downstream sees it in clear. Nothing is persisted here: ``report`` reads the store's raw results
instead, and at a start the agent gives the book each drill's last failure from the stored drill
runs (:meth:`FailureBook.restore_drill`, :mod:`agent.runtime.restored_failures`): time, reason
and whether it is still failing, not the detail, which the store does not keep.

The log says INFO once per change, not once per run: when a probe (a journey step, a drill)
starts failing (with reason and detail), recovers, or fails for another reason.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from agent.journeys.result import JourneyResult, StepResult
from agent.model import SpecSet
from agent.probes.details import one_line
from agent.probes.result import Observation, Outcome, ProbeResult
from agent.slo.certificates import ProbeKey
from agent.slo.failures import NO_REASON, DrillFailure, ProbeFailure, StepFailure

log = logging.getLogger(__name__)

NO_DETAIL = "the probe gave no detail"
STORED_DETAIL = "not stored (the run failed before the agent's start)"

K = TypeVar("K", bound=Hashable)
StepKey = tuple[str, str]  # journey, step
DrillKey = tuple[str, str]  # node, fallback


@dataclass(frozen=True, slots=True)
class _Failure:
    started_at: float
    reason: str
    detail: str
    trace_id: str | None
    failing: bool
    node: str = ""  # a journey step's node

    @property
    def text(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class _Ledger(Generic[K]):
    """Last failures and latest outcomes of one kind of run, keyed by ``K``; logs the changes
    as ``<what> failing: ...`` with ``what`` naming the run."""

    def __init__(self, what: Callable[[K], str]) -> None:
        self._what = what
        self.last: dict[K, _Failure] = {}
        self._state: dict[K, str] = {}  # the latest run's reason ("ok" when it passed)

    def passed(self, key: K, reason: str) -> None:
        before = self._state.get(key)
        if before is None:
            self._state[key] = reason
        elif before != reason:
            self._state[key] = reason
            failure = self.last[key]
            self.last[key] = _Failure(
                failure.started_at,
                failure.reason,
                failure.detail,
                failure.trace_id,
                False,
                failure.node,
            )
            log.info("%s recovered (was failing: %s)", self._what(key), before)

    def failed(self, key: K, failure: _Failure) -> None:
        before = self._state.get(key)
        self.last[key] = failure
        self._state[key] = failure.reason
        if before is None or before == "ok":
            log.info("%s failing: %s", self._what(key), failure.text)
        elif before != failure.reason:
            log.info(
                "%s failing for another reason: %s (was %s)",
                self._what(key),
                failure.text,
                before,
            )

    def restore(self, key: K, failure: _Failure) -> bool:
        """Take ``failure``, read back from the store at a start, unless a failure of ``key``
        was recorded since (a newer one); after passed runs only, it is no longer failing."""
        if key in self.last:
            return False
        passed_since = key in self._state
        self.last[key] = dataclasses.replace(failure, failing=False) if passed_since else failure
        if not passed_since:
            self._state[key] = (failure.reason or NO_REASON) if failure.failing else "ok"
        return True

    def redact(self, secrets: tuple[str, ...]) -> None:
        for key, f in self.last.items():
            detail = one_line(f.detail, secrets)
            if detail != f.detail:
                self.last[key] = _Failure(
                    f.started_at, f.reason, detail, f.trace_id, f.failing, f.node
                )

    def keep(self, keys: Iterable[K]) -> list[tuple[K, _Failure]]:
        """The last failures of ``keys``, in that order; every other key is forgotten."""
        ordered = list(keys)
        kept = set(ordered)
        for book in (self.last, self._state):
            for key in [k for k in book if k not in kept]:
                del book[key]
        return [(key, self.last[key]) for key in ordered if key in self.last]


class FailureBook:
    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        """``secrets``: the values to redact from details (the log filter's known secrets)."""
        self.secrets = secrets
        self._redacted_with: tuple[str, ...] = ()  # the secrets the details were redacted of
        self._probes: _Ledger[ProbeKey] = _Ledger(lambda k: f"probe {k[0]}/{k[1]}")
        self._steps: _Ledger[StepKey] = _Ledger(lambda k: f"journey {k[0]} step {k[1]}")
        self._drills: _Ledger[DrillKey] = _Ledger(lambda k: f"drill {k[0]} -> {k[1]}")

    def _refresh(self) -> None:
        """Redact every detail again when secrets became known since (a token a probe worker
        obtained reaches the agent with its batch, possibly after a detail quoting it); the
        known secrets change rarely (a reload, a token's rotation), so this seldom runs."""
        known = tuple(self.secrets())
        if known is self._redacted_with:
            return
        self._redacted_with = known
        for ledger in (self._probes, self._steps, self._drills):
            ledger.redact(known)

    def _detail(self, observation: Observation) -> str:
        return one_line(observation.detail or NO_DETAIL, tuple(self.secrets()))

    # --- recording ------------------------------------------------------------------------------

    def record(self, result: ProbeResult, trace_id: str | None = None) -> None:
        key = (result.node, result.probe)
        observation = result.observation
        if observation.outcome is Outcome.SUCCESS:
            # a Reason is its value (StrEnum): no lookup of .value for the run that passed
            self._probes.passed(key, observation.reason)
            return
        detail = self._detail(observation)
        failure = _Failure(result.started_at, observation.reason.value, detail, trace_id, True)
        self._probes.failed(key, failure)

    def record_journey(self, result: JourneyResult) -> None:
        """Every step that ran in ``result`` (a failed step ends the run)."""
        for step in result.steps:
            key = (result.journey, step.step)
            if step.ok:
                self._steps.passed(key, "ok")
                continue
            failure = _Failure(
                result.started_at,
                step.observation.reason.value,
                self._step_detail(step),
                result.trace_id,
                True,
                step.node,
            )
            self._steps.failed(key, failure)

    def _step_detail(self, step: StepResult) -> str:
        detail = self._detail(step.observation)
        if step.fallback is None:
            return detail
        fallback = f"{step.fallback.reason.value}: {self._detail(step.fallback)}"
        return one_line(f"{detail}; fallback {step.fallback_node}: {fallback}")

    def record_drill(
        self, node: str, fallback: str, started_at: float, observation: Observation
    ) -> None:
        key = (node, fallback)
        if observation.ok:
            self._drills.passed(key, observation.reason.value)
            return
        reason = observation.reason.value
        failure = _Failure(started_at, reason, self._detail(observation), None, True)
        self._drills.failed(key, failure)

    def restore_drill(
        self, node: str, fallback: str, started_at: float, reason: str | None, failing: bool
    ) -> bool:
        """Take a drill's last failure as the store holds it (at a start): its time, reason
        (None when stored before layout 8) and whether the drill's latest run failed; the
        store keeps no detail. Ignored when the drill failed since the start; return whether
        it was taken."""
        failure = _Failure(started_at, reason or "", STORED_DETAIL, None, failing)
        return self._drills.restore((node, fallback), failure)

    # --- reading --------------------------------------------------------------------------------

    def last(self) -> tuple[ProbeFailure, ...]:
        """Every probe's last failure, by node then probe; a copy, safe to keep."""
        return tuple(_probe(key, self._probes.last[key]) for key in sorted(self._probes.last))

    def of(self, specs: SpecSet) -> tuple[ProbeFailure, ...]:
        """The last failures of ``specs``' probes, in spec order; probes no longer in them
        (after a reload) are forgotten, so the book stays as large as the specs."""
        self._refresh()
        keys = [(node.name, probe.name) for node in specs.nodes for probe in node.probes]
        return tuple(_probe(key, failure) for key, failure in self._probes.keep(keys))

    def steps_of(self, specs: SpecSet) -> tuple[StepFailure, ...]:
        """The last failures of ``specs``' journey steps, in spec order (others forgotten)."""
        self._refresh()
        keys = [(j.name, step.name) for j in specs.journeys for step in j.steps]
        return tuple(
            StepFailure(
                journey, step, f.node, f.started_at, f.reason, f.detail, f.trace_id, f.failing
            )
            for (journey, step), f in self._steps.keep(keys)
        )

    def drills_of(self, specs: SpecSet) -> tuple[DrillFailure, ...]:
        """The last failures of ``specs``' fallback drills, in spec order (others forgotten)."""
        self._refresh()
        keys = [(node.name, f.node) for node in specs.nodes for f in node.fallbacks if f.drill]
        return tuple(
            DrillFailure(node, fallback, f.started_at, f.reason or None, f.detail, f.failing)
            for (node, fallback), f in self._drills.keep(keys)
        )


def _probe(key: ProbeKey, failure: _Failure) -> ProbeFailure:
    return ProbeFailure(
        *key,
        failure.started_at,
        failure.reason,
        failure.detail,
        failure.trace_id,
        failure.failing,
    )
