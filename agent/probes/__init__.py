"""Probers: one per probe kind (:mod:`agent.probe_kinds`), and :class:`Probers`, which holds one
of each registered kind and dispatches a check to its kind's prober.

A prober turns a check into an :class:`~agent.probes.result.Observation`. A failing target is
data (``outcome=FAILURE`` with a reason), never an exception, and nothing is retried.

The probers' modules (``agent.probes.http``, ``agent.probes.tcp``) are imported when a
:class:`Probers` is built, not with this package: the SLO core imports
``agent.probes.result`` and must not load network libraries by doing so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from agent.model import Check, HttpCheck
from agent.probes.result import Observation

if TYPE_CHECKING:
    from agent.probe_kinds import ProbeKinds, Prober

__all__ = ["HttpObserver", "Probers"]


class HttpObserver(Protocol):
    """An HTTP prober that can send extra request headers (``traceparent``) with a probe."""

    async def observe(
        self, check: HttpCheck, headers: Mapping[str, str] | None = None
    ) -> Observation: ...

    async def aclose(self) -> None: ...


class Probers:
    """One prober per registered probe kind; ``observe`` dispatches on the check's type.

    ``probers`` gives some kinds' probers by kind name (``http=`` a prober shared with
    journeys, or a test's fake); the others are built by their kind on ``clock``.
    """

    def __init__(
        self,
        *,
        kinds: ProbeKinds | None = None,
        clock: Callable[[], float] = time.perf_counter,
        **probers: Prober[Any],
    ) -> None:
        if kinds is None:
            from agent.probe_kinds.registry import KINDS  # see the module docstring

            kinds = KINDS
        unknown = sorted(set(probers) - set(kinds.names()))
        if unknown:
            raise ValueError(f"no probe kind named {', '.join(unknown)}")
        self._by_check: dict[type, Prober[Any]] = {
            kind.check: probers.get(kind.name) or kind.prober(clock) for kind in kinds
        }

    async def observe(self, check: Check, headers: Mapping[str, str] | None = None) -> Observation:
        """``headers`` are sent where the check's kind has a place for them (HTTP)."""
        return await self._by_check[type(check)].observe(check, headers)

    async def aclose(self) -> None:
        errors: list[BaseException] = []
        for prober in self._by_check.values():
            try:
                await prober.aclose()
            except Exception as exc:  # close the others all the same
                errors.append(exc)
        if errors:
            raise errors[0]
