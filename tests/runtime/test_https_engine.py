"""``--https-engine curl|python``: the choice reaches the HTTP prober of the agent's process and
of its probe workers. Which transport ran is seen from outside, on a real verified handshake:
a loopback HTTPS partner (trustme certificate) that offers only the P-521 key-exchange group,
which OpenSSL (Python's ``ssl``) supports and BoringSSL (libcurl in curl_cffi) does not offer,
so a probe on libcurl fails as ``tls`` and one on Python's ``ssl`` succeeds. A bad value is one
line naming the option and what is allowed, exit 2; the agent says at start which one it uses."""

from __future__ import annotations

import dataclasses
import logging
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from typer.testing import CliRunner

from agent.app import running_agent, worker_settings
from agent.cli.main import app
from agent.probes.https_engine import CURL_AVAILABLE, HttpsEngine
from tests.support.agents import options, scrape, write_specs
from tests.support.builders import spec_set
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

pytestmark = pytest.mark.skipif(not CURL_AVAILABLE, reason="curl_cffi is a dependency")

STARTUP = 60.0  # seconds a worker may take to import and start on a busy machine


@dataclasses.dataclass(frozen=True)
class Partner:
    url: str
    ca_file: Path


@pytest.fixture
async def p521_partner(tmp_path: Path) -> AsyncIterator[Partner]:
    """An HTTPS partner whose server offers only the P-521 group (TLS 1.2 and 1.3)."""
    ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    server.set_ecdh_curve("secp521r1")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    async with Target({"/health": Reply(200, b"ok")}, server_tls=server) as target:
        yield Partner(target.url("/health"), ca_file)


def _spec(partner: Partner) -> str:
    http = f'{{url: "{partner.url}", timeout: 500ms, tls: {{ca_file: "{partner.ca_file}"}}}}'
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: partner}}
spec:
  mode: orchestrated
  owner: sre
  capability: api
  partner: {{name: Partner}}
  probes:
    - {{name: health, interval: 500ms, http: {http}}}
  slos:
    - {{name: availability, objective: 99, window: 3d, sli: {{probe: health}}}}
"""


def _results(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, float]:
    """Reason -> the partner's probe results so far."""
    out: dict[str, float] = {}
    for (name, labels), value in samples.items():
        label = dict(labels)
        if name == "slo_agent_probe_results_total" and label.get("node") == "partner":
            out[label["reason"]] = out.get(label["reason"], 0.0) + value
    return out


@pytest.mark.parametrize("workers", [1, 2], ids=["agent-process", "probe-workers"])
@pytest.mark.parametrize("engine", [HttpsEngine.CURL, HttpsEngine.PYTHON])
async def test_the_engine_reaches_every_prober(
    engine: HttpsEngine,
    workers: int,
    p521_partner: Partner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agent.app")
    specs = write_specs(tmp_path / "specs", partner=_spec(p521_partner))
    opts = dataclasses.replace(
        options(specs, tmp_path / "store.db"), https_engine=engine, probe_workers=workers
    )
    async with running_agent(opts, dict(os.environ)) as running:
        if workers > 1:
            assert running.agent.workers is not None  # the probes run in other processes

        async def probed() -> bool:
            return sum(_results(await scrape(running.url)).values()) >= 3

        await eventually(probed, within=STARTUP)
        results = _results(await scrape(running.url))

    if engine is HttpsEngine.CURL:  # BoringSSL offers no P-521: no handshake
        assert set(results) == {"tls"}, results
    else:
        assert set(results) == {"ok"}, results
    assert f"HTTPS probes use {engine.described} (--https-engine {engine})" in caplog.messages


def test_workers_are_told_the_agents_engine(tmp_path: Path) -> None:
    for engine in HttpsEngine:
        opts = dataclasses.replace(
            options(tmp_path, tmp_path / "s.db"), probe_workers=2, https_engine=engine
        )
        settings = worker_settings(opts, {}, spec_set())
        assert settings is not None
        assert f"--https-engine={engine}" in settings.command


@pytest.mark.parametrize("value", ["tls", "Curl", "openssl", ""])
def test_a_bad_engine_is_one_line_and_exit_2(value: str) -> None:
    done = CliRunner().invoke(app, ["run", "--https-engine", value, "--store", os.devnull])
    assert done.exit_code == 2, done.output
    text = " ".join(done.output.replace("│", " ").split())
    assert "'--https-engine'" in text
    assert f"{value!r} is not an HTTPS engine: use curl or python" in text
    assert "Traceback" not in done.output


def test_the_environment_variable_is_checked_alike() -> None:
    done = CliRunner().invoke(
        app, ["run", "--store", os.devnull], env={"SLO_AGENT_HTTPS_ENGINE": "boring"}
    )
    assert done.exit_code == 2, done.output
    text = " ".join(done.output.replace("│", " ").split())
    assert "'boring' is not an HTTPS engine: use curl or python" in text
