"""The whole agent against loopback TLS servers whose certificates have known notAfter dates:
the expiry metric, the certificate SLO, the status page's days left, and
``CertificateExpiringSoon`` pushed to a real Alertmanager with the rules' labels."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from agent.app import running_agent
from exporters.alerting import CERTIFICATE_EXPIRING, certificate_labels
from tests.support.agents import options, scrape, write_specs
from tests.support.alertmanager import AlertmanagerServer
from tests.support.certificates import Authority
from tests.support.fakes import eventually
from tests.support.promtool import check_metrics
from tests.support.targets import Reply, Target

NOW = datetime.now(UTC).replace(microsecond=0)
EXPIRY = "slo_agent_tls_cert_expiry_timestamp_seconds"

SPEC = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: relay}}
spec:
  mode: orchestrated
  owner: platform
  capability: email
  partner: {{name: Relay Co}}
  probes:
    - name: api
      interval: 1s
      http: {{url: "{api}", verify_tls: false, timeout: 1s}}
    - name: smtps
      interval: 1s
      tls: {{host: 127.0.0.1, port: {smtps}, ca_file: "{ca}", timeout: 1s}}
    - name: legacy
      interval: 1s
      tls: {{host: 127.0.0.1, port: {legacy}, ca_file: "{ca}", timeout: 1s}}
  slos:
    - {{name: api-cert, objective: 99, window: 3d, sli: {{probe: api, cert_valid_for: 30d}}}}
    - {{name: smtps-cert, objective: 99, window: 3d, sli: {{probe: smtps, cert_valid_for: 10d}}}}
  alerting:
    labels: {{team: platform}}
"""


async def test_expiry_slo_page_and_alert_from_certificates_with_known_dates(
    tmp_path: Path,
) -> None:
    authority = Authority(tmp_path, NOW)
    api = authority.issue("api", not_after=NOW + timedelta(days=40, hours=1))
    smtps = authority.issue("smtps", not_after=NOW + timedelta(days=9, hours=1))
    legacy = authority.issue("legacy", not_after=NOW - timedelta(days=10, hours=1))
    async with (
        Target({"/": Reply(200)}, server_tls=api.server_context()) as api_server,
        Target(server_tls=smtps.server_context()) as smtps_server,
        Target(server_tls=legacy.server_context()) as legacy_server,
    ):
        spec = SPEC.format(
            api=api_server.url("/"),
            smtps=smtps_server.port,
            legacy=legacy_server.port,
            ca=authority.ca_file,
        )
        spec_dir = write_specs(tmp_path / "specs", relay=spec)
        with AlertmanagerServer(tmp_path) as alertmanager:
            run = options(spec_dir, tmp_path / "store.db")
            run = dataclasses.replace(run, alertmanager_urls=(alertmanager.url,))

            async def pushed() -> list[dict[str, Any]]:
                alerts = await asyncio.to_thread(alertmanager.alerts)
                return [a for a in alerts if a["labels"]["alertname"] == CERTIFICATE_EXPIRING]

            async with running_agent(run, {}) as running:
                node = running.agent.specs.node("relay")

                async def all_seen() -> bool:
                    snapshot = running.agent.snapshot
                    return snapshot is not None and len(snapshot.certificates) == 3

                await eventually(all_seen, within=30)

                async def two_alerts() -> bool:
                    return len(await pushed()) == 2

                await eventually(two_alerts, within=30)
                alerts = await pushed()
                await running.agent.flush()
                await running.agent.evaluate()
                samples = await scrape(running.url)
                async with httpx.AsyncClient() as client:
                    exposition = (await client.get(f"{running.url}/metrics")).content
                    page = (await client.get(f"{running.url}/")).text
                    status = (await client.get(f"{running.url}/api/v1/status")).json()

    def expiry(probe: str) -> float:
        return samples[(EXPIRY, frozenset({("node", "relay"), ("probe", probe)}))]

    assert expiry("api") == api.not_after.timestamp()
    assert expiry("smtps") == smtps.not_after.timestamp()
    # an expired certificate fails the probe (tls) and its expiry is still recorded
    assert expiry("legacy") == legacy.not_after.timestamp()
    lint = check_metrics(exposition)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    # 40 days left >= 30: good; 9 days left < 10: bad, although every smtps handshake worked
    [node_status] = status["nodes"]
    slis = {s["slo"]: s["windows"]["1h"] for s in node_status["slos"]}
    assert slis["api-cert"]["total"] > 0
    assert slis["api-cert"]["bad"] == 0
    assert slis["smtps-cert"]["total"] > 0
    assert slis["smtps-cert"]["bad"] == slis["smtps-cert"]["total"]

    certs = {c["probe"]: c for c in node_status["certificates"]}
    assert certs["smtps"]["not_after"] == smtps.not_after.timestamp()
    assert (certs["smtps"]["expiring"], certs["smtps"]["warning_days"]) == (True, 10)
    assert (certs["api"]["expiring"], certs["api"]["warning_days"]) == (False, 30)
    assert 40 < certs["api"]["days_left"] < 40 + 1 / 24 + 0.01
    assert "api: 40 days left" in page
    assert "smtps: 9 days left" in page
    assert "legacy: expired 10 days ago" in page

    # smtps (9 days < its 10d SLO threshold) and legacy (expired < 14 days default); not api
    by_probe = {a["labels"]["probe"]: a for a in alerts}
    assert sorted(by_probe) == ["legacy", "smtps"]
    for probe, alert in by_probe.items():
        assert alert["labels"] == {
            "alertname": CERTIFICATE_EXPIRING,
            **certificate_labels(node, probe),
        }
    assert by_probe["smtps"]["labels"]["team"] == "platform"
    assert by_probe["legacy"]["annotations"]["summary"] == (
        "The TLS certificate of relay/legacy expired 10 days ago"
    )
    assert by_probe["smtps"]["annotations"]["summary"] == (
        "The TLS certificate of relay/smtps expires in 9 days"
    )
