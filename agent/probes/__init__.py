"""Probers: one module per probe kind behind one small contract, and the registry of them.

A prober turns a check into an :class:`~agent.probes.result.Observation`. A failing target is
data (``outcome=FAILURE`` with a reason), never an exception, and nothing is retried.

The probe kinds (``agent.probes.http``, ``agent.probes.tcp``) are imported when a
:class:`Probers` is built, not with this package: the SLO core imports
``agent.probes.result`` and must not load network libraries by doing so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar, assert_never

from agent.model import Check, HttpCheck, TcpCheck
from agent.probes.result import Observation

__all__ = ["HttpObserver", "Prober", "Probers"]

CheckT_contra = TypeVar("CheckT_contra", contravariant=True)


class Prober(Protocol[CheckT_contra]):
    async def observe(self, check: CheckT_contra) -> Observation: ...

    async def aclose(self) -> None: ...


class HttpObserver(Protocol):
    """An HTTP prober that can send extra request headers (``traceparent``) with a probe."""

    async def observe(
        self, check: HttpCheck, headers: Mapping[str, str] | None = None
    ) -> Observation: ...

    async def aclose(self) -> None: ...


class Probers:
    """One prober per check type; ``observe`` dispatches on the check's type.

    Without arguments it holds an ``HttpProber`` and a ``TcpProber`` sharing ``clock``.
    """

    def __init__(
        self,
        *,
        http: HttpObserver | None = None,
        tcp: Prober[TcpCheck] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        from agent.probes.http import HttpProber  # see the module docstring
        from agent.probes.tcp import TcpProber

        self.http: HttpObserver = http if http is not None else HttpProber(clock=clock)
        self.tcp: Prober[TcpCheck] = tcp if tcp is not None else TcpProber(clock=clock)

    async def observe(self, check: Check, headers: Mapping[str, str] | None = None) -> Observation:
        """``headers`` are sent with HTTP checks (over the check's own) and ignored for TCP."""
        if isinstance(check, HttpCheck):
            return await self.http.observe(check, headers)
        if isinstance(check, TcpCheck):
            return await self.tcp.observe(check)
        assert_never(check)

    async def aclose(self) -> None:
        try:
            await self.http.aclose()
        finally:
            await self.tcp.aclose()
