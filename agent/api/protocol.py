"""The uvicorn protocol that enforces :class:`agent.api.limits.ServerLimits`."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from agent.api.limits import DEFAULT_LIMITS, MAX_CONNECTIONS, ServerLimits


def _answer(status: bytes, reason: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b" " + reason + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(reason)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + reason
    )


TOO_MANY_CONNECTIONS = _answer(b"503", b"Service Unavailable")
HEAD_TOO_LARGE = _answer(b"431", b"Request Header Fields Too Large")


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`ServerLimits` enforced (see the module doc)."""

    limits = DEFAULT_LIMITS
    max_connections = MAX_CONNECTIONS  # the effective cap (connection_cap of the limits)

    _head_bytes = 0  # bytes received since the current request head started
    _in_head = True  # waiting for (the rest of) a request head
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self.connections.discard(self)
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            return
        self._expect_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.max_head_bytes:
            self._refuse_head()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True  # whatever follows is the next request's head
        self._head_bytes = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._expect_head()

    # --- the head deadline and size -----------------------------------------------------------

    def _expect_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.idle_timeout, self._head_overdue)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        if self.transport.is_closing():
            return
        self._cancel_head_timer()
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(HEAD_TOO_LARGE)
            self.transport.close()
        else:  # a pipelined head while a response is under way: no clean place for a 431
            self.transport.abort()


def limited_protocol(limits: ServerLimits, max_connections: int) -> type[LimitedHttpProtocol]:
    """A :class:`LimitedHttpProtocol` class bound to ``limits`` and the effective cap."""
    return type(
        "LimitedHttpProtocol",
        (LimitedHttpProtocol,),
        {"limits": limits, "max_connections": max_connections},
    )
