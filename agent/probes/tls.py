"""TLS probes: connect, then a TLS handshake, then close; no HTTP. Every failure is an
Observation.

The handshake verifies the chain and the name (``server_name``, else the host) against the
check's CA file or the system trust store, unless ``verify`` is off, and presents the client
certificate of ``cert_file``/``key_file`` when the server asks for one (mTLS). A ``tls`` block
whose files cannot be used is reason ``tls``, as for HTTP probes. A certificate rejected as
expired is read once more without verification, on a second connection within the same
deadline, so the detail can say when it expired and its expiry is still recorded.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Callable, Mapping

from agent.durations import format_duration
from agent.probe_kinds.tls import TlsCheck
from agent.probes import certificate
from agent.probes.details import message, one_line
from agent.probes.result import Observation, Outcome, Phases, Reason
from agent.probes.tls_context import TlsContexts, TlsSetupError

Clock = Callable[[], float]

REFUSAL_WAIT = 0.25
"""Seconds (at most half the time left before the timeout) a TLS 1.3 handshake waits for the
server to refuse the client certificate (or its absence): in TLS 1.3 the server decides after
the client's side of the handshake is done, and says so with an alert. Not part of the
duration; a server that sends data, a session ticket (it accepted the client) or closes ends the
wait at once."""


CLOSE_WAIT = 1.0  # seconds a closed TLS session gets to say goodbye before it is aborted
TICKET_POLL = 0.005  # seconds between two looks for the server's session ticket


class _Watch(asyncio.Protocol):
    """Resolves ``verdict`` with the first thing the server does after the handshake: sends
    data (None), closes (None) or fails the connection (the exception, e.g. a TLS alert)."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.verdict: asyncio.Future[BaseException | None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()  # the connection is gone

    def data_received(self, data: bytes) -> None:
        if not self.verdict.done():
            self.verdict.set_result(None)

    def eof_received(self) -> bool | None:
        if not self.verdict.done():
            self.verdict.set_result(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.verdict.done():
            self.verdict.set_result(exc)
        if not self.closed.done():
            self.closed.set_result(None)


async def _refusal(protocol: _Watch, tls: asyncio.BaseTransport, left: float) -> None:
    """Raise the alert of a server that refuses the client after a TLS 1.3 handshake; return
    when it says nothing within :data:`REFUSAL_WAIT` (or ``left``), or anything else."""
    ssl_object = tls.get_extra_info("ssl_object")
    if ssl_object is None or ssl_object.version() != "TLSv1.3":
        return  # up to TLS 1.2 a refused client certificate fails the handshake itself
    refused: BaseException | None = None
    try:
        async with asyncio.timeout(max(0.0, min(REFUSAL_WAIT, left / 2))):
            while not protocol.verdict.done():
                session = ssl_object.session
                if session is not None and session.has_ticket:
                    return  # a session ticket: the server accepted the client
                await asyncio.wait((protocol.verdict,), timeout=TICKET_POLL)
            refused = protocol.verdict.result()
    except TimeoutError:
        return
    if isinstance(refused, ssl.SSLError):
        problem = refused.reason.lower().replace("_", " ") if refused.reason else message(refused)
        raise _Refused(problem)


async def _close(transport: asyncio.BaseTransport, protocol: _Watch) -> None:
    """Close the TLS session (close_notify) and wait, at most :data:`CLOSE_WAIT`, until the
    connection is gone, so no socket outlives the probe; abort it after that."""
    transport.close()
    try:
        async with asyncio.timeout(CLOSE_WAIT):
            await asyncio.shield(protocol.closed)
    except TimeoutError:
        if isinstance(transport, asyncio.Transport):
            transport.abort()


class _Refused(Exception):
    """The server refused the session after the handshake (a TLS alert)."""


class TlsProber:
    """Probes ``TlsCheck``s with the running event loop; holds no connections between probes.
    SSL contexts are built once per ``tls`` block and shared, rebuilt when its files change
    (:class:`agent.probes.tls_context.TlsContexts`, as for HTTP probes)."""

    def __init__(self, *, clock: Clock = time.perf_counter, wall: Clock = time.time) -> None:
        self._clock = clock
        self._wall = wall
        self._contexts = TlsContexts()

    async def observe(
        self, check: TlsCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """``headers`` are ignored: a TLS handshake has no place for them."""
        clock = self._clock
        start = clock()
        try:
            context = self._contexts.context(check.tls, verify=True)
        except TlsSetupError as exc:  # the same detail and reason as an HTTP probe's
            return Observation(Outcome.FAILURE, Reason.TLS, clock() - start, detail=str(exc))
        loop = asyncio.get_running_loop()
        connected: float | None = None
        stage = "connect"
        transport: asyncio.BaseTransport | None = None
        try:
            async with asyncio.timeout(check.timeout.total_seconds()) as deadline:
                transport, protocol = await loop.create_connection(_Watch, check.host, check.port)
                connected = clock() - start
                stage = "tls"
                tls = await loop.start_tls(
                    transport, protocol, context, server_hostname=check.server_name
                )
                if tls is None:  # pragma: no cover - only when the loop is closing
                    raise ConnectionAbortedError("connection closed during TLS handshake")
                transport = tls
                handshaken = clock()
                when = deadline.when()
                left = REFUSAL_WAIT if when is None else when - loop.time()
                await _refusal(protocol, tls, left)
        except TimeoutError:  # before OSError: TimeoutError is one
            waiting = "while connecting" if stage == "connect" else "during the TLS handshake"
            detail = f"timed out after {format_duration(check.timeout)} {waiting}"
            return self._failure(Reason.TIMEOUT, start, connected, detail, transport)
        except _Refused as refused:  # the same detail as an HTTP probe's
            detail = one_line(f"TLS session refused by the server: {refused}")
            return self._failure(Reason.TLS, start, connected, detail, transport)
        except ssl.SSLCertVerificationError as exc:
            expiry: float | None = None
            if certificate.expired(exc):
                expiry = await certificate.read_unverified(
                    check.host, check.port, check.server_name, deadline.when()
                )
            now = self._wall()
            if expiry is not None and expiry <= now:
                detail = certificate.expired_detail(expiry, now)
            else:
                detail = one_line(f"TLS certificate rejected: {exc.verify_message or message(exc)}")
            return self._failure(Reason.TLS, start, connected, detail, transport, expiry)
        except (ssl.SSLError, ConnectionError) as exc:
            if stage == "connect" and not isinstance(exc, ssl.SSLError):
                detail = one_line(f"cannot connect to {check.host}:{check.port}: {message(exc)}")
                return self._failure(Reason.CONNECT, start, connected, detail, transport)
            detail = one_line(f"TLS handshake failed: {message(exc)}")
            return self._failure(Reason.TLS, start, connected, detail, transport)
        except socket.gaierror as exc:
            detail = f"cannot resolve {check.host}: {exc.strerror or exc}"
            return self._failure(Reason.DNS, start, connected, detail, transport)
        except OSError as exc:
            where = f"{check.host}:{check.port}"
            text = f"cannot connect to {where}" if stage == "connect" else "TLS handshake failed"
            reason = Reason.CONNECT if stage == "connect" else Reason.TLS
            detail = one_line(f"{text}: {message(exc)}")
            return self._failure(reason, start, connected, detail, transport)
        except Exception as exc:  # a bad host or server name is a failed probe, not a crash
            detail = one_line(f"{type(exc).__name__}: {exc}")
            return self._failure(Reason.ERROR, start, connected, detail, transport)
        duration = handshaken - start
        expiry = certificate.of_transport(transport)
        await _close(transport, protocol)
        assert connected is not None  # set before the handshake
        phases = Phases(connect=connected, tls=duration - connected)
        return Observation(
            Outcome.SUCCESS, Reason.OK, duration, phases=phases, cert_not_after=expiry
        )

    def _failure(
        self,
        reason: Reason,
        start: float,
        connected: float | None,
        detail: str,
        transport: asyncio.BaseTransport | None,
        expiry: float | None = None,
    ) -> Observation:
        if transport is not None:
            transport.abort() if isinstance(transport, asyncio.Transport) else transport.close()
        duration = self._clock() - start
        return Observation(
            Outcome.FAILURE,
            reason,
            duration,
            phases=Phases(connect=connected),
            detail=detail,
            cert_not_after=expiry,
        )

    async def aclose(self) -> None:
        """Nothing to release; present for the Prober contract."""
