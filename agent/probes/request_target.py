"""Where an ``httpx.Request`` goes and what its extensions ask, read the same way by the
agent's transports (:mod:`agent.probes.transport`, :mod:`agent.probes.curl_transport`)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from agent.probes.trace_events import Trace

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class RequestTarget:
    scheme: str
    host: str
    port: int
    timeouts: dict[str, float | None]  # the ``timeout`` extension: connect, read, write
    trace: Trace | None  # the ``trace`` extension


def target_of(request: httpx.Request) -> RequestTarget:
    """The request's scheme, host, port, timeouts and trace; ``UnsupportedProtocol`` for a
    scheme other than http and https."""
    url = request.url
    scheme = url.scheme
    if scheme not in DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
    return RequestTarget(
        scheme,
        url.raw_host.decode("ascii"),
        url.port or DEFAULT_PORTS[scheme],
        request.extensions.get("timeout", {}),
        request.extensions.get("trace"),
    )
