from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Outcome, Reason
from agent.text_pattern import TextPattern
from tests.support.net import free_port
from tests.support.targets import (
    Behaviour,
    FailEvery,
    Garbage,
    Hang,
    Oversized,
    Reply,
    Reset,
    SlowBody,
    Target,
    json_reply,
)

SHORT = timedelta(milliseconds=500)


@dataclass(frozen=True)
class Case:
    """One row: the target's behaviour, the check's settings, what the probe must report."""

    id: str
    behaviour: Behaviour
    reason: Reason
    status: int | None
    detail: str | re.Pattern[str] = ""
    check: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("ok", Reply(200, b"fine"), Reason.OK, 200),
    Case("no content", Reply(204), Reason.OK, 204),
    Case(
        "5xx",
        Reply(503, b"down"),
        Reason.STATUS,
        503,
        "expected status in [200-299], got 503",
    ),
    Case(
        "status outside an explicit set",
        Reply(201),
        Reason.STATUS,
        201,
        "expected status in [200, 204], got 201",
        {"expect_status": frozenset({200, 204})},
    ),
    Case("expected 404", Reply(404), Reason.OK, 404, "", {"expect_status": frozenset({404})}),
    Case(
        "hang",
        Hang(),
        Reason.TIMEOUT,
        None,
        "timed out after 500ms waiting for response headers",
        {"timeout": SHORT},
    ),
    Case(
        "slow body past the deadline",
        SlowBody(chunks=200, interval=0.05),
        Reason.TIMEOUT,
        200,
        "timed out after 500ms while reading the body",
        {"timeout": SHORT},
    ),
    Case(
        "reset mid-body", Reset(), Reason.ERROR, 200, re.compile(r"^\w+: Connection reset by peer")
    ),
    Case("reset mid-headers", Reset(b"HTTP/1.1 200 OK\r\nContent-"), Reason.ERROR, None),
    Case("garbage", Garbage(), Reason.ERROR, None, re.compile(r"^not an HTTP response: got b'")),
    Case(
        "oversized",
        Oversized(size=2 * 1024 * 1024),
        Reason.BODY_TOO_LARGE,
        200,
        "body larger than 1048576 bytes",
    ),
    Case(
        "oversized chunked",
        Oversized(size=300, chunked=True, block=100),
        Reason.BODY_TOO_LARGE,
        200,
        "body larger than 256 bytes",
        {"max_body_bytes": 256},
    ),
    Case("exactly the limit", Reply(200, b"x" * 256), Reason.OK, 200, "", {"max_body_bytes": 256}),
    Case(
        "contains: pass",
        Reply(200, b'{"status":"ok"}'),
        Reason.OK,
        200,
        "",
        {"body_contains": '"status":"ok"'},
    ),
    Case(
        "contains: fail",
        Reply(200, b'{"status":"down"}'),
        Reason.ASSERTION,
        200,
        'body does not contain "\\"status\\":\\"ok\\""',
        {"body_contains": '"status":"ok"'},
    ),
    Case(
        "regex: pass",
        Reply(200, b"version 1.24.3 ready"),
        Reason.OK,
        200,
        "",
        {"body_regex": TextPattern.compile(r"version \d+\.\d+")},
    ),
    Case(
        "regex: fail",
        Reply(200, b"booting"),
        Reason.ASSERTION,
        200,
        "body does not match /ready$/",
        {"body_regex": TextPattern.compile(r"ready$")},
    ),
    Case(
        "json: pass",
        json_reply({"status": "ok", "checks": [{"name": "db", "up": True}]}),
        Reason.OK,
        200,
        "",
        {"json_equals": {"$.status": "ok", "$.checks[0].up": True}},
    ),
    Case(
        "json: wrong value",
        json_reply({"status": "degraded"}),
        Reason.ASSERTION,
        200,
        '$.status: expected "ok", got "degraded"',
        {"json_equals": {"$.status": "ok"}},
    ),
    Case(
        "json: missing path",
        json_reply({"state": "ok"}),
        Reason.ASSERTION,
        200,
        '$.status: expected "ok", got nothing',
        {"json_equals": {"$.status": "ok"}},
    ),
    Case(
        "json: not JSON",
        Reply(200, b"<html>ok</html>", content_type="text/html"),
        Reason.ASSERTION,
        200,
        re.compile(r"^body is not JSON \(.+\)$"),
        {"json_equals": {"$.status": "ok"}},
    ),
    Case(
        "status checked before the body",
        Reply(500, b"not json"),
        Reason.STATUS,
        500,
        "expected status in [200-299], got 500",
        {"json_equals": {"$.status": "ok"}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_observation_for_target_behaviour(
    case: Case, target: Target, prober: HttpProber
) -> None:
    target.route("/probe", case.behaviour)
    check = HttpCheck(url=target.url("/probe"), **case.check)

    observation = await prober.observe(check)

    assert observation.reason is case.reason
    assert observation.outcome is (Outcome.SUCCESS if case.reason is Reason.OK else Outcome.FAILURE)
    assert observation.status == case.status
    if isinstance(case.detail, re.Pattern):
        assert case.detail.search(observation.detail), observation.detail
    elif case.reason is not Reason.ERROR or case.detail:
        assert observation.detail == case.detail
    assert observation.duration > 0


async def test_success_reports_status_and_phases(target: Target, prober: HttpProber) -> None:
    target.route("/health", json_reply({"status": "ok"}))

    observation = await prober.observe(HttpCheck(url=target.url("/health")))

    assert observation.ok
    assert observation.status == 200
    phases = observation.phases
    assert phases.connect is not None
    assert phases.first_byte is not None
    assert phases.tls is None  # plain HTTP
    assert 0 < phases.connect <= phases.first_byte <= observation.duration


async def test_every_nth_request_failing_is_seen_per_probe(
    target: Target, prober: HttpProber
) -> None:
    target.route("/flaky", FailEvery(3))
    check = HttpCheck(url=target.url("/flaky"))

    reasons = [(await prober.observe(check)).reason for _ in range(6)]

    ok, bad = Reason.OK, Reason.STATUS
    assert reasons == [ok, ok, bad, ok, ok, bad]


async def test_refused_connection_is_connect(prober: HttpProber) -> None:
    observation = await prober.observe(HttpCheck(url=f"http://127.0.0.1:{free_port()}/"))

    assert observation.reason is Reason.CONNECT
    assert observation.status is None
    assert observation.detail == "cannot connect: Connection refused"


async def test_unresolvable_host_is_dns(prober: HttpProber) -> None:
    check = HttpCheck(url="http://nonexistent.invalid/health", timeout=timedelta(seconds=30))

    observation = await prober.observe(check)

    assert observation.reason is Reason.DNS
    assert observation.detail.startswith("cannot resolve nonexistent.invalid: ")


async def test_method_headers_and_body_reach_the_target(target: Target, prober: HttpProber) -> None:
    target.route("/orders", Reply(201))
    check = HttpCheck(
        url=target.url("/orders?dry_run=1"),
        method="post",
        headers={"X-Route": "backup", "Content-Type": "application/json"},
        body=b'{"amount": 12}',
    )

    observation = await prober.observe(check)

    assert observation.ok
    (request,) = target.requests
    assert request.method == "POST"
    assert request.target == "/orders?dry_run=1"
    assert request.header("x-route") == "backup"
    assert request.header("content-type") == "application/json"
    assert request.body == b'{"amount": 12}'
    assert (request.header("user-agent") or "").startswith("slo-agent/")


async def test_every_run_of_a_check_sends_the_same_request(
    target: Target, prober: HttpProber
) -> None:
    """Runs of one check share a prepared request: its body and headers go out every time, and
    a run with extra headers (a trace context) changes no later run."""
    target.route("/orders", Reply(201))
    check = HttpCheck(
        url=target.url("/orders"),
        method="POST",
        headers={"X-Route": "backup"},
        body=b'{"amount": 12}',
        expect_status=frozenset({201}),
    )

    assert (await prober.observe(check)).ok
    assert (
        await prober.observe(check, {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    ).ok
    assert (await prober.observe(check)).ok

    first, traced, last = target.requests
    for request in (first, traced, last):
        assert (request.method, request.target, request.body) == (
            "POST",
            "/orders",
            b'{"amount": 12}',
        )
        assert request.header("x-route") == "backup"
        assert request.header("content-length") == "14"
    assert traced.header("traceparent") is not None
    assert first.header("traceparent") is None
    assert last.header("traceparent") is None
    assert first.headers == last.headers


async def test_user_headers_override_defaults(target: Target, prober: HttpProber) -> None:
    await prober.observe(HttpCheck(url=target.url("/"), headers={"user-agent": "custom/1"}))

    assert target.requests[0].header("user-agent") == "custom/1"


async def test_fresh_connection_per_probe_by_default(target: Target, prober: HttpProber) -> None:
    check = HttpCheck(url=target.url("/"), expect_status=frozenset({404}))

    first = await prober.observe(check)
    second = await prober.observe(check)

    assert (first.reason, second.reason) == (Reason.OK, Reason.OK)
    assert target.connections == 2
    assert target.requests[0].header("connection") == "close"
    assert second.phases.connect is not None


async def test_keep_alive_reuses_the_connection(target: Target, prober: HttpProber) -> None:
    check = HttpCheck(url=target.url("/"), expect_status=frozenset({404}), keep_alive=True)

    first = await prober.observe(check)
    second = await prober.observe(check)

    assert (first.reason, second.reason) == (Reason.OK, Reason.OK)
    assert target.connections == 1
    assert second.phases.connect is None  # no connect happened for the second probe


async def test_clients_are_shared_per_verification_and_keep_alive(target: Target) -> None:
    made: list[object] = []

    def factory(verify: object) -> Any:
        import httpx

        made.append(verify)
        return httpx.AsyncHTTPTransport()

    prober = HttpProber(transport_factory=factory)
    try:
        for path in ("/a", "/b", "/c"):
            await prober.observe(HttpCheck(url=target.url(path)))
        await prober.observe(HttpCheck(url=target.url("/d"), verify_tls=False))
        await prober.observe(HttpCheck(url=target.url("/e"), keep_alive=True))
    finally:
        await prober.aclose()

    assert len(made) == 3
    assert target.request_count == 5


async def test_cookies_are_not_carried_between_probes(target: Target, prober: HttpProber) -> None:
    target.route("/", Reply(200, headers={"Set-Cookie": "session=abc; Path=/"}))
    check = HttpCheck(url=target.url("/"))

    await prober.observe(check)
    await prober.observe(check)

    assert [r.header("cookie") for r in target.requests] == [None, None]


async def test_redirects_follow_the_check(target: Target, prober: HttpProber) -> None:
    target.route("/old", Reply(302, headers={"Location": "/new"}))
    target.route("/new", Reply(200, b"moved here"))

    stay = await prober.observe(HttpCheck(url=target.url("/old")))
    follow = await prober.observe(
        HttpCheck(url=target.url("/old"), follow_redirects=True, body_contains="moved")
    )

    assert (stay.reason, stay.status) == (Reason.STATUS, 302)
    assert (follow.reason, follow.status) == (Reason.OK, 200)


async def test_self_signed_certificate_is_tls(tls_target: Target, prober: HttpProber) -> None:
    observation = await prober.observe(HttpCheck(url=tls_target.url("/")))

    assert observation.reason is Reason.TLS
    assert observation.status is None
    assert "certificate" in observation.detail


async def test_unverified_tls_succeeds(tls_target: Target, prober: HttpProber) -> None:
    tls_target.route("/", Reply(200, b"secure"))

    observation = await prober.observe(HttpCheck(url=tls_target.url("/"), verify_tls=False))

    assert observation.ok
    assert observation.phases.tls is not None
    assert observation.phases.connect is not None


async def test_trusted_certificate_through_transport_factory(tls_target: Target) -> None:
    import httpx

    tls_target.route("/", Reply(200))
    trusted = tls_target.client_ssl_context()
    prober = HttpProber(transport_factory=lambda _verify: httpx.AsyncHTTPTransport(verify=trusted))
    try:
        observation = await prober.observe(HttpCheck(url=tls_target.url("/")))
    finally:
        await prober.aclose()

    assert observation.ok, observation.detail
    assert observation.phases.tls is not None


async def test_header_values_never_reach_the_detail(target: Target, prober: HttpProber) -> None:
    secret = "Bearer s3cr3t-token\nX-Injected: 1"
    check = HttpCheck(url=target.url("/"), headers={"Authorization": secret})

    observation = await prober.observe(check)

    assert observation.reason is Reason.ERROR
    assert "s3cr3t" not in observation.detail
    assert observation.detail


BIZARRE_URLS = [
    "",
    "not a url",
    "ftp://127.0.0.1/file",
    "http://",
    "http:///path-only",
    "//127.0.0.1/no-scheme",
    "http://[::1",
    "http://exa mple.com/",
    "http://127.0.0.1:99999/",
    "http://127.0.0.1:0/",
    "http://" + "a" * 70 + ".invalid/",
    "http://" + "b." * 200 + "invalid/",
    "http://\x00/",
    "http://user:pa ss@127.0.0.1:1/",
    "https://例え.テスト/",
    "http://127.0.0.1:1/%zz?q=\ud800",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("url", BIZARRE_URLS)
async def test_observe_never_raises_for_bizarre_urls(url: str, prober: HttpProber) -> None:
    observation = await prober.observe(HttpCheck(url=url, timeout=timedelta(seconds=2)))

    assert observation.outcome is Outcome.FAILURE
    # TIMEOUT only where a slow resolver keeps a name lookup past the deadline
    assert observation.reason in {Reason.ERROR, Reason.CONNECT, Reason.DNS, Reason.TIMEOUT}
    assert observation.detail
    assert "\n" not in observation.detail


async def test_invalid_json_path_is_an_error_without_network(
    target: Target, prober: HttpProber
) -> None:
    check = HttpCheck(url=target.url("/"), json_equals={"$[": 1})

    observation = await prober.observe(check)

    assert observation.reason is Reason.ERROR
    assert observation.detail.startswith("$[: not a valid JSON path")
    assert target.connections == 0


async def test_prober_works_again_after_aclose(target: Target, prober: HttpProber) -> None:
    check = HttpCheck(url=target.url("/"), expect_status=frozenset({404}))
    await prober.observe(check)
    await prober.aclose()

    observation = await prober.observe(check)

    assert observation.ok
    assert target.request_count == 2
