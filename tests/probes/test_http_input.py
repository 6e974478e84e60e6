"""What a probe sends and how it judges what comes back, against real loopback targets: URL
userinfo as Basic auth (never in a detail), and a catastrophic body_regex that cannot stall
the event loop."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.text_pattern import TextPattern
from tests.support.targets import Exchange, Reply, Target

USER, PASSWORD = "prober", "canary-pässword:42"


@dataclass(frozen=True, slots=True)
class BasicAuthRequired:
    """200 for the right credentials, else 401 with a challenge (as a real server does)."""

    user: str
    password: str

    async def serve(self, exchange: Exchange) -> bool:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if exchange.request.header("authorization") == f"Basic {token}":
            return await Reply(200, b"welcome").serve(exchange)
        challenge = {"WWW-Authenticate": 'Basic realm="probe"'}
        return await Reply(401, b"who are you", headers=challenge).serve(exchange)


def with_userinfo(url: str, userinfo: str) -> str:
    return url.replace("://", f"://{userinfo}@", 1)


@pytest.mark.parametrize("follow_redirects", [False, True])
async def test_url_userinfo_is_sent_as_basic_auth_like_httpx(
    follow_redirects: bool, target: Target, prober: HttpProber
) -> None:
    target.route("/private", BasicAuthRequired(USER, PASSWORD))
    url = with_userinfo(target.url("/private"), f"{USER}:canary-p%C3%A4ssword%3A42")
    async with httpx.AsyncClient(trust_env=False) as stock:
        assert (await stock.get(url)).status_code == 200

    observation = await prober.observe(HttpCheck(url=url, follow_redirects=follow_redirects))

    assert observation.ok, observation.detail
    request = target.requests[-1]
    assert request.target == "/private"
    assert request.header("host") == target.base_url.removeprefix("http://")


async def test_wrong_userinfo_is_a_status_failure(target: Target, prober: HttpProber) -> None:
    target.route("/private", BasicAuthRequired(USER, PASSWORD))
    url = with_userinfo(target.url("/private"), f"{USER}:wrong")

    observation = await prober.observe(HttpCheck(url=url))

    assert observation.reason is Reason.STATUS
    assert observation.status == 401


async def test_an_authorization_header_of_the_check_wins_over_userinfo(
    target: Target, prober: HttpProber
) -> None:
    target.route("/private", BasicAuthRequired(USER, PASSWORD))
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    url = with_userinfo(target.url("/private"), "someone:else")

    observation = await prober.observe(
        HttpCheck(url=url, headers={"authorization": f"Basic {token}"})
    )

    assert observation.ok, observation.detail
    assert [value for name, value in target.requests[-1].headers if name == "authorization"] == [
        f"Basic {token}"
    ]


async def test_userinfo_never_reaches_a_detail(prober: HttpProber) -> None:
    url = with_userinfo("http://127.0.0.1:1/", f"{USER}:{PASSWORD}")  # nothing listens on 1

    observation = await prober.observe(HttpCheck(url=url, timeout=timedelta(seconds=2)))

    assert observation.reason is Reason.CONNECT
    assert PASSWORD not in observation.detail
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in observation.detail


async def test_a_catastrophic_regex_neither_stalls_its_probe_nor_its_neighbours(
    target: Target, prober: HttpProber
) -> None:
    # (a+)+} on 100,000 "a"s: Python's re would backtrack 2**100000 times on the event loop
    target.route("/hostile", Reply(200, b"a" * 100_000))
    target.route("/health", Reply(200, b"ok"))
    hostile = HttpCheck(
        url=target.url("/hostile"),
        body_regex=TextPattern.compile(r"(a+)+\}"),
        timeout=timedelta(seconds=2),
    )
    healthy = HttpCheck(url=target.url("/health"), timeout=timedelta(seconds=2))
    runs = 20

    async def probe_healthy() -> list[Reason]:
        return [(await prober.observe(healthy)).reason for _ in range(runs)]

    async def probe_hostile() -> list[Reason]:
        return [(await prober.observe(hostile)).reason for _ in range(runs)]

    healthy_reasons, hostile_reasons = await asyncio.gather(probe_healthy(), probe_hostile())

    assert hostile_reasons == [Reason.ASSERTION] * runs  # judged, not timed out
    assert healthy_reasons == [Reason.OK] * runs
    assert sum(r.path == "/health" for r in target.requests) == runs
    detail = (await prober.observe(hostile)).detail
    assert detail == "body does not match /(a+)+\\}/"
