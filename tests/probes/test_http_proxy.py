"""HTTP probes through a real forward proxy (tinyproxy on loopback): chosen by the standard
environment variables or by the check's own ``proxy``, bypassed for ``NO_PROXY`` targets; the
proxy's log proves which requests went through it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from agent.model import HttpCheck, TlsSettings
from agent.probes.http import HttpProber
from agent.probes.proxy import ProxyEnvironment
from agent.probes.result import Reason
from tests.support.targets import Reply, Target
from tests.support.tinyproxy import Tinyproxy


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    with Tinyproxy(tmp_path) as running:
        yield running


@pytest.fixture
async def site() -> AsyncIterator[Target]:
    async with Target({"/": Reply(200, b"ok")}) as running:
        yield running


async def probe(check: HttpCheck, env: dict[str, str] | None = None) -> tuple[Reason, str]:
    prober = HttpProber(env=env)
    try:
        observation = await prober.observe(check)
    finally:
        await prober.aclose()
    return observation.reason, observation.detail


async def test_http_proxy_from_the_environment(proxy: Tinyproxy, site: Target) -> None:
    reason, detail = await probe(HttpCheck(url=site.url("/")), {"HTTP_PROXY": proxy.url})
    assert reason is Reason.OK, detail
    assert proxy.relayed(f"GET http://127.0.0.1:{site.port}/")
    assert site.request_count == 1


async def test_the_process_environment_is_the_default(
    proxy: Tinyproxy, site: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    reason, detail = await probe(HttpCheck(url=site.url("/")))
    assert reason is Reason.OK, detail
    assert proxy.relayed(f"GET http://127.0.0.1:{site.port}/")


async def test_https_through_a_connect_tunnel(
    proxy: Tinyproxy, tls_target: Target, tmp_path: Path
) -> None:
    tls_target.route("/", Reply(200, b"ok"))
    assert tls_target.ca is not None
    tls_target.ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    check = HttpCheck(url=tls_target.url("/"), tls=TlsSettings(ca_file=str(tmp_path / "ca.pem")))
    reason, detail = await probe(check, {"HTTPS_PROXY": proxy.url})
    assert reason is Reason.OK, detail
    assert proxy.relayed(f"CONNECT 127.0.0.1:{tls_target.port}")


async def test_the_checks_own_proxy(proxy: Tinyproxy, site: Target) -> None:
    reason, detail = await probe(HttpCheck(url=site.url("/"), proxy=proxy.url), {})
    assert reason is Reason.OK, detail
    assert proxy.relayed(f"GET http://127.0.0.1:{site.port}/")


async def test_no_proxy_targets_are_reached_directly(proxy: Tinyproxy, site: Target) -> None:
    env = {"HTTP_PROXY": proxy.url, "NO_PROXY": "example.com,127.0.0.1"}
    reason, detail = await probe(HttpCheck(url=site.url("/")), env)
    assert reason is Reason.OK, detail
    assert site.request_count == 1
    # the proxy is up and logs what it relays: another request through it shows in the log
    reason, _ = await probe(HttpCheck(url=site.url("/"), proxy=proxy.url), env)
    assert reason is Reason.OK
    assert len(proxy.relayed(f"GET http://127.0.0.1:{site.port}/")) == 1


async def test_proxy_credentials_are_sent_and_never_shown(tmp_path: Path, site: Target) -> None:
    with Tinyproxy(tmp_path, basic_auth=("probe", "s3cret-pw")) as proxy:
        with_credentials = f"http://probe:s3cret-pw@127.0.0.1:{proxy.port}"
        reason, detail = await probe(HttpCheck(url=site.url("/"), proxy=with_credentials), {})
        assert reason is Reason.OK, detail
        wrong = f"http://probe:wr0ng-pw@127.0.0.1:{proxy.port}"
        reason, detail = await probe(HttpCheck(url=site.url("/"), proxy=wrong), {})
    assert reason is Reason.STATUS  # tinyproxy answers a plain-HTTP request itself: 401
    assert detail == "expected status in [200-299], got 401"
    assert "wr0ng-pw" not in detail


async def test_a_proxy_that_is_down_fails_as_connect(site: Target) -> None:
    from tests.support.net import free_port

    down = f"http://127.0.0.1:{free_port()}"
    reason, detail = await probe(HttpCheck(url=site.url("/"), proxy=down), {})
    assert reason is Reason.CONNECT, detail
    assert site.request_count == 0


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypassed"),
    [
        ("", "http://api.partner.test/", False),
        ("*", "http://api.partner.test/", True),
        ("partner.test", "http://api.partner.test/", True),
        (".partner.test", "http://partner.test/", True),
        ("partner.test", "http://notpartner.test/", False),
        ("partner.test:8080", "http://api.partner.test:8080/", True),
        ("partner.test:8080", "http://api.partner.test/", False),
        ("10.0.0.0/8", "http://10.1.2.3/", True),
        ("10.0.0.0/8", "http://11.1.2.3/", False),
        ("[::1]:80, localhost", "http://[::1]/", True),
    ],
)
def test_no_proxy_matching(no_proxy: str, url: str, bypassed: bool) -> None:
    env = ProxyEnvironment({"HTTP_PROXY": "proxy.corp:3128", "NO_PROXY": no_proxy})
    expected = None if bypassed else "http://proxy.corp:3128"
    assert env.proxy_for(httpx.URL(url)) == expected


def test_lower_case_wins_and_all_proxy_is_the_fallback() -> None:
    env = ProxyEnvironment(
        {
            "https_proxy": "http://lower:1",
            "HTTPS_PROXY": "http://upper:1",
            "ALL_PROXY": "http://all:1",
        }
    )
    assert env.proxy_for(httpx.URL("https://a.test/")) == "http://lower:1"
    assert env.proxy_for(httpx.URL("http://a.test/")) == "http://all:1"
