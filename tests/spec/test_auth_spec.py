"""``auth`` in specs: the node's block reaches its probes, drills and journey steps to it; a
request's own block wins; secrets come from the environment and are known to the redaction."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agent.journeys.runner import JourneyRunner
from agent.model import BasicAuth, BearerAuth, HttpCheck, OAuth2Auth
from agent.probes.http import HttpProber
from agent.redaction import spec_secrets
from agent.spec.loader import load_specs
from tests.journeys.support import NODES, FakeTracer, journey, step
from tests.spec.helpers import write
from tests.support.targets import Reply, Target

PAY = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {name: pay}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {name: Acme Pay}
  auth:
    oauth2:
      token_url: https://auth.pay.example/token
      client_id: slo-agent
      client_secret: ${PAY_CLIENT_SECRET}
      scopes: [payments.read, payments.write]
  probes:
    - name: health
      http: {url: "https://pay.example/health"}
    - name: files
      http:
        url: "https://pay.example/files"
        auth: {bearer: {file: /var/run/secrets/pay/token}}
    - name: charge
      http:
        url: "https://pay.example/charge?at=${run.time}"
        method: POST
        headers: {Idempotency-Key: "${run.uuid}", X-Trace: "${TRACE_TAG}"}
        auth: {basic: {user: "${PAY_USER}", password: "${PAY_PASSWORD}"}}
  fallbacks:
    - node: backup
      drill: {every: 1h, http: {url: "https://backup.example/health"}}
---
apiVersion: slo-agent/v1
kind: Node
metadata: {name: backup}
spec:
  mode: operated
  owner: payments
  capability: payments
  probes:
    - name: health
      http: {url: "https://backup.example/health"}
"""

ENV = {
    "PAY_CLIENT_SECRET": "client-secret-0123",
    "PAY_USER": "probe",
    "PAY_PASSWORD": "password-4567",
    "TRACE_TAG": "synthetic",
}


def test_the_nodes_auth_reaches_its_probes_and_drills_and_a_probes_own_wins(
    tmp_path: Path,
) -> None:
    specs = load_specs([write(tmp_path, "pay.yaml", PAY)], ENV)
    pay = specs.node("pay")
    oauth2 = OAuth2Auth(
        "https://auth.pay.example/token",
        "slo-agent",
        "client-secret-0123",
        ("payments.read", "payments.write"),
    )
    checks = {probe.name: probe.check for probe in pay.probes}
    assert isinstance(checks["charge"], HttpCheck)
    assert pay.auth == oauth2
    assert [getattr(check, "auth", None) for check in checks.values()] == [
        oauth2,
        BearerAuth(file="/var/run/secrets/pay/token"),
        BasicAuth("probe", "password-4567"),
    ]
    drill = pay.fallbacks[0].drill
    assert drill is not None
    assert drill.check.auth == oauth2
    assert specs.node("backup").probes[0].check.auth is None  # type: ignore[attr-defined]
    # run values stay for the prober; environment variables next to them are expanded
    assert checks["charge"].url == "https://pay.example/charge?at=${run.time}"
    assert checks["charge"].headers == {"Idempotency-Key": "${run.uuid}", "X-Trace": "synthetic"}


def test_auth_secrets_are_known_to_the_redaction(tmp_path: Path) -> None:
    specs = load_specs([write(tmp_path, "pay.yaml", PAY)], ENV)

    secrets = spec_secrets(specs)

    assert {"client-secret-0123", "password-4567", "Basic cHJvYmU6cGFzc3dvcmQtNDU2Nw=="} <= secrets


async def test_a_journey_step_uses_the_auth_of_the_node_it_goes_to() -> None:
    nodes = dict(NODES)
    nodes["acme-pay"] = dataclasses.replace(nodes["acme-pay"], auth=BearerAuth(token="node-token"))
    prober = HttpProber()
    async with Target({"/pay": Reply(200), "/cart": Reply(200)}) as target:
        checkout = journey(
            step("cart", "storefront", target.url("/cart")),
            step("authorize", "acme-pay", target.url("/pay")),
        )
        try:
            result = await JourneyRunner(prober, FakeTracer()).run(checkout, nodes)
        finally:
            await prober.aclose()

    assert result.ok
    cart, pay = target.requests
    assert cart.header("authorization") is None  # storefront has no auth
    assert pay.header("authorization") == "Bearer node-token"
