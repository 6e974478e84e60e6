"""Tokens obtained at run time join the log filter's known secrets, and rotating them many times
keeps that set bounded: each source's new token replaces the one before its previous one.
Against the loopback OAuth2 partner and a secret volume rotated the way the kubelet does it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.model import BearerAuth, HttpCheck, OAuth2Auth
from agent.probes.http import HttpProber
from agent.redaction import KnownSecrets, RedactingFilter
from tests.probes.partner_auth import OAuth2Server, RequireHeader, mount_secret
from tests.support.targets import Target

ROTATIONS = 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def logged(secrets: KnownSecrets, text: str) -> str:
    """``text`` as the agent's log filter lets it out."""
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "%s", (text,), None)
    RedactingFilter(secrets).filter(record)
    return record.getMessage()


@pytest.fixture
def secrets() -> KnownSecrets:
    return KnownSecrets()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def prober(secrets: KnownSecrets, clock: FakeClock) -> AsyncIterator[HttpProber]:
    http = HttpProber(clock=clock, on_secret=secrets.rotate)
    try:
        yield http
    finally:
        await http.aclose()


async def test_oauth2_tokens_rotated_many_times_stay_redacted_and_bounded(
    target: Target, prober: HttpProber, secrets: KnownSecrets, clock: FakeClock
) -> None:
    server = OAuth2Server("slo-agent", "client-secret-xyz", clock, expires_in=10)
    target.route("/oauth/token", server.token_endpoint)
    target.route("/v1/health", server.resource)
    auth = OAuth2Auth(target.url("/oauth/token"), "slo-agent", "client-secret-xyz")
    check = HttpCheck(target.url("/v1/health"), auth=auth)

    sizes = []
    for _ in range(ROTATIONS):
        assert (await prober.observe(check)).ok
        sizes.append(len(secrets.values()))
        clock.now += 10  # every run finds its token expired: a new one each time

    assert server.token_requests == ROTATIONS
    last, previous = f"token-{ROTATIONS}", f"token-{ROTATIONS - 1}"
    assert logged(secrets, f"sent {last} then {previous}") == "sent REDACTED then REDACTED"
    # two tokens (current and previous) in two spellings, however many rotations
    assert max(sizes) == 4
    assert "token-1" not in secrets.values()


async def test_a_token_file_rotated_many_times_stays_redacted_and_bounded(
    target: Target, prober: HttpProber, secrets: KnownSecrets, tmp_path: Path
) -> None:
    canaries = [f"canary-{index:04d}-{uuid.uuid4().hex}" for index in range(ROTATIONS)]
    current = {"token": canaries[0]}
    target.route("/", RequireHeader("authorization", lambda: f"Bearer {current['token']}"))
    check = HttpCheck(target.url("/"), auth=BearerAuth(file=str(tmp_path / "token")))

    sizes = []
    for generation, canary in enumerate(canaries):
        current["token"] = canary
        mount_secret(tmp_path, canary, generation)
        assert (await prober.observe(check)).ok
        sizes.append(len(secrets.values()))
        assert logged(secrets, f"token {canary}") == "token REDACTED"

    assert max(sizes) == 4
    kept = {value for value in secrets.values() if "canary-" in value}
    assert kept == {canaries[-1], canaries[-2], f"Bearer {canaries[-1]}", f"Bearer {canaries[-2]}"}


def test_runtime_slots_are_bounded_too() -> None:
    secrets = KnownSecrets(max_slots=8)
    for index in range(100):
        secrets.rotate(("bearer-file", f"/run/secrets/{index}"), [f"slot-token-{index:03d}"])

    values = secrets.values()
    assert len(values) == 8
    assert "slot-token-099" in values
    assert "slot-token-091" not in values
