"""HTTP probes on httpx: one request per check, every failure an :class:`Observation`.

A probe is one request under one overall deadline (connect, TLS, headers and body), with no
retries. What the target did decides the reason: ``timeout``, ``connect``, ``dns``, ``tls``,
``status``, ``assertion``, ``body_too_large`` or ``error`` for anything else (a reset
mid-response, bytes that are not HTTP).

Clients are shared: one ``httpx.AsyncClient`` per (TLS verification, keep-alive) pair, made on
first use, because making one costs tens of milliseconds of CPU. ``keep_alive=False`` checks get
a fresh connection per probe (no idle pool and ``Connection: close``). The clients keep no
cookies, read no proxy settings from the environment, and verify certificates against the
system trust store (certifi's bundle when the system has none).

``max_body_bytes`` counts the body as decoded (after gzip or deflate, see
:mod:`agent.probes.body`); reading and inflating stop as soon as it is exceeded. URL userinfo is
sent as Basic auth, as httpx and curl send it, and taken out of the URL. The status is checked
before the body is read, the body before its assertions.

Phase timings come from the transport's ``trace`` extension events (the names httpcore uses),
so any transport emitting those events reports phases too.
"""

from __future__ import annotations

import asyncio
import base64
import http.cookiejar
import importlib.metadata
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from agent.durations import format_duration
from agent.model import HttpCheck
from agent.probes import certificate
from agent.probes.assertions import BodyAssertions
from agent.probes.body import read_body
from agent.probes.details import causes, message, one_line, root_cause, secret_spellings
from agent.probes.http_trace import WAITING_FOR, PhaseTrace
from agent.probes.result import Observation, Outcome, Reason
from agent.probes.transport import FreshConnectionTransport

Clock = Callable[[], float]
TransportFactory = Callable[[ssl.SSLContext | bool], httpx.AsyncBaseTransport]

_PLAN_CACHE_SIZE = 4096
_KEEPALIVE_EXPIRY = 60.0  # seconds an idle kept-alive connection may wait for the next probe


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything about a check that does not change from one probe to the next."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes | None
    timeout: float
    timeout_text: str
    expect_status: frozenset[int]
    status_text: str
    assertions: BodyAssertions | None
    max_body_bytes: int
    follow_redirects: bool
    request: httpx.Request  # the request without extensions; see _fresh_request
    client_slot: int  # index into HttpProber._clients
    secrets: tuple[str, ...]  # header values in every spelling an error message might use


class HttpProber:
    """Probes ``HttpCheck``s; ``observe`` never raises for anything the target or URL does."""

    def __init__(
        self,
        *,
        clock: Clock = time.perf_counter,
        transport_factory: TransportFactory | None = None,
    ) -> None:
        self._clock = clock
        self._transport_factory = transport_factory
        self._user_agent = f"slo-agent/{_version()}"
        self._clients: list[httpx.AsyncClient | None] = [None, None, None, None]
        self._transports: list[httpx.AsyncBaseTransport | None] = [None, None, None, None]
        self._tls: dict[bool, ssl.SSLContext] = {}
        # keyed by id(check): checks are long-lived but unhashable; the check is kept in the
        # entry so its id cannot be reused while the entry lives
        self._plans: dict[int, tuple[HttpCheck, _Plan | str]] = {}

    async def observe(
        self, check: HttpCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """Probe ``check`` once; ``headers`` (e.g. ``traceparent``) override the check's own."""
        observation, _ = await self._exchange(check, headers, keep_body=False, one_off=False)
        return observation

    async def observe_response(
        self, check: HttpCheck, headers: Mapping[str, str] | None = None, *, one_off: bool = False
    ) -> tuple[Observation, bytes | None]:
        """:meth:`observe`, and the response body (decoded, at most ``max_body_bytes``) when
        the check succeeded, e.g. for a journey step's captures; None when it failed.

        ``one_off`` marks a check made for this one request (a journey step with its captured
        values filled in): its plan is not kept in the cache of long-lived checks.
        """
        return await self._exchange(check, headers, keep_body=True, one_off=one_off)

    async def _exchange(
        self,
        check: HttpCheck,
        headers: Mapping[str, str] | None,
        *,
        keep_body: bool,
        one_off: bool,
    ) -> tuple[Observation, bytes | None]:
        clock = self._clock
        start = clock()
        try:
            plan = self._make_plan(check) if one_off else self._plan(check)
        except Exception as exc:  # a check that breaks the model's types is still not a crash
            detail = f"invalid check: {type(exc).__name__}"
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=detail), None
        if isinstance(plan, str):
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=plan), None
        trace = PhaseTrace(clock, start)
        status: int | None = None
        body: bytes | None = None
        try:
            client = self._clients[plan.client_slot] or self._open_client(plan.client_slot)
            if headers or plan.follow_redirects:
                request = httpx.Request(
                    plan.method,
                    plan.url,
                    headers=_merged(plan.headers, headers) if headers else plan.headers,
                    content=plan.body,
                    extensions={"trace": trace},
                )
            else:
                request = _fresh_request(plan.request, {"trace": trace})
            async with asyncio.timeout(plan.timeout):
                if plan.follow_redirects:
                    response = await client.send(request, stream=True, follow_redirects=True)
                else:
                    # without redirects the client's redirect, auth and cookie machinery has
                    # nothing to do: straight to its transport, ~0.15 ms less CPU per probe
                    transport = self._transports[plan.client_slot]
                    assert transport is not None  # opened together with the client
                    response = await transport.handle_async_request(request)
                    response.request = request
                try:
                    status = response.status_code
                    reason, detail, body = await _judge(plan, response, keep_body)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            reason = Reason.TIMEOUT
            detail = f"timed out after {plan.timeout_text} {WAITING_FOR[trace.stage]}"
        except Exception as exc:  # a failing target is data, whatever the exception
            reason, detail = _classify(exc, trace, plan)
            if reason is Reason.TLS and any(certificate.expired(c) for c in causes(exc)):
                left = plan.timeout - (clock() - start)
                trace.cert_not_after, detail = await _expired(plan, left, detail)
        outcome = Outcome.SUCCESS if reason is Reason.OK else Outcome.FAILURE
        observation = Observation(
            outcome, reason, clock() - start, status, trace.phases(), detail, trace.cert_not_after
        )
        return observation, body if outcome is Outcome.SUCCESS else None

    async def aclose(self) -> None:
        """Close every shared client; the prober opens new ones if it is used again."""
        clients = [client for client in self._clients if client is not None]
        self._clients = [None, None, None, None]
        self._transports = [None, None, None, None]
        for client in clients:
            await client.aclose()

    # --- per check, cached ----------------------------------------------------------------

    def _plan(self, check: HttpCheck) -> _Plan | str:
        entry = self._plans.get(id(check))
        if entry is not None and entry[0] is check:
            return entry[1]
        plan = self._make_plan(check)
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            del self._plans[next(iter(self._plans))]
        self._plans[id(check)] = (check, plan)
        return plan

    def _make_plan(self, check: HttpCheck) -> _Plan | str:
        """The plan, or why the check cannot be sent at all (reported as an error)."""
        secrets = secret_spellings(check.headers.values())
        try:
            url = httpx.URL(check.url)
        except Exception as exc:
            return one_line(f"invalid URL: {message(exc)}", secrets)
        if not url.scheme:
            return "invalid URL: no scheme (use http:// or https://)"
        if url.scheme not in ("http", "https"):
            return one_line(f"unsupported URL scheme {url.scheme!r} (use http or https)")
        if not url.host:
            return "invalid URL: no host"
        if url.port is not None and not 0 < url.port < 65536:
            return f"invalid URL: port {url.port} is out of range"
        try:
            assertions = BodyAssertions.from_check(check)
        except ValueError as exc:
            return one_line(str(exc))
        headers = httpx.Headers(
            {
                "User-Agent": self._user_agent,
                "Accept": "*/*",
                "Accept-Encoding": "gzip, deflate",
            }
        )
        if not check.keep_alive:
            headers["Connection"] = "close"
        for name, value in check.headers.items():
            try:
                headers[name] = value
            except Exception:
                return one_line(f"header {name!r} cannot be sent")
        if url.userinfo:
            # sent as Basic auth, as httpx and curl do, and kept out of the URL (and so out of
            # every detail); an Authorization header of the check's own wins
            credentials = _basic_credentials(url)
            secrets = secret_spellings([*check.headers.values(), *credentials])
            url = url.copy_with(username=None, password=None)
            if not any(name.lower() == "authorization" for name in check.headers):
                headers["Authorization"] = credentials[0]
        timeout = check.timeout.total_seconds()
        method = check.method.upper()
        try:
            request = httpx.Request(method, url, headers=headers, content=check.body)
        except Exception as exc:
            return one_line(f"the request cannot be built: {message(exc)}", secrets)
        return _Plan(
            method=method,
            url=url,
            headers=headers,
            body=check.body,
            timeout=timeout,
            timeout_text=format_duration(check.timeout),
            expect_status=check.expect_status,
            status_text=_status_text(check.expect_status),
            assertions=assertions,
            max_body_bytes=check.max_body_bytes,
            follow_redirects=check.follow_redirects,
            request=request,
            client_slot=(0 if check.verify_tls else 2) + (1 if check.keep_alive else 0),
            secrets=secrets,
        )

    # --- shared clients -------------------------------------------------------------------

    def _open_client(self, slot: int) -> httpx.AsyncClient:
        verify, keep_alive = slot < 2, bool(slot & 1)
        context = self._tls_context(verify)
        transport: httpx.AsyncBaseTransport
        if self._transport_factory is not None:
            transport = self._transport_factory(context)
        elif not keep_alive:
            # a fresh connection per probe: our lean transport costs about a third of httpcore's
            # CPU per request and keeps up with thousands of probes/s (bench/RESULTS.md)
            transport = FreshConnectionTransport(context, trust_env=False)
        else:
            transport = httpx.AsyncHTTPTransport(
                verify=context,
                trust_env=False,
                limits=httpx.Limits(
                    max_connections=None,  # the scheduler bounds concurrency, not the pool
                    max_keepalive_connections=100 if keep_alive else 0,
                    keepalive_expiry=_KEEPALIVE_EXPIRY if keep_alive else 0.0,
                ),
            )
        client = httpx.AsyncClient(
            transport=transport,
            timeout=None,  # the probe's deadline is an asyncio timeout around the whole probe
            trust_env=False,
            cookies=http.cookiejar.CookieJar(
                policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=())
            ),
        )
        self._clients[slot] = client
        self._transports[slot] = transport
        return client

    def _tls_context(self, verify: bool) -> ssl.SSLContext:
        context = self._tls.get(verify)
        if context is None:
            if verify:
                context = ssl.create_default_context()
                if not context.cert_store_stats()["x509_ca"]:
                    context = httpx.create_ssl_context(trust_env=False)  # certifi's bundle
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls[verify] = context
        return context


def _fresh_request(template: httpx.Request, extensions: dict[str, Any]) -> httpx.Request:
    """A request equal to ``template`` with ``extensions`` of its own.

    Building an ``httpx.Request`` (URL, header normalisation, Host and Content-Length, the
    body stream) costs ~10 µs, the same for every run of a check. The copy shares the
    template's URL, headers and body stream: httpx treats all three as read-only once a request
    is built (its client's auth and cookie steps would not, which is why a request for
    ``client.send`` is built afresh), and a ``ByteStream`` can be read any number of times.
    """
    request = object.__new__(httpx.Request)
    request.__dict__.update(template.__dict__)
    request.extensions = extensions
    return request


def _basic_credentials(url: httpx.URL) -> tuple[str, ...]:
    """The Authorization value for ``url``'s userinfo, then every other spelling of it
    (decoded and as written in the URL) a message could quote."""
    pair = f"{url.username}:{url.password}"
    token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    raw = url.userinfo.decode("ascii", "replace")
    spellings = (f"Basic {token}", token, pair, raw, url.password, raw.partition(":")[2])
    return tuple(spelling for spelling in spellings if spelling)


def _merged(base: httpx.Headers, extra: Mapping[str, str]) -> httpx.Headers:
    """``base`` with ``extra`` replacing same-named headers (the cached plan stays unchanged)."""
    headers = base.copy()
    headers.update(extra)
    return headers


async def _judge(
    plan: _Plan, response: httpx.Response, keep_body: bool
) -> tuple[Reason, str, bytes | None]:
    """Status, then body size, then body assertions; the body too when ``keep_body``."""
    status = response.status_code
    if status not in plan.expect_status:
        return Reason.STATUS, f"expected status in {plan.status_text}, got {status}", None
    limit = plan.max_body_bytes
    content = await read_body(response, limit, keep=keep_body or plan.assertions is not None)
    if content is None:
        return Reason.BODY_TOO_LARGE, f"body larger than {limit} bytes", None
    if plan.assertions is not None:
        failure = plan.assertions.failure(content, _charset(response))
        if failure is not None:
            return Reason.ASSERTION, failure, None
    return Reason.OK, "", content if keep_body else None


async def _expired(plan: _Plan, left: float, detail: str) -> tuple[float | None, str]:
    """After a handshake rejected an expired certificate: its notAfter, read on a second
    connection without verification within what is ``left`` of the timeout, and a detail
    saying when it expired (``detail`` unchanged when it cannot be read). Not when the probe
    follows redirects: the rejected certificate may be another host's."""
    if plan.follow_redirects or left <= 0:
        return None, detail
    host = plan.url.host
    port = plan.url.port or 443
    deadline = asyncio.get_running_loop().time() + left
    expiry = await certificate.read_unverified(host, port, host, deadline)
    now = time.time()
    if expiry is None or expiry > now:
        return expiry, detail
    return expiry, certificate.expired_detail(expiry, now)


def _charset(response: httpx.Response) -> str | None:
    """The Content-Type's charset; httpx's own parser (the email package) only when there
    is one to find, as it costs more than the rest of judging a response."""
    content_type = response.headers.get("content-type")
    if content_type is None or "charset" not in content_type.lower():
        return None
    return response.charset_encoding


def _classify(exc: Exception, trace: PhaseTrace, plan: _Plan) -> tuple[Reason, str]:
    """The reason for a request that ended in ``exc`` (a timeout was already handled)."""
    if isinstance(exc, httpx.ConnectError) or trace.failed in ("connect", "tls"):
        for cause in causes(exc):
            if isinstance(cause, socket.gaierror):
                return Reason.DNS, f"cannot resolve {plan.url.host}: {message(cause)}"
            if isinstance(cause, ssl.SSLCertVerificationError):
                problem = cause.verify_message or message(cause)
                return Reason.TLS, one_line(f"TLS certificate rejected: {problem}")
            if isinstance(cause, ssl.SSLError):
                return Reason.TLS, one_line(f"TLS handshake failed: {message(cause)}")
        root = root_cause(exc)
        if trace.failed == "tls":
            return Reason.TLS, one_line(f"TLS handshake failed: {message(root)}", plan.secrets)
        return Reason.CONNECT, one_line(f"cannot connect: {message(root)}", plan.secrets)
    if isinstance(exc, httpx.LocalProtocolError):
        # its message may quote a header value verbatim
        return Reason.ERROR, "request rejected by the HTTP client (invalid method or header)"
    detail = f"{type(exc).__name__}: {message(root_cause(exc))}"
    return Reason.ERROR, one_line(detail, plan.secrets)


def _status_text(codes: frozenset[int]) -> str:
    """``[200]``, ``[200, 204]``, ``[200-299]``: runs of three or more become ranges."""
    ordered = sorted(codes)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{ordered[i]}-{ordered[j]}")
        else:
            parts.extend(str(code) for code in ordered[i : j + 1])
        i = j + 1
    return "[" + ", ".join(parts) + "]"


def _version() -> str:
    try:
        return importlib.metadata.version("slo-agent")
    except importlib.metadata.PackageNotFoundError:
        return "0"
