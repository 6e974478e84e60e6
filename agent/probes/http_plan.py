"""What an HTTP check sends, prepared once per check: the request, its expectations, its TLS,
proxy and credentials settings, and the secrets a message about it must never quote."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx

from agent.contract import HeaderCheck
from agent.durations import format_duration
from agent.model import HttpCheck, TlsSettings
from agent.probes.assertions import BodyAssertions
from agent.probes.details import message, one_line, secret_spellings
from agent.probes.proxy import ProxyEnvironment
from agent.probes.run_values import has_run_values
from agent.probes.static_auth import static_header, static_secrets


@dataclass(frozen=True, slots=True)
class Plan:
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
    header_checks: tuple[HeaderCheck, ...]
    max_body_bytes: int
    follow_redirects: bool
    request: httpx.Request  # the request without extensions; see _fresh_request
    tls: TlsSettings | None
    verify: bool
    keep_alive: bool
    proxy: str | None  # the forward proxy's URL, None: direct
    sni: str | None  # tls.server_name
    secrets: tuple[str, ...]  # header values in every spelling an error message might use
    run_values: bool  # ${run.uuid} or ${run.time} to fill in: a plan of its own per run
    run_auth: bool  # credentials obtained per run (bearer file, OAuth2)


def make_plan(check: HttpCheck, user_agent: str, proxies: ProxyEnvironment) -> Plan | str:
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
            "User-Agent": user_agent,
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
    proxy = check.proxy or proxies.proxy_for(url)
    if proxy is not None:
        try:
            proxy_url = httpx.URL(proxy)
        except Exception:
            return "invalid proxy URL (use http://HOST:PORT)"
        if proxy_url.scheme not in ("http", "https") or not proxy_url.host:
            return "invalid proxy URL (use http://HOST:PORT)"
        if proxy_url.userinfo:
            secrets = (*secrets, *_basic_credentials(proxy_url))
    run_auth = False
    if check.auth is not None:
        credential = static_header(check.auth)
        run_auth = credential is None
        if credential is not None:  # the auth block wins over headers and URL userinfo
            headers[credential.name] = credential.value
        secrets = secret_spellings([*secrets, *static_secrets(check.auth)])
    timeout = check.timeout.total_seconds()
    method = check.method.upper()
    try:
        request = httpx.Request(method, url, headers=headers, content=check.body)
    except Exception as exc:
        return one_line(f"the request cannot be built: {message(exc)}", secrets)
    return Plan(
        method=method,
        url=url,
        headers=headers,
        body=check.body,
        timeout=timeout,
        timeout_text=format_duration(check.timeout),
        expect_status=check.expect_status,
        status_text=_status_text(check.expect_status),
        assertions=assertions,
        header_checks=check.expect_headers,
        max_body_bytes=check.max_body_bytes,
        follow_redirects=check.follow_redirects,
        request=request,
        tls=check.tls,
        verify=check.verify_tls,
        keep_alive=check.keep_alive,
        proxy=proxy,
        sni=None if check.tls is None else check.tls.server_name,
        secrets=secrets,
        run_values=has_run_values(check),
        run_auth=run_auth,
    )


def _basic_credentials(url: httpx.URL) -> tuple[str, ...]:
    """The Authorization value for ``url``'s userinfo, then every other spelling of it
    (decoded and as written in the URL) a message could quote."""
    pair = f"{url.username}:{url.password}"
    token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    raw = url.userinfo.decode("ascii", "replace")
    spellings = (f"Basic {token}", token, pair, raw, url.password, raw.partition(":")[2])
    return tuple(spelling for spelling in spellings if spelling)


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
