"""An httpx transport on libcurl with BoringSSL (curl_cffi), for HTTPS probes.

A verified TLS 1.3 request on a new connection costs ~0.8 ms of client CPU through CPython's
``ssl`` on the system OpenSSL 3.0, ~0.5 ms through libcurl linked with BoringSSL, and an agent
HTTPS probe ~0.3 ms less in all (bench/RESULTS.md, "HTTPS on libcurl").
:class:`CurlTransport` sends each request through libcurl's multi-socket API on the running
event loop (:class:`~agent.probes.curl_multi.Multi`, no threads) and keeps the contracts of
:class:`~agent.probes.transport.FreshConnectionTransport`:

* a fresh connection per request: no connection reuse, no TLS session resumption, no DNS cache
  (``FRESH_CONNECT``, ``FORBID_REUSE``, ``SSL_SESSIONID_CACHE=0``, ``DNS_CACHE_TIMEOUT=0``);
  HTTP/1.1 only (ALPN ``http/1.1``), ``Connection: close``, the path sent as given, never a
  proxy (curl would take one from ``https_proxy``: the prober decides, and picks this transport
  only for direct probes);
* the request's headers exactly (curl adds no ``Accept``, ``Expect`` or ``Content-Type`` of its
  own), refused with ``LocalProtocolError`` when one could smuggle in another;
* the response returned as soon as its head is in, the body streamed (curl is paused while
  ``BUFFER_LIMIT`` bytes wait to be read), so the prober's body limit holds; the head is
  bounded as the asyncio transport bounds it (``HEAD_LIMIT`` bytes, ``HEADER_COUNT_LIMIT``
  fields); a reply that is not HTTP is a :class:`~agent.probes.not_http.NotHttpResponse`
  quoting its first bytes;
* httpx's exceptions with the causes the prober classifies by (:mod:`agent.probes.curl_errors`);
* the ``timeout`` extension: ``connect`` bounds name lookup, TCP connect and TLS handshake
  (curl's ``CONNECTTIMEOUT``), ``read`` each wait for the head (counted from the moment curl
  completed the connection) and for body data; ``write`` is not separate: a request that cannot
  be sent ends as a read timeout;
* the ``trace`` extension's httpcore event names. curl measures the connect and TLS phases
  itself and tells them afterwards (``CURLINFO_CONNECT_TIME_T``, ``CURLINFO_APPCONNECT_TIME_T``,
  from the transfer's start: connect = name lookup + TCP, tls = appconnect - connect), so the
  ``connection.*`` events are sent when the head has arrived (or the transfer failed or was
  cancelled) with the measured duration as ``info["elapsed"]``
  (:class:`~agent.probes.http_trace.PhaseTrace` uses it); ``connection.connect_tcp.started``
  is sent when the transfer starts, so a timeout before the head names the phase curl reached
  (a timeout during the TLS handshake has no connect time: curl tells it only once the
  connection is up); curl sends the request itself, so no ``http11.send_request_*`` events;
* names resolved as the asyncio transport resolves them (``getaddrinfo`` on the event loop's
  executor, handed to curl as ``RESOLVE``), never by curl's own resolver (c-ares here);
* ``sni_hostname``: the URL's host is replaced by the SNI name and curl connects to the real
  host (``CONNECT_TO``), so SNI and the certificate check use that name as with ``ssl``;
* the peer certificate: curl's ``CERTINFO`` (the leaf's PEM), read into
  ``connection.start_tls.complete``'s ``return_value`` so the certificate's expiry is read as
  for the asyncio transport (:mod:`agent.probes.certificate`); read at most once a minute per
  target (server name, host, port): the handshakes in between tell the one read last
  (:data:`~agent.probes.curl_certificate.CERTIFICATE_EVERY`).

``tls`` settings map to curl's options: ``ca_file`` → ``CAINFO`` (else the system trust store
that ``ssl.create_default_context`` loads, its file and directory, or certifi's bundle when
there is no system file), ``cert_file``/``key_file`` → ``SSLCERT``/``SSLKEY``, ``min_version``
→ ``SSLVERSION`` (TLS 1.2 at least, as the ``ssl`` default), ``verify: false`` →
``SSL_VERIFYPEER=0``/``SSL_VERIFYHOST=0``; ``server_name`` comes as ``sni_hostname``.
Request bodies are sent whole: a streamed body is read before the request starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from curl_cffi import Curl, CurlInfo, CurlOpt
from curl_cffi.const import CurlHttpVersion, CurlSslVersion
from curl_cffi.curl import CURLPAUSE_CONT, CurlError

from agent.model import TlsSettings
from agent.probes.curl_certificate import (
    CERTIFICATE_EVERY,
    CertificateReads,
    Peer,
    PeerCertificate,
    peer_certificate,
)
from agent.probes.curl_errors import CONNECT_PHASE, TLS_PHASE, failed_phase, transport_error
from agent.probes.curl_exchange import BUFFER_LIMIT, Exchange
from agent.probes.curl_handle import Handle
from agent.probes.curl_multi import Multi
from agent.probes.curl_request import default_trust, header_lines, request_body, resolve
from agent.probes.request_target import target_of
from agent.probes.trace_events import response_closed, traced_body

__all__ = ["CurlTransport"]

_MIN_VERSION = {"TLS1.2": CurlSslVersion.TLSv1_2, "TLS1.3": CurlSslVersion.TLSv1_3}
_IDLE_HANDLES = 64  # easy handles kept for reuse, their shared options set, the rest closed


class _ResponseStream(httpx.AsyncByteStream):
    """The response body; closing it ends the transfer and closes the connection."""

    def __init__(self, transport: CurlTransport, exchange: Exchange, read: float | None) -> None:
        self._transport = transport
        self._exchange = exchange
        self._read = read

    def __aiter__(self) -> AsyncIterator[bytes]:
        return traced_body(self._chunks(), self._exchange.trace)

    async def _chunks(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        while True:
            if exchange.chunks:
                yield exchange.pop()
                if exchange.paused and exchange.buffered < BUFFER_LIMIT // 2:
                    exchange.paused = False
                    if not exchange.ended():
                        exchange.handle.curl.pause(CURLPAUSE_CONT)
            elif exchange.error is not None:
                raise exchange.error
            elif exchange.ended():
                failure = exchange.outcome()
                if failure is None:
                    break
                raise await self._transport._failure(exchange, failure)
            elif not await exchange.wait(self._read):
                raise httpx.ReadTimeout(f"no data for {self._read}s")

    async def aclose(self) -> None:
        self._transport._release(self._exchange)
        await response_closed(self._exchange.trace)


class CurlTransport(httpx.AsyncBaseTransport):
    """Send each request through libcurl on a new connection, closed once the response is read.

    ``tls`` is the probe's ``tls`` block (None: the default trust store), ``verify=False``
    checks no certificate; a target's certificate is read at most once per
    ``certificate_every`` seconds. The multi handle is made on the first request, on its event
    loop.
    """

    def __init__(
        self,
        tls: TlsSettings | None = None,
        *,
        verify: bool = True,
        certificate_every: float = CERTIFICATE_EVERY,
    ) -> None:
        self._tls = tls
        self._verify = verify and (tls is None or tls.verify)
        self._multi: Multi | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[Handle] = []
        self._open: set[Exchange] = set()
        self._certificates = CertificateReads(certificate_every)
        cafile, capath = default_trust()
        if tls is not None and tls.ca_file is not None and self._verify:
            cafile, capath = tls.ca_file, None
        self._cafile = cafile
        self._capath = capath

    # --- one request ------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = target_of(request)
        scheme, host, port = target.scheme, target.host, target.port
        timeouts, trace = target.timeouts, target.trace
        sni: str | None = request.extensions.get("sni_hostname") if scheme == "https" else None
        headers = header_lines(request)  # before anything is sent: LocalProtocolError
        body = await request_body(request)
        multi = self._multi_handle()
        handle = self._idle.pop() if self._idle else self._new_handle()
        exchange = Exchange(handle, multi.loop, request.method == "HEAD", trace)
        handle.sink = exchange
        exchange.host, exchange.port, exchange.tls = host, port, scheme == "https"
        exchange.server_hostname = sni or host
        if exchange.tls:
            peer = Peer(exchange.server_hostname, host, port)
            exchange.certificate = self._certificates.recent(peer, multi.loop.time())
        self._open.add(exchange)
        connect = timeouts.get("connect")
        try:
            if trace is not None:
                info = {"host": host, "port": port, "local_address": None, "socket_options": None}
                await trace(f"{CONNECT_PHASE}.started", {**info, "timeout": connect})
            addresses = await resolve(exchange, connect)
            if connect is not None:
                connect = max(0.001, connect - exchange.resolving)
            self._configure(handle, exchange, request, headers, body, connect)
            if addresses is not None:
                handle.set_list(CurlOpt.RESOLVE, [f"{host}:{port}:{addresses}".encode()])
            exchange.start(multi.add(handle))
            await self._receive_head(exchange, timeouts.get("read"))
        except BaseException as exc:
            if not isinstance(exc, httpx.TransportError):  # cancelled: say how far it got
                await self._replay(exchange, None)
            self._release(exchange)
            raise
        return httpx.Response(
            exchange.status,
            headers=exchange.headers,
            stream=_ResponseStream(self, exchange, timeouts.get("read")),
            extensions={"http_version": exchange.version, "reason_phrase": exchange.reason},
        )

    def _configure(
        self,
        handle: Handle,
        exchange: Exchange,
        request: httpx.Request,
        headers: tuple[bytes, ...],
        body: bytes | None,
        connect: float | None,
    ) -> None:
        host, port = exchange.host, exchange.port
        name = exchange.server_hostname
        url_host = f"[{name}]" if ":" in name else name
        target = request.url.raw_path or b"/"
        handle.set_text(CurlOpt.URL, f"{request.url.scheme}://{url_host}:{port}".encode() + target)
        if name != host:
            real = f"[{host}]" if ":" in host else host
            handle.set_list(CurlOpt.CONNECT_TO, [f"{url_host}:{port}:{real}:{port}".encode()])
        # per request; the transport's own options stay set on a reused handle (_new_handle)
        timeout = 0 if connect is None else max(1, int(connect * 1e3))
        handle.set_long(CurlOpt.CONNECTTIMEOUT_MS, timeout)
        handle.set_long(CurlOpt.HTTPGET, 1)  # GET, no body: what the last request set is undone
        method = request.method
        if method == "HEAD":
            handle.set_long(CurlOpt.NOBODY, 1)
        if body is not None:
            handle.set_offset(CurlOpt.POSTFIELDSIZE_LARGE, len(body))
            handle.set_text(CurlOpt.COPYPOSTFIELDS, body)
        if method not in ("GET", "HEAD") or body is not None:
            handle.set_text(CurlOpt.CUSTOMREQUEST, method.encode())  # unset by Handle.clear
        handle.set_list(CurlOpt.HTTPHEADER, headers)
        if exchange.tls:  # read the certificate unless it was read from this target recently
            handle.set_long(CurlOpt.CERTINFO, 0 if exchange.certificate is not None else 1)

    def _new_handle(self) -> Handle:
        """An easy handle with the options every request of this transport shares."""
        curl = Curl(cacert=self._cafile)
        for option in (CurlOpt.FRESH_CONNECT, CurlOpt.FORBID_REUSE, CurlOpt.NOSIGNAL):
            curl.setopt(option, 1)
        curl.setopt(CurlOpt.PROXY, "")  # the prober decided: direct (curl would read *_proxy)
        curl.setopt(CurlOpt.PATH_AS_IS, 1)
        curl.setopt(CurlOpt.HTTP09_ALLOWED, 1)  # a reply that is not HTTP reaches the body
        curl.setopt(CurlOpt.DNS_CACHE_TIMEOUT, 0)
        curl.setopt(CurlOpt.SSL_SESSIONID_CACHE, 0)
        curl.setopt(CurlOpt.HTTP_VERSION, CurlHttpVersion.V1_1)
        self._configure_tls(curl)  # only used by https:// requests
        return Handle(curl)

    def _configure_tls(self, curl: Curl) -> None:
        curl.setopt(CurlOpt.CAINFO, self._cafile)
        if self._capath is not None:
            curl.setopt(CurlOpt.CAPATH, self._capath)
        if not self._verify:
            curl.setopt(CurlOpt.SSL_VERIFYPEER, 0)
            curl.setopt(CurlOpt.SSL_VERIFYHOST, 0)
        tls = self._tls
        version = CurlSslVersion.TLSv1_2
        if tls is not None:
            if tls.cert_file is not None:
                curl.setopt(CurlOpt.SSLCERT, tls.cert_file)
                if tls.key_file is not None:
                    curl.setopt(CurlOpt.SSLKEY, tls.key_file)
            if tls.min_version is not None:
                version = _MIN_VERSION[tls.min_version]
        curl.setopt(CurlOpt.SSLVERSION, version)

    async def _receive_head(self, exchange: Exchange, read: float | None) -> None:
        while not exchange.headers_complete:
            if exchange.error is not None:
                await self._replay(exchange, exchange.error, "http11.receive_response_headers")
                raise exchange.error
            if exchange.ended():
                failure = exchange.outcome()
                if failure is None:  # complete without a head: curl took it for HTTP/0.9
                    failure = httpx.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                raise await self._failure(exchange, failure)
            if read is None:
                await exchange.wait(None)
                continue
            if await exchange.wait(read):
                continue
            connected = exchange.connected_after()  # seconds after the start, None: not yet
            if connected is None:
                continue  # still connecting: curl's own connect timeout applies
            late = exchange.loop.time() - (exchange.started + connected + read)
            if late >= 0:
                error = httpx.ReadTimeout(f"no response head within {read}s")
                await self._replay(exchange, error, "http11.receive_response_headers")
                raise error
        await self._replay(exchange, None)

    async def _failure(self, exchange: Exchange, failure: BaseException) -> BaseException:
        """The exception to raise for a transfer that ended in ``failure``; the trace told."""
        if exchange.error is not None:
            failure = exchange.error
        if isinstance(failure, CurlError):
            handle = exchange.handle
            connected, tls_done = exchange.reached()
            phase = failed_phase(int(failure.code), connected, tls_done, exchange.tls)
            if exchange.headers_complete:
                phase = "http11.receive_response_body"
            os_errno = handle.info_long(CurlInfo.OS_ERRNO)
            verify_result = handle.info_long(CurlInfo.SSL_VERIFYRESULT)
            error = await transport_error(
                failure, os_errno, verify_result, phase, exchange.host, exchange.port
            )
            error.__context__ = None
            if not exchange.headers_complete:
                await self._replay(exchange, error, phase)
            return error
        if not exchange.headers_complete:
            await self._replay(exchange, failure, "http11.receive_response_headers")
        return failure

    async def _replay(
        self, exchange: Exchange, error: BaseException | None, failed: str | None = None
    ) -> None:
        """Send the trace events of the phases curl went through, with their durations; then
        ``failed``'s ``.failed`` event with ``error``, or the head's ``complete`` event."""
        trace = exchange.trace
        if trace is None or exchange.replayed:
            return
        exchange.replayed = True
        connected, tls_done = exchange.reached()
        connect_time, tls_time = exchange.phase_times()
        timed = connected
        if not connected and failed is None and not exchange.ended():  # cancelled in flight
            # curl tells the connect time only once the connection (TLS included) is up:
            # whether TCP was, the socket says; how long it took stays unknown
            sockets = set() if self._multi is None else self._multi.sockets
            connected = exchange.tls and exchange.socket_connected(sockets)
        if failed == CONNECT_PHASE or not connected:
            if failed == CONNECT_PHASE:
                await trace(f"{CONNECT_PHASE}.failed", {"exception": error})
            return
        if timed:
            done = {"return_value": None, "elapsed": connect_time}
            await trace(f"{CONNECT_PHASE}.complete", done)
        if exchange.tls:
            info = {"ssl_context": None, "server_hostname": exchange.server_hostname}
            await trace(f"{TLS_PHASE}.started", {**info, "timeout": None})
            if failed == TLS_PHASE or not tls_done:
                if failed == TLS_PHASE:
                    await trace(f"{TLS_PHASE}.failed", {"exception": error})
                return
            certificate: PeerCertificate | None = exchange.certificate
            if certificate is None:
                certificate = peer_certificate(exchange.handle)
                if certificate is not None:
                    peer = Peer(exchange.server_hostname, exchange.host, exchange.port)
                    self._certificates.read(peer, exchange.started, certificate)
            await trace(f"{TLS_PHASE}.complete", {"return_value": certificate, "elapsed": tls_time})
        # curl sent the request: no send_request_* events (a request it cannot send ends as
        # a read timeout, waiting for the head)
        phase = "http11.receive_response_headers"
        await trace(f"{phase}.started", {"request": None})
        if failed is not None:
            await trace(f"{phase}.failed", {"exception": error})
        elif exchange.headers_complete:
            value = (exchange.version, exchange.status, exchange.reason, exchange.headers)
            await trace(f"{phase}.complete", {"return_value": value})

    # --- handles ----------------------------------------------------------------------------

    def _multi_handle(self) -> Multi:
        loop = asyncio.get_running_loop()
        if self._multi is None or self._loop is not loop:
            self._multi = Multi(loop)
            self._loop = loop
            self._idle = []
        return self._multi

    def _release(self, exchange: Exchange) -> None:
        if exchange not in self._open:
            return
        self._open.discard(exchange)
        handle = exchange.handle
        multi = self._multi
        finished = exchange.finish()
        if multi is not None and not finished:
            multi.remove(handle)  # ends the transfer; its connection is closed
        handle.clear()
        if len(self._idle) < _IDLE_HANDLES:
            self._idle.append(handle)
        else:
            handle.close()

    async def aclose(self) -> None:
        """End every transfer whose response has not been closed, and the multi handle."""
        for exchange in list(self._open):
            self._release(exchange)
        for handle in self._idle:
            handle.close()
        self._idle = []
        multi, self._multi = self._multi, None
        if multi is not None:
            await multi.close()
