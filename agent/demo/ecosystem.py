"""The simulated demo ecosystem: one loopback HTTP server per demo node, misbehaving on schedule.

``async with Ecosystem() as eco:`` binds one free port on 127.0.0.1 per node and serves each
node's routes (:mod:`agent.demo.sites`) with one uvicorn server per node, driven on the caller's
event loop. Every request looks up the fault in force for its node at ``clock() - started +
time_offset`` seconds into the demo (:func:`agent.demo.faults.faults_at`) and is answered
accordingly: late, with an error status, or with a body that breaks the node's data contract.
What was served is counted per node (:meth:`Ecosystem.traffic`), with the ``traceparent``
headers of the latest requests.

The clock and the sleep used for delays are passed in, so tests jump to any moment of the
schedule and observe delays without waiting for them. Leaving the context stops every server,
wakes delayed requests, and frees every port; nothing stays running.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Self

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from agent.api.server import AppServer
from agent.demo.faults import (
    DEMO_SCHEDULE,
    HEALTHY,
    Fault,
    FaultKind,
    FaultSchedule,
    delay_for,
    fails,
    faults_at,
)
from agent.demo.sites import DEMO_SITES, Site

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

FAULT_HEADER = "X-Demo-Fault"  # every answer names the fault it was served under


@dataclass(frozen=True, slots=True)
class NodeTraffic:
    """What one node has answered so far (a copy; later requests do not change it)."""

    node: str
    requests: int
    statuses: Mapping[int, int]  # HTTP status -> answers with it
    faults: Mapping[FaultKind, int]  # fault in force -> requests served under it
    traceparents: tuple[str, ...]  # the latest requests' traceparent headers, oldest first
    last_fault: Fault

    @property
    def errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(count for status, count in self.statuses.items() if status >= 500)


@dataclass(slots=True)
class _Log:
    history: int
    requests: int = 0
    per_route: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[FaultKind] = field(default_factory=Counter)
    traceparents: deque[str] = field(init=False)
    last_fault: Fault = HEALTHY

    def __post_init__(self) -> None:
        self.traceparents = deque(maxlen=self.history)


class _NodeApp:
    """The ASGI app of one node: its healthy routes, bent by the fault in force."""

    def __init__(self, site: Site, ecosystem: Ecosystem, log: _Log) -> None:
        self._site = site
        self._ecosystem = ecosystem
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self._answer(Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        log = self._log
        log.requests += 1
        traceparent = request.headers.get("traceparent")
        if traceparent is not None:
            log.traceparents.append(traceparent)
        route = self._site.route(request.method, request.url.path)
        if route is None:
            log.statuses[404] += 1
            return JSONResponse({"error": "not found"}, status_code=404)

        key = (route.method, route.path)
        n = log.per_route[key]
        log.per_route[key] += 1
        fault = self._ecosystem.fault_now(self._site.node)
        log.faults[fault.kind] += 1
        log.last_fault = fault
        headers = {FAULT_HEADER: fault.kind.value}

        delay = delay_for(fault, n)
        if delay > 0:
            await self._ecosystem.sleep(delay)
        if fails(fault, n):
            body: Mapping[str, object] = {"error": fault.describe()}
            if fault.kind is FaultKind.OUTAGE:
                body = {"status": "unavailable"}
            log.statuses[fault.status] += 1
            return JSONResponse(body, status_code=fault.status, headers=headers)
        payload = dict(route.answer(n))
        if fault.kind is FaultKind.CONTRACT_BREAK:
            payload.update(fault.patch)
        log.statuses[200] += 1
        return JSONResponse(payload, headers=headers)


class Ecosystem:
    """Loopback servers for the demo nodes; an async context manager.

    ``clock`` is a monotonic clock in seconds; the demo's moment is ``clock() - started +
    time_offset`` (``jump_to`` moves it). ``sleep`` waits out a delayed answer; by default
    :meth:`pause` sleeps for real and wakes early when the ecosystem stops.
    """

    def __init__(
        self,
        schedule: FaultSchedule = DEMO_SCHEDULE,
        *,
        sites: tuple[Site, ...] = DEMO_SITES,
        clock: Clock = time.monotonic,
        time_offset: float = 0.0,
        sleep: Sleep | None = None,
        host: str = "127.0.0.1",
        traceparent_history: int = 64,
    ) -> None:
        served = {site.node for site in sites}
        missing = [node for node in schedule.nodes if node not in served]
        if missing:
            raise ValueError(f"the schedule names nodes no site serves: {', '.join(missing)}")
        self._schedule = schedule
        self._sites = sites
        self._clock = clock
        self._offset = time_offset
        self._sleep = sleep
        self._host = host
        self._logs = {site.node: _Log(traceparent_history) for site in sites}
        self._started: float | None = None
        self._stopping = asyncio.Event()
        self._servers: list[AppServer] = []
        self._ports: dict[str, int] = {}

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind a free port per node and start answering."""
        if self._servers:
            raise RuntimeError("the ecosystem is already running")
        self._stopping.clear()
        ports: dict[str, int] = {}
        try:
            for site in self._sites:
                server = AppServer(_NodeApp(site, self, self._logs[site.node]), self._host, 0)
                self._servers.append(server)
                await server.start()
                ports[site.node] = server.port
        except BaseException:
            await self._shutdown()
            raise
        self._ports = ports
        self._started = self._clock()

    async def stop(self) -> None:
        """Stop every server, answer delayed requests at once, and free every port."""
        self._stopping.set()
        await self._shutdown()
        self._ports = {}
        self._started = None

    async def _shutdown(self) -> None:
        servers, self._servers = self._servers, []
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)

    # --- where and when -------------------------------------------------------------------

    @property
    def ports(self) -> Mapping[str, int]:
        """The loopback port of every node (only while running)."""
        self._require_running()
        return MappingProxyType(dict(self._ports))

    @property
    def urls(self) -> Mapping[str, str]:
        """The base URL of every node, such as ``http://127.0.0.1:40123`` (only while running)."""
        self._require_running()
        return MappingProxyType(
            {node: f"http://{self._host}:{port}" for node, port in self._ports.items()}
        )

    @property
    def schedule(self) -> FaultSchedule:
        return self._schedule

    def elapsed(self) -> float:
        """Seconds into the demo: since start, moved by ``time_offset`` and ``jump_to``."""
        self._require_running()
        assert self._started is not None
        return max(0.0, self._clock() - self._started + self._offset)

    def jump_to(self, elapsed: float) -> None:
        """Make the demo's moment ``elapsed`` seconds now; time goes on from there."""
        self._offset += elapsed - self.elapsed()

    def faults_now(self) -> Mapping[str, Fault]:
        """The fault in force on every node at this moment of the demo."""
        return faults_at(self._schedule, self.elapsed())

    def fault_now(self, node: str) -> Fault:
        return self.faults_now().get(node, HEALTHY)

    # --- what was served ------------------------------------------------------------------

    def traffic(self, node: str) -> NodeTraffic:
        """A copy of what ``node`` has answered so far."""
        log = self._logs[node]
        return NodeTraffic(
            node=node,
            requests=log.requests,
            statuses=MappingProxyType(dict(log.statuses)),
            faults=MappingProxyType(dict(log.faults)),
            traceparents=tuple(log.traceparents),
            last_fault=log.last_fault,
        )

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` before answering, with the injected sleep or else :meth:`pause`."""
        if self._sleep is not None:
            await self._sleep(seconds)
        else:
            await self.pause(seconds)

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` for real, or less if the ecosystem stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _require_running(self) -> None:
        if self._started is None:
            raise RuntimeError("the ecosystem is not running: use `async with Ecosystem()`")
