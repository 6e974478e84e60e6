"""TLS probes: connect, then a TLS handshake, then close; no HTTP. Every failure is an
Observation.

The handshake verifies the chain and the name (``server_name``, else the host) against the
check's CA file or the system trust store, unless ``verify`` is off. A certificate rejected as
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

Clock = Callable[[], float]


class TlsProber:
    """Probes ``TlsCheck``s with the running event loop; holds no connections between probes.
    SSL contexts are built once per (CA file, verify) and shared."""

    def __init__(self, *, clock: Clock = time.perf_counter, wall: Clock = time.time) -> None:
        self._clock = clock
        self._wall = wall
        self._contexts: dict[tuple[str | None, bool], ssl.SSLContext] = {}

    async def observe(
        self, check: TlsCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """``headers`` are ignored: a TLS handshake has no place for them."""
        clock = self._clock
        start = clock()
        try:
            context = self._context(check.ca_file, check.verify)
        except (OSError, ssl.SSLError) as exc:
            detail = one_line(f"cannot load CA file {check.ca_file}: {message(exc)}")
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=detail)
        loop = asyncio.get_running_loop()
        connected: float | None = None
        stage = "connect"
        transport: asyncio.BaseTransport | None = None
        try:
            async with asyncio.timeout(check.timeout.total_seconds()) as deadline:
                transport, protocol = await loop.create_connection(
                    asyncio.Protocol, check.host, check.port
                )
                connected = clock() - start
                stage = "tls"
                tls = await loop.start_tls(
                    transport, protocol, context, server_hostname=check.server_name or check.host
                )
                if tls is None:  # pragma: no cover - only when the loop is closing
                    raise ConnectionAbortedError("connection closed during TLS handshake")
                transport = tls
        except TimeoutError:  # before OSError: TimeoutError is one
            waiting = "while connecting" if stage == "connect" else "during the TLS handshake"
            detail = f"timed out after {format_duration(check.timeout)} {waiting}"
            return self._failure(Reason.TIMEOUT, start, connected, detail, transport)
        except ssl.SSLCertVerificationError as exc:
            expiry: float | None = None
            if certificate.expired(exc):
                name = check.server_name or check.host
                expiry = await certificate.read_unverified(
                    check.host, check.port, name, deadline.when()
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
        duration = clock() - start
        expiry = certificate.of_transport(transport)
        transport.close()
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

    def _context(self, ca_file: str | None, verify: bool) -> ssl.SSLContext:
        key = (ca_file, verify)
        context = self._contexts.get(key)
        if context is None:
            context = ssl.create_default_context(cafile=ca_file)
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._contexts[key] = context
        return context

    async def aclose(self) -> None:
        """Nothing to release; present for the Prober contract."""
