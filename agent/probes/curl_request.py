"""The request side of :mod:`agent.probes.curl_transport`: the trust store, the host's
addresses, the header lines and the body as curl takes them."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import ssl
from typing import Any

import httpx

from agent.probes.curl_errors import CONNECT_PHASE
from agent.probes.curl_exchange import Exchange
from agent.probes.transport import check_field

__all__ = ["default_trust", "header_lines", "is_address", "request_body", "resolve"]


def default_trust() -> tuple[str, str | None]:
    """The CA file and directory ``ssl.create_default_context`` loads (``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` included); certifi's bundle when the system has no CA file."""
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
    capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
    if cafile is None:
        import certifi

        cafile = certifi.where()
    return cafile, capath


async def resolve(exchange: Exchange, limit: float | None) -> str | None:
    """The addresses of a host name, as ``RESOLVE`` takes them (None for an address).

    Names are resolved as the asyncio transport resolves them (``getaddrinfo`` through the
    event loop: the system's resolver, ``/etc/hosts`` and NSS included), not by curl's own
    resolver, so a name resolves, or fails with the same ``socket.gaierror``, whichever
    transport probes it; the time is part of the connect phase.
    """
    host, port = exchange.host, exchange.port
    if is_address(host):
        return None
    loop = exchange.loop
    started = loop.time()
    try:
        async with asyncio.timeout(limit):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        error: httpx.TransportError
        if isinstance(exc, TimeoutError) and exc.errno is None:
            error = httpx.ConnectTimeout(f"timed out after {limit}s")
        else:
            error = httpx.ConnectError(str(exc) or type(exc).__name__)
        error.__cause__ = exc
        if exchange.trace is not None:
            exchange.replayed = True
            await exchange.trace(f"{CONNECT_PHASE}.failed", {"exception": error})
        raise error from exc
    exchange.resolving = loop.time() - started
    found = dict.fromkeys(str(info[4][0]) for info in infos)  # in order, once each
    exchange.addresses = tuple(found)
    return ",".join(f"[{a}]" if ":" in a else a for a in found)


@functools.lru_cache(maxsize=1024)  # a probe's host, asked at every probe
def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_LINES_KEPT = 256  # header sets whose lines are kept: a check sends the same ones every run
_lines_of: dict[tuple[tuple[bytes, bytes], ...], tuple[bytes, ...]] = {}


def header_lines(request: httpx.Request) -> tuple[bytes, ...]:
    """The request's header fields for curl: as given, checked, ``Connection: close`` last;
    curl's own ``Accept``, ``Expect`` and ``Content-Type`` switched off when absent. The
    lines of the last :data:`_LINES_KEPT` header sets are kept (the oldest forgotten first)."""
    fields = tuple(request.headers.raw)
    lines = _lines_of.get(fields)
    if lines is None:
        lines = _lines(fields)
        if len(_lines_of) >= _LINES_KEPT:
            del _lines_of[next(iter(_lines_of))]
        _lines_of[fields] = lines
    return lines


def _lines(fields: tuple[tuple[bytes, bytes], ...]) -> tuple[bytes, ...]:
    lines: list[bytes] = []
    present: set[bytes] = set()
    for name, value in fields:
        check_field(name, value)
        lowered = name.lower()
        if lowered == b"connection":
            continue
        present.add(lowered)
        lines.append(name + b": " + value if value else name + b";")  # "X;": sent empty
    for name in (b"Accept", b"Expect", b"Content-Type", b"Transfer-Encoding"):
        if name.lower() not in present:
            lines.append(name + b":")  # "X:": curl does not send its own
    lines.append(b"Connection: close")
    return tuple(lines)


async def request_body(request: httpx.Request) -> bytes | None:
    stream: Any = request.stream
    if isinstance(stream, httpx.ByteStream):
        data = b"".join(stream)
    else:
        data = b"".join([chunk async for chunk in stream])
    return data or None
