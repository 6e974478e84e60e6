"""HTTP probes on httpx: one request per check, every failure an :class:`Observation`.

A probe is one request under one overall deadline (connect, TLS, headers and body), with no
retries. What the target did decides the reason: ``timeout``, ``connect``, ``dns``, ``tls``,
``status``, ``assertion``, ``body_too_large`` or ``error`` for anything else (a reset
mid-response, bytes that are not HTTP).

Clients are shared: one ``httpx.AsyncClient`` per (TLS context, keep-alive, proxy), made on
first use, because making one costs tens of milliseconds of CPU; TLS contexts are shared per
distinct ``tls`` block (:mod:`agent.probes.tls_context`). ``keep_alive=False`` checks get a
fresh connection per probe (no idle pool and ``Connection: close``). The clients keep no
cookies and verify certificates against the system trust store (certifi's bundle when the
system has none) unless a ``tls`` block says otherwise.

A check's ``proxy``, else the environment's ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY``
(:mod:`agent.probes.proxy`), decides whether a probe goes through a forward proxy. A direct
probe without keep-alive uses :class:`~agent.probes.curl_transport.CurlTransport` (libcurl with
BoringSSL, ~60 % of the TLS handshake's CPU) for ``https://`` URLs and
:class:`~agent.probes.transport.FreshConnectionTransport` for ``http://`` ones (and for
``https://`` when curl_cffi cannot be imported, or ``curl=False``: ``--https-engine python``,
:mod:`agent.probes.https_engine`); a proxied one uses httpx's
own transport (``CONNECT`` tunnels for ``https://``), with no
connection kept between probes unless ``keep_alive``.

``max_body_bytes`` counts the body as decoded (after gzip or deflate, see
:mod:`agent.probes.body`); reading and inflating stop as soon as it is exceeded. URL userinfo is
sent as Basic auth, as httpx and curl send it, and taken out of the URL. The status is checked
before the headers, the headers before the body is read, the body before its assertions.

Phase timings come from the transport's ``trace`` extension events (the names httpcore uses),
so any transport emitting those events reports phases too.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import importlib.metadata
import os
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from agent.model import HttpCheck
from agent.probes import certificate
from agent.probes.auth import Credentials, SecretSink
from agent.probes.body import read_body
from agent.probes.details import causes, message, one_line, root_cause
from agent.probes.http_plan import Plan, make_plan
from agent.probes.http_trace import WAITING_FOR, PhaseTrace
from agent.probes.https_engine import CURL_AVAILABLE
from agent.probes.not_http import not_http_detail
from agent.probes.proxy import ProxyEnvironment
from agent.probes.result import Observation, Outcome, Reason
from agent.probes.run_values import with_run_values
from agent.probes.throttle import is_throttled, retry_after_seconds
from agent.probes.tls_context import TlsContexts, TlsSetupError
from agent.probes.transport import FreshConnectionTransport

Clock = Callable[[], float]
TransportFactory = Callable[[ssl.SSLContext | bool], httpx.AsyncBaseTransport]

_PLAN_CACHE_SIZE = 4096
_KEEPALIVE_EXPIRY = 60.0  # seconds an idle kept-alive connection may wait for the next probe


ClientKey = tuple[ssl.SSLContext, bool, str | None, bool]  # context, keep-alive, proxy, curl


class HttpProber:
    """Probes ``HttpCheck``s; ``observe`` never raises for anything the target or URL does."""

    def __init__(
        self,
        *,
        clock: Clock = time.perf_counter,
        transport_factory: TransportFactory | None = None,
        env: Mapping[str, str] | None = None,
        wall_clock: Clock = time.time,
        on_secret: SecretSink | None = None,
        curl: bool | None = None,
    ) -> None:
        """``env`` supplies the proxy variables (default: the process environment); ``curl``
        whether direct fresh-connection ``https://`` probes go through libcurl (None: when
        curl_cffi can be imported)."""
        self._clock = clock
        self._wall_clock = wall_clock
        self.credentials = Credentials(self._token_client, clock=clock, on_secret=on_secret)
        self._transport_factory = transport_factory
        self._curl = CURL_AVAILABLE if curl is None else curl
        self._user_agent = f"slo-agent/{_version()}"
        self._proxies = ProxyEnvironment(os.environ if env is None else env)
        self._clients: dict[ClientKey, tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]] = {}
        self._tls = TlsContexts()
        # keyed by id(check): checks are long-lived but unhashable; the check is kept in the
        # entry so its id cannot be reused while the entry lives
        self._plans: dict[int, tuple[HttpCheck, Plan | str]] = {}

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
            plan = (
                make_plan(check, self._user_agent, self._proxies) if one_off else self._plan(check)
            )
            if not isinstance(plan, str) and plan.run_values:
                filled = with_run_values(check, uuid.uuid4(), self._wall_clock())
                plan = make_plan(filled, self._user_agent, self._proxies)
        except Exception as exc:  # a check that breaks the model's types is still not a crash
            detail = f"invalid check: {type(exc).__name__}"
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=detail), None
        if isinstance(plan, str):
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=plan), None
        if not plan.run_auth or check.auth is None:
            return await self._send(plan, headers, keep_body, start)
        for attempt in (1, 2):
            credential = await self.credentials.header(check.auth, plan.timeout)
            if isinstance(credential, str):
                spent = clock() - start
                return Observation(Outcome.FAILURE, Reason.AUTH, spent, detail=credential), None
            if attempt == 1:
                start = clock()  # the token's time is not the target's
            extra = {**(headers or {}), credential.name: credential.value}
            secrets = (credential.value, credential.value.partition(" ")[2])
            observation, body = await self._send(plan, extra, keep_body, start, secrets)
            if observation.status != 401 or not credential.refreshable or attempt == 2:
                break
            self.credentials.refresh(check.auth, credential)  # refused: once with a new token
        return observation, body

    async def _send(
        self,
        plan: Plan,
        headers: Mapping[str, str] | None,
        keep_body: bool,
        start: float,
        secrets: tuple[str, ...] = (),
    ) -> tuple[Observation, bytes | None]:
        clock = self._clock
        trace = PhaseTrace(clock, start)
        status: int | None = None
        body: bytes | None = None
        extensions: dict[str, Any] = {"trace": trace}
        if plan.sni is not None:
            extensions["sni_hostname"] = plan.sni
        retry_after: float | None = None
        try:
            client, transport = self._client(plan)
            if headers or plan.follow_redirects:
                request = httpx.Request(
                    plan.method,
                    plan.url,
                    headers=_merged(plan.headers, headers) if headers else plan.headers,
                    content=plan.body,
                    extensions=extensions,
                )
            else:
                request = _fresh_request(plan.request, extensions)
            async with asyncio.timeout(plan.timeout):
                if plan.follow_redirects:
                    response = await client.send(request, stream=True, follow_redirects=True)
                else:
                    # without redirects the client's redirect, auth and cookie machinery has
                    # nothing to do: straight to its transport, ~0.15 ms less CPU per probe
                    response = await transport.handle_async_request(request)
                    response.request = request
                try:
                    status = response.status_code
                    reason, detail, body = await _judge(plan, response, keep_body, secrets)
                    if reason is Reason.THROTTLED:
                        wait = response.headers.get("retry-after")
                        retry_after = retry_after_seconds(wait, self._wall_clock())
                finally:
                    await response.aclose()
        except TlsSetupError as exc:
            reason, detail = Reason.TLS, one_line(str(exc))
        except (TimeoutError, httpx.TimeoutException):
            reason = Reason.TIMEOUT
            detail = f"timed out after {plan.timeout_text} {WAITING_FOR[trace.stage]}"
        except Exception as exc:  # a failing target is data, whatever the exception
            reason, detail = _classify(exc, trace, plan)
            if secrets:
                detail = one_line(detail, secrets)
            if reason is Reason.TLS and any(certificate.expired(c) for c in causes(exc)):
                left = plan.timeout - (clock() - start)
                trace.cert_not_after, detail = await _expired(plan, left, detail)
        outcome = Outcome.SUCCESS if reason is Reason.OK else Outcome.FAILURE
        observation = Observation(
            outcome,
            reason,
            clock() - start,
            status,
            trace.phases(),
            detail,
            retry_after=retry_after,
            cert_not_after=trace.cert_not_after,
        )
        return observation, body if outcome is Outcome.SUCCESS else None

    def _token_client(self) -> httpx.AsyncClient:
        """The client for token endpoints: fresh connections, verified TLS, direct."""
        key = (self._tls.context(None, True), False, None, False)
        return (self._clients.get(key) or self._open_client(key, None))[0]

    async def aclose(self) -> None:
        """Close every shared client; the prober opens new ones if it is used again."""
        clients = [client for client, _ in self._clients.values()]
        self._clients = {}
        for client in clients:
            await client.aclose()

    # --- per check, cached ----------------------------------------------------------------

    def _plan(self, check: HttpCheck) -> Plan | str:
        entry = self._plans.get(id(check))
        if entry is not None and entry[0] is check:
            return entry[1]
        plan = make_plan(check, self._user_agent, self._proxies)
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            del self._plans[next(iter(self._plans))]
        self._plans[id(check)] = (check, plan)
        return plan

    # --- shared clients -------------------------------------------------------------------

    def _client(self, plan: Plan) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
        """The shared client for ``plan``'s TLS context, keep-alive and proxy (TlsSetupError
        when its ``tls`` files cannot be used)."""
        context = self._tls.context(plan.tls, plan.verify)
        curl = (
            self._curl
            and plan.url.scheme == "https"
            and not plan.keep_alive
            and plan.proxy is None
            and self._transport_factory is None
        )
        key = (context, plan.keep_alive, plan.proxy, curl)
        return self._clients.get(key) or self._open_client(key, plan)

    def _open_client(
        self, key: ClientKey, plan: Plan | None
    ) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
        context, keep_alive, proxy, curl = key
        transport: httpx.AsyncBaseTransport
        if self._transport_factory is not None:
            transport = self._transport_factory(context)
        elif curl and plan is not None:
            # libcurl + BoringSSL: a verified handshake at ~60 % of the CPU of
            # CPython's ssl on OpenSSL 3.0 (bench/RESULTS.md, "HTTPS on libcurl")
            from agent.probes.curl_transport import CurlTransport  # see CURL_AVAILABLE

            transport = CurlTransport(plan.tls, verify=plan.verify)
        elif not keep_alive and proxy is None:
            # a fresh connection per probe: our lean transport costs about a third of httpcore's
            # CPU per request and keeps up with thousands of probes/s (bench/RESULTS.md)
            transport = FreshConnectionTransport(context, trust_env=False)
        else:
            transport = httpx.AsyncHTTPTransport(
                verify=context,
                trust_env=False,
                proxy=None if proxy is None else httpx.Proxy(proxy),
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
        # a context rebuilt after its files changed makes a new key: the old client stays
        # here until aclose (one per rotation), its in-flight probes undisturbed
        self._clients[key] = (client, transport)
        return client, transport


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


def _merged(base: httpx.Headers, extra: Mapping[str, str]) -> httpx.Headers:
    """``base`` with ``extra`` replacing same-named headers (the cached plan stays unchanged)."""
    headers = base.copy()
    headers.update(extra)
    return headers


async def _judge(
    plan: Plan, response: httpx.Response, keep_body: bool, secrets: tuple[str, ...] = ()
) -> tuple[Reason, str, bytes | None]:
    """Status, then headers, then body size, then body assertions; the body too when
    ``keep_body``. Assertion details quote the response, so ``secrets`` (and the plan's) are
    redacted from them."""
    status = response.status_code
    if status not in plan.expect_status:
        if is_throttled(status, response.headers.get("retry-after")):
            return Reason.THROTTLED, f"throttled: the target answered {status}", None
        return Reason.STATUS, f"expected status in {plan.status_text}, got {status}", None
    for header in plan.header_checks:
        problem = header.failure(response.headers.get(header.name))
        if problem is not None:
            return Reason.ASSERTION, one_line(problem, (*plan.secrets, *secrets)), None
    limit = plan.max_body_bytes
    content = await read_body(response, limit, keep=keep_body or plan.assertions is not None)
    if content is None:
        return Reason.BODY_TOO_LARGE, f"body larger than {limit} bytes", None
    if plan.assertions is not None:
        failure = plan.assertions.failure(content, _charset(response))
        if failure is not None:  # a target may echo a credential back: never quote it
            return Reason.ASSERTION, one_line(failure, (*plan.secrets, *secrets)), None
    return Reason.OK, "", content if keep_body else None


async def _expired(plan: Plan, left: float, detail: str) -> tuple[float | None, str]:
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


def _classify(exc: Exception, trace: PhaseTrace, plan: Plan) -> tuple[Reason, str]:
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
    for cause in causes(exc):
        if isinstance(cause, ssl.SSLError):  # after the handshake (TLS 1.3 client certificates)
            problem = cause.reason.lower().replace("_", " ") if cause.reason else message(cause)
            return Reason.TLS, one_line(f"TLS session refused by the server: {problem}")
    if isinstance(exc, httpx.ProxyError):  # the proxy refused the CONNECT tunnel
        return Reason.CONNECT, one_line(f"the proxy refused: {message(exc)}", plan.secrets)
    if isinstance(exc, httpx.LocalProtocolError):
        # its message may quote a header value verbatim
        return Reason.ERROR, "request rejected by the HTTP client (invalid method or header)"
    not_http = not_http_detail(exc)
    if not_http is not None:
        return Reason.ERROR, one_line(not_http, plan.secrets)
    detail = f"{type(exc).__name__}: {message(root_cause(exc))}"
    return Reason.ERROR, one_line(detail, plan.secrets)


def _version() -> str:
    try:
        return importlib.metadata.version("slo-agent")
    except importlib.metadata.PackageNotFoundError:
        return "0"
