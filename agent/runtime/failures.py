"""The last failure of every probe, in memory, and one log line when a probe's outcome changes.

The probe pipeline records every result (two dictionary reads, and a write on a failure or a
change); the agent puts :meth:`FailureBook.last` into each snapshot, from where the status API,
the status page and the exporters read it. A detail is redacted (the known secrets, URL
credentials, ``Authorization`` values) and bounded when it is recorded, so nothing downstream
sees it in clear. Nothing is persisted: ``report`` reads the store's raw results instead.

The log says INFO once per change, not once per run: when a probe starts failing (with reason
and detail), recovers, or fails for another reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from agent.model import SpecSet
from agent.probes.details import one_line
from agent.probes.result import ProbeResult
from agent.slo.certificates import ProbeKey
from agent.slo.failures import ProbeFailure

log = logging.getLogger(__name__)

NO_DETAIL = "the probe gave no detail"


class FailureBook:
    def __init__(self, secrets: Callable[[], Iterable[str]] = tuple) -> None:
        """``secrets``: the values to redact from details (the log filter's known secrets)."""
        self.secrets = secrets
        self._last: dict[ProbeKey, ProbeFailure] = {}
        self._state: dict[ProbeKey, str] = {}  # the latest run's reason ("ok" when it passed)

    def record(self, result: ProbeResult, trace_id: str | None = None) -> None:
        key = (result.node, result.probe)
        reason = result.observation.reason.value
        before = self._state.get(key)
        if result.ok:
            if before is not None and before != reason:
                self._state[key] = reason
                failure = self._last[key]
                self._last[key] = _replace_failing(failure, False)
                log.info("probe %s/%s recovered (was failing: %s)", *key, before)
            elif before is None:
                self._state[key] = reason
            return
        detail = one_line(result.observation.detail or NO_DETAIL, tuple(self.secrets()))
        failure = ProbeFailure(*key, result.started_at, reason, detail, trace_id, failing=True)
        self._last[key] = failure
        self._state[key] = reason
        if before is None or before == "ok":
            log.info("probe %s/%s failing: %s", *key, failure.text)
        elif before != reason:
            log.info(
                "probe %s/%s failing for another reason: %s (was %s)", *key, failure.text, before
            )

    def last(self) -> tuple[ProbeFailure, ...]:
        """Every probe's last failure, by node then probe; a copy, safe to keep."""
        return tuple(self._last[key] for key in sorted(self._last))

    def of(self, specs: SpecSet) -> tuple[ProbeFailure, ...]:
        """The last failures of ``specs``' probes, in spec order; probes no longer in them
        (after a reload) are forgotten, so the book stays as large as the specs."""
        keys = [(node.name, probe.name) for node in specs.nodes for probe in node.probes]
        kept = set(keys)
        for book in (self._last, self._state):
            for key in [k for k in book if k not in kept]:
                del book[key]
        return tuple(self._last[key] for key in keys if key in self._last)


def _replace_failing(failure: ProbeFailure, failing: bool) -> ProbeFailure:
    return ProbeFailure(
        failure.node,
        failure.probe,
        failure.started_at,
        failure.reason,
        failure.detail,
        failure.trace_id,
        failing,
    )
