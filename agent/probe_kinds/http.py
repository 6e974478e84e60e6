"""The ``http`` probe kind: one HTTP request, its status, body and timing checked.

Its wire model (``HttpSpec``, also the request of a journey step and of a fallback drill), the
conversion into :class:`agent.model.HttpCheck` (the model's request, shared with journeys and
drills, so it stays in :mod:`agent.model`), and the prober in :mod:`agent.probes.http`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from agent.model import HttpCheck
from agent.probe_kinds import KindSpec, ProbeKind, timeout_for
from agent.probes.result import Reason
from agent.spec.problems import Loc, spec_error, validation_error
from agent.spec.scalars import Duration, HeaderName, HeaderValue, JsonPath, Regex, StatusCode, Url
from agent.spec.v1_auth import AuthSpec, to_auth
from agent.spec.v1_contract import (
    MAX_HEADER_CHECKS,
    HeaderExpected,
    JsonExpected,
    duplicate_header,
    header_checks,
    json_conditions,
    json_equals,
)
from agent.spec.v1_transport import TlsSpec, tls_settings
from agent.spec.variables import HeaderExpander, run_value_error
from agent.text_pattern import TextPattern

if TYPE_CHECKING:
    from agent.probe_kinds import Clock, Prober


class ExpectSpec(KindSpec):
    status: list[StatusCode] | None = Field(
        None, min_length=1, description='accepted status codes or classes ("2xx"); default 2xx'
    )
    body_contains: str | None = Field(None, min_length=1)
    body_regex: Regex | None = None
    json_: dict[JsonPath, JsonExpected] = Field(
        default_factory=dict,
        alias="json",
        description="JSONPath -> expected value, or conditions (exists, gt, regex, type...)",
    )
    headers: dict[HeaderName, HeaderExpected] = Field(
        default_factory=dict,
        max_length=MAX_HEADER_CHECKS,
        description="response header (any case) -> exact value, or {exists, eq, regex}",
    )

    @model_validator(mode="after")
    def _distinct_headers(self) -> ExpectSpec:
        twice = duplicate_header(self.headers)
        if twice is not None:
            message = "is given twice (header names are case-insensitive)"
            raise validation_error("expect", [(("headers", twice), message)])
        return self


class HttpSpec(KindSpec):
    url: Url
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    body: str | None = None
    timeout: Duration | None = Field(None, description="default 5s, or the interval if shorter")
    expect: ExpectSpec = Field(default_factory=ExpectSpec)
    max_body_bytes: int = Field(1024 * 1024, ge=1)
    verify_tls: bool = True
    keep_alive: bool = False
    follow_redirects: bool = False
    tls: TlsSpec | None = Field(None, description="TLS client settings; over the node's tls")
    proxy: Url | None = Field(
        None, description="forward proxy URL; default the node's proxy, else HTTP(S)_PROXY"
    )
    auth: AuthSpec | None = Field(None, description="default: the node's spec.auth")

    @field_validator("url", "body")
    @classmethod
    def _run_values(cls, text: str | None) -> str | None:
        problem = None if text is None else run_value_error(text)
        if problem is not None:
            raise spec_error(problem)
        return text


def _statuses(codes: list[int | str] | None) -> frozenset[int]:
    if codes is None:
        return frozenset(range(200, 300))
    result: set[int] = set()
    for code in codes:
        if isinstance(code, int):
            result.add(code)
        else:
            base = int(code[0]) * 100
            result.update(range(base, base + 100))
    return frozenset(result)


def http_check(spec: HttpSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> HttpCheck:
    return HttpCheck(
        url=spec.url,
        method=spec.method,
        headers=expander.headers(loc, spec.headers),
        body=None if spec.body is None else spec.body.encode(),
        timeout=timeout_for(spec.timeout, every),
        expect_status=_statuses(spec.expect.status),
        body_contains=spec.expect.body_contains,
        body_regex=(
            None if spec.expect.body_regex is None else TextPattern.compile(spec.expect.body_regex)
        ),
        json_equals=json_equals(spec.expect.json_),
        json_conditions=json_conditions(spec.expect.json_),
        expect_headers=header_checks(spec.expect.headers),
        max_body_bytes=spec.max_body_bytes,
        verify_tls=spec.verify_tls,
        keep_alive=spec.keep_alive,
        follow_redirects=spec.follow_redirects,
        tls=tls_settings(spec.tls, expander.transport.tls),
        proxy=spec.proxy or expander.transport.proxy,
        auth=expander.auth if spec.auth is None else to_auth(spec.auth, (*loc, "auth"), expander),
    )


def _prober(clock: Clock) -> Prober[HttpCheck]:
    from agent.probes.http import HttpProber  # loads httpx: only when probers are built

    return HttpProber(clock=clock)


def _contract_checks(check: HttpCheck) -> int:
    """JSON, header and body assertions: the data-contract surface the advisor weighs."""
    return (
        len(check.json_equals)
        + len(check.json_conditions)
        + len(check.expect_headers)
        + int(check.body_contains is not None)
        + int(check.body_regex is not None)
    )


KIND: ProbeKind[HttpSpec, HttpCheck] = ProbeKind(
    name="http",
    measures="one HTTP request: status, body assertions, time to the whole answer",
    spec=HttpSpec,
    check=HttpCheck,
    convert=http_check,
    prober=_prober,
    reasons=frozenset(
        {
            Reason.TIMEOUT,
            Reason.CONNECT,
            Reason.DNS,
            Reason.TLS,
            Reason.STATUS,
            Reason.ASSERTION,
            Reason.BODY_TOO_LARGE,
            Reason.THROTTLED,
            Reason.AUTH,
            Reason.ERROR,
        }
    ),
    contract_checks=_contract_checks,
    certificate=lambda check: check.url[:8].lower() == "https://",
)
