"""HTTPS probes record the peer certificate's notAfter, on both transports; plain HTTP none."""

from __future__ import annotations

import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.model import HttpCheck
from agent.probes import certificate
from agent.probes.http import HttpProber
from agent.probes.result import Outcome, Reason
from tests.support.certificates import Authority
from tests.support.targets import Reply, Target

pytestmark = pytest.mark.usefixtures("https_transport")

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize("keep_alive", [False, True], ids=["fresh", "keep-alive"])
async def test_an_https_probe_records_the_certificate_expiry(
    tmp_path: Path, keep_alive: bool
) -> None:
    authority = Authority(tmp_path, NOW)
    issued = authority.issue("site", not_after=NOW + timedelta(days=21, hours=3))
    prober = HttpProber()
    async with Target({"/": Reply(200)}, server_tls=issued.server_context()) as target:
        # the certificate is not trusted by the system store: verification off
        probe = HttpCheck(target.url("/"), verify_tls=False, keep_alive=keep_alive)
        first = await prober.observe(probe)
        second = await prober.observe(probe)
    await prober.aclose()

    assert first.outcome is Outcome.SUCCESS, first.detail
    assert first.cert_not_after == issued.not_after.timestamp()
    # a kept-alive connection has no new handshake, and keeps its certificate's expiry
    assert second.cert_not_after == (issued.not_after.timestamp() if not keep_alive else None)


async def test_a_plain_http_probe_has_no_certificate() -> None:
    prober = HttpProber()
    async with Target({"/": Reply(200)}) as target:
        observation = await prober.observe(HttpCheck(target.url("/")))
    await prober.aclose()

    assert observation.ok
    assert observation.cert_not_after is None


async def test_an_expired_certificate_fails_an_https_probe_as_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = Authority(tmp_path, NOW)
    issued = authority.issue("old", not_after=NOW - timedelta(days=3, hours=1))
    # the system trust store, as OpenSSL finds it, is the tests' CA: the chain is trusted, the
    # only fault is the date
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    prober = HttpProber()
    async with Target({"/": Reply(200)}, server_tls=issued.server_context()) as target:
        observation = await prober.observe(HttpCheck(target.url("/")))
    await prober.aclose()

    assert observation.reason is Reason.TLS
    when = issued.not_after.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert observation.detail == f"TLS certificate expired 3 days ago ({when})"
    assert observation.cert_not_after == issued.not_after.timestamp()


def test_days_text_rounds_down() -> None:
    assert certificate.days_text(86400 * 1.9) == "1 day"
    assert certificate.days_text(86400 * 14) == "14 days"
    assert certificate.days_text(0) == "0 days"


def test_expired_less_than_a_day_ago() -> None:
    expiry = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()

    detail = certificate.expired_detail(expiry, expiry + 3600)

    assert detail == "TLS certificate expired less than a day ago (2026-12-01 12:00:00 UTC)"


def test_no_ssl_object_no_expiry() -> None:
    assert certificate.not_after(None) is None
    assert certificate.of_transport(object()) is None


async def test_a_certificate_swapped_behind_the_same_target_is_read_at_once(
    tmp_path: Path,
) -> None:
    # notAfter is kept per certificate (its DER bytes), never per target: a rotated certificate
    # reports its own expiry from the first handshake that presents it
    authority = Authority(tmp_path, NOW)
    old = authority.issue("old", not_after=NOW + timedelta(days=5))
    new = authority.issue("new", not_after=NOW + timedelta(days=90))
    prober = HttpProber()
    seen = []
    for issued in (old, old, new, old):
        async with Target({"/": Reply(200)}, server_tls=issued.server_context()) as target:
            observation = await prober.observe(HttpCheck(target.url("/"), verify_tls=False))
        assert observation.ok, observation.detail
        seen.append(observation.cert_not_after)
    await prober.aclose()

    expected = [old.not_after, old.not_after, new.not_after, old.not_after]
    assert seen == [t.timestamp() for t in expected]


def test_cryptography_is_not_loaded_when_the_agent_starts() -> None:
    # it costs ~16 MB of RSS; only a probe that reads a certificate loads it
    code = "import sys, agent.app; print('cryptography' in sys.modules)"
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert ran.stdout.strip() == "False"


def test_curl_is_not_loaded_until_an_https_probe_needs_it() -> None:
    # importing curl_cffi costs ~0.3 s and ~8 MB: an agent without HTTPS probes never does
    code = (
        "import sys, asyncio, agent.app\n"
        "from agent.model import HttpCheck\n"
        "from agent.probes.http import HttpProber\n"
        "before = 'curl_cffi' in sys.modules\n"
        "async def main():\n"
        "    prober = HttpProber(env={})\n"
        "    await prober.observe(HttpCheck('https://127.0.0.1:9/', timeout=__import__("
        "'datetime').timedelta(seconds=1)))\n"
        "    await prober.aclose()\n"
        "asyncio.run(main())\n"
        "print(before, 'curl_cffi' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert ran.stdout.split() == ["False", "True"]


def test_reading_a_certificate_loads_cryptography(tmp_path: Path) -> None:
    # the same check's other side: the lazy import really happens (and the probe reads a date)
    code = (
        "import sys\n"
        "from agent.probes import certificate\n"
        "before = 'cryptography' in sys.modules\n"
        "print(before, certificate._parse_not_after(open(sys.argv[1], 'rb').read()) is not None,"
        " 'cryptography' in sys.modules)\n"
    )
    authority = Authority(tmp_path, NOW)
    issued = authority.issue("site", not_after=NOW + timedelta(days=3))
    der = tmp_path / "site.der"
    der.write_bytes(ssl.PEM_cert_to_DER_cert(issued.cert_file.read_text()))
    ran = subprocess.run(
        [sys.executable, "-c", code, str(der)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert ran.stdout.split() == ["False", "True", "True"]
