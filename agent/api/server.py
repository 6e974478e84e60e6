"""Serving an ASGI app with uvicorn inside the caller's event loop, on a pre-bound socket.

The socket is bound before the server starts, so the caller knows the port (port 0 picks a
free one) and a busy address is a clear error rather than a log line. uvicorn's own signal
handling is off: the process that embeds the server owns SIGINT/SIGTERM and stops it. Request
heads, idle connections and the number of connections are bounded (:mod:`agent.api.limits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from agent.api.limits import DEFAULT_LIMITS, ServerLimits, connection_cap
from agent.api.protocol import limited_protocol
from agent.errors import UserError

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port``; UserError if that is impossible."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # proto IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; with the
        # default proto 0 it does not, and small answers wait ~40 ms for a delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(256)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


class AppServer:
    """``async with AppServer(app, host, port) as server: server.url``"""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ServerLimits = DEFAULT_LIMITS,
    ) -> None:
        self.max_connections = connection_cap(limits.max_connections)
        if self.max_connections < limits.max_connections:
            log.info(
                "serving at most %d connections (a quarter of the open-file limit), not %d",
                self.max_connections,
                limits.max_connections,
            )
        self._sock = bind(host, port)
        bound_host, self.port = self._sock.getsockname()[:2]
        self.url = f"http://{bound_host}:{self.port}"
        config = uvicorn.Config(
            app,
            http=limited_protocol(limits, self.max_connections),
            timeout_keep_alive=limits.keep_alive_seconds,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            proxy_headers=False,
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name=self.url)
        while not self._server.started:
            if self._task.done():  # failed to start: surface its exception
                await self._task
                raise RuntimeError(f"HTTP server on {self.url} stopped while starting")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._sock.close()

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
