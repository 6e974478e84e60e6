"""The ``trace`` extension's events around a response body, as httpcore sends them, for the
agent's own transports (:mod:`agent.probes.transport`, :mod:`agent.probes.curl_transport`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Trace = Callable[[str, dict[str, Any]], Awaitable[None]]


async def traced_body(chunks: AsyncIterator[bytes], trace: Trace | None) -> AsyncIterator[bytes]:
    """``chunks`` with the body's ``started``, ``complete`` or ``failed`` events around them."""
    if trace is not None:
        await trace("http11.receive_response_body.started", {})
    try:
        async for chunk in chunks:
            yield chunk
    except BaseException as exc:
        if trace is not None:
            await trace("http11.receive_response_body.failed", {"exception": exc})
        raise
    if trace is not None:
        await trace("http11.receive_response_body.complete", {"return_value": None})


async def response_closed(trace: Trace | None) -> None:
    """The events of closing a response."""
    if trace is not None:
        await trace("http11.response_closed.started", {})
        await trace("http11.response_closed.complete", {"return_value": None})
