"""Credentials of HTTP probes against loopback partners that demand them: Basic, API key,
bearer from the environment or from a file rotated between runs, OAuth2 client credentials
(tests/probes/partner_auth.py has the fake token server, and why it is a fake)."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Hashable, Iterable
from pathlib import Path

import pytest

from agent.model import ApiKeyAuth, BasicAuth, BearerAuth, HttpCheck, OAuth2Auth
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from tests.probes.partner_auth import OAuth2Server, RequireHeader, mount_secret
from tests.support.net import free_port
from tests.support.targets import Reply, Target, json_reply


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sink:
    def __init__(self) -> None:
        self.values: list[str] = []

    def __call__(self, slot: Hashable, values: Iterable[str]) -> None:
        self.values.extend(values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def timed_prober(clock: FakeClock, sink: Sink) -> AsyncIterator[HttpProber]:
    http = HttpProber(clock=clock, on_secret=sink)
    try:
        yield http
    finally:
        await http.aclose()


# --- static credentials ---------------------------------------------------------------------


async def test_basic_auth_is_sent_and_a_wrong_password_is_a_401(
    target: Target, prober: HttpProber
) -> None:
    expected = "Basic " + base64.b64encode(b"probe:s3cret-pass").decode()
    target.route("/", RequireHeader("authorization", lambda: expected))

    good = await prober.observe(HttpCheck(target.url("/"), auth=BasicAuth("probe", "s3cret-pass")))
    bad = await prober.observe(HttpCheck(target.url("/"), auth=BasicAuth("probe", "wrong-pass")))

    assert good.ok, good.detail
    assert (bad.reason, bad.status) == (Reason.STATUS, 401)


async def test_api_key_goes_in_its_own_header(target: Target, prober: HttpProber) -> None:
    target.route("/", RequireHeader("x-api-key", lambda: "key-0123456789"))
    check = HttpCheck(target.url("/"), auth=ApiKeyAuth("X-Api-Key", "key-0123456789"))

    observation = await prober.observe(check)

    assert observation.ok, observation.detail
    assert target.requests[0].header("authorization") is None


async def test_auth_wins_over_an_authorization_header(target: Target, prober: HttpProber) -> None:
    target.route("/", RequireHeader("authorization", lambda: "Bearer from-auth-block"))
    check = HttpCheck(
        target.url("/"),
        headers={"Authorization": "Bearer from-header"},
        auth=BearerAuth(token="from-auth-block"),
    )

    assert (await prober.observe(check)).ok


# --- bearer token from a file -----------------------------------------------------------------


async def test_a_rotated_secret_file_is_picked_up_and_read_only_when_it_changed(
    target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    current = {"token": "first-token-aaaa"}
    target.route("/", RequireHeader("authorization", lambda: f"Bearer {current['token']}"))
    mount_secret(tmp_path, current["token"], 1)
    check = HttpCheck(target.url("/"), auth=BearerAuth(file=str(tmp_path / "token")))

    before = [await prober.observe(check) for _ in range(5)]
    current["token"] = "second-token-bbbbbbbb"  # the partner rotates: the old one is refused
    old = HttpCheck(target.url("/"), auth=BearerAuth("first-token-aaaa"))
    stale = await prober.observe(old)
    mount_secret(tmp_path, current["token"], 2)
    after = [await prober.observe(check) for _ in range(5)]

    assert [o.reason for o in before + after] == [Reason.OK] * 10
    assert stale.status == 401  # the rotation mattered: the old token no longer works
    assert prober.credentials.file_reads == 2  # once per content, not once per run


async def test_a_secret_file_rewritten_in_place_with_the_same_size_is_picked_up(
    target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    current = {"token": "token-aaaa"}
    target.route("/", RequireHeader("authorization", lambda: f"Bearer {current['token']}"))
    path = tmp_path / "token"
    path.write_text(current["token"])
    check = HttpCheck(target.url("/"), auth=BearerAuth(file=str(path)))
    assert (await prober.observe(check)).ok

    current["token"] = "token-bbbb"
    path.write_text(current["token"])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # coarse-mtime filesystems

    assert (await prober.observe(check)).ok


async def test_an_unreadable_secret_file_is_reason_auth(
    target: Target, prober: HttpProber, tmp_path: Path
) -> None:
    target.route("/", Reply(200))
    missing = tmp_path / "absent"
    empty = tmp_path / "empty"
    empty.write_text("\n")

    gone = await prober.observe(HttpCheck(target.url("/"), auth=BearerAuth(file=str(missing))))
    blank = await prober.observe(HttpCheck(target.url("/"), auth=BearerAuth(file=str(empty))))

    assert gone.reason is Reason.AUTH
    assert str(missing) in gone.detail
    assert blank.reason is Reason.AUTH
    assert "empty" in blank.detail
    assert target.request_count == 0  # nothing is sent without the credentials


# --- OAuth2 client credentials ----------------------------------------------------------------


def oauth2_partner(target: Target, clock: FakeClock, expires_in: int = 30) -> OAuth2Server:
    server = OAuth2Server("slo-agent", "client-secret-xyz", clock, expires_in=expires_in)
    target.route("/oauth/token", server.token_endpoint)
    target.route("/v1/health", server.resource)
    return server


def oauth2_check(target: Target, secret: str = "client-secret-xyz") -> HttpCheck:
    auth = OAuth2Auth(target.url("/oauth/token"), "slo-agent", secret, ("payments.read",))
    return HttpCheck(target.url("/v1/health"), auth=auth)


async def test_one_token_request_per_token_lifetime_across_many_runs(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    server = oauth2_partner(target, clock, expires_in=30)
    check = oauth2_check(target)

    observations = []
    for _ in range(100):  # a run a second for 100 s
        observations.append(await timed_prober.observe(check))
        clock.now += 1

    assert [o.reason for o in observations] == [Reason.OK] * 100
    # renewed a tenth of the lifetime (3 s) before expiry: at 0, 27, 54 and 81 s
    assert server.token_requests == 4
    assert server.refused == 0
    assert server.scopes_seen == ["payments.read"] * 4


async def test_simultaneous_runs_share_one_token_request(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    server = oauth2_partner(target, clock)
    checks = [oauth2_check(target) for _ in range(20)]  # 20 probes, the same credentials

    observations = await asyncio.gather(*(timed_prober.observe(check) for check in checks))

    assert all(o.ok for o in observations)
    assert server.token_requests == 1


async def test_a_refused_token_is_replaced_and_the_request_sent_once_more(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    server = oauth2_partner(target, clock)
    check = oauth2_check(target)
    assert (await timed_prober.observe(check)).ok

    server.revoke_all()  # the partner forgets its tokens early (a restart, a key rotation)
    observation = await timed_prober.observe(check)

    assert observation.ok, observation.detail
    assert (server.token_requests, server.refused) == (2, 1)


async def test_a_target_refusing_fresh_tokens_too_is_a_status_failure(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    server = oauth2_partner(target, clock)
    target.route("/v1/health", Reply(401))

    first = await timed_prober.observe(oauth2_check(target))
    second = await timed_prober.observe(oauth2_check(target))

    assert (first.reason, first.status) == (Reason.STATUS, 401)
    assert second.reason is Reason.STATUS
    # a token issued for this run and refused is not replaced at once; the second run's
    # cached (refused) one is, once
    assert server.token_requests == 2


async def test_token_endpoint_failures_are_reason_auth_and_never_show_the_secret(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    oauth2_partner(target, clock)
    wrong = await timed_prober.observe(oauth2_check(target, secret="not-the-secret"))
    target.route("/oauth/token", Reply(503))
    down = await timed_prober.observe(oauth2_check(target))

    assert (wrong.reason, wrong.detail) == (
        Reason.AUTH,
        "token endpoint answered 401 (invalid_client)",
    )
    assert (down.reason, down.detail) == (Reason.AUTH, "token endpoint answered 503")
    assert target.requests[-1].path == "/oauth/token"  # the resource was not asked


async def test_an_unreachable_token_endpoint_is_reason_auth(
    target: Target, timed_prober: HttpProber
) -> None:
    port = free_port()  # nothing listens there: connections are refused
    auth = OAuth2Auth(f"http://127.0.0.1:{port}/token", "id", "client-secret-xyz")
    observation = await timed_prober.observe(HttpCheck(target.url("/"), auth=auth))

    assert observation.reason is Reason.AUTH
    assert observation.detail.startswith("token endpoint: ")
    assert "client-secret-xyz" not in observation.detail


async def test_tokens_are_handed_to_the_known_secrets_before_use(
    target: Target, timed_prober: HttpProber, clock: FakeClock, sink: Sink
) -> None:
    oauth2_partner(target, clock)
    assert (await timed_prober.observe(oauth2_check(target))).ok

    assert "token-1" in sink.values
    assert "Bearer token-1" in sink.values


async def test_client_secret_post_sends_the_credentials_in_the_form_with_audience(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    server = oauth2_partner(target, clock)
    server.client_auth = "post"  # this partner refuses HTTP Basic at its token endpoint
    basic = await timed_prober.observe(oauth2_check(target))
    auth = OAuth2Auth(
        target.url("/oauth/token"),
        "slo-agent",
        "client-secret-xyz",
        ("payments.read",),
        client_auth="client_secret_post",
        audience="https://pay.acme.example",
    )
    posted = await timed_prober.observe(HttpCheck(target.url("/v1/health"), auth=auth))

    assert (basic.reason, basic.detail) == (
        Reason.AUTH,
        "token endpoint answered 401 (invalid_client)",
    )
    assert posted.ok, posted.detail
    assert server.audiences_seen == ["https://pay.acme.example"]
    token_request = [r for r in target.requests if r.path == "/oauth/token"][-1]
    assert token_request.header("authorization") is None


async def test_a_token_endpoint_error_detail_never_quotes_what_it_sent_back(
    target: Target, timed_prober: HttpProber, clock: FakeClock
) -> None:
    oauth2_partner(target, clock)
    # a token endpoint that echoes the secret in its error: only a plain error code is shown
    echo = {"error": "client-secret-xyz is wrong", "error_description": "client-secret-xyz"}
    target.route("/oauth/token", json_reply(echo, 400))
    observation = await timed_prober.observe(oauth2_check(target))

    assert (observation.reason, observation.detail) == (Reason.AUTH, "token endpoint answered 400")
