"""From the spec to the wire: a node's ``proxy`` and ``tls`` blocks, loaded from YAML, take
its probes through a real tinyproxy to a real mTLS server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.model import HttpCheck
from agent.probes import Probers
from agent.probes.result import Reason
from agent.spec.loader import load_specs
from tests.probes.test_http_tls import client_files
from tests.support.mtls import MtlsServer
from tests.support.tinyproxy import Tinyproxy


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    with Tinyproxy(tmp_path) as running:
        yield running


def node(url: str, tls: str, proxy: str) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: partner}}
spec:
  mode: orchestrated
  owner: team
  capability: payments
  partner: {{name: Partner}}
  tls: {tls}
  proxy: {proxy}
  probes:
    - name: health
      http: {{url: "{url}"}}
"""


async def test_a_node_probed_through_its_proxy_with_its_client_certificate(
    proxy: Tinyproxy, tmp_path: Path
) -> None:
    with MtlsServer() as server:
        server.ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        cert, key = client_files(server.ca, tmp_path)
        tls = f"{{ca_file: {tmp_path / 'ca.pem'}, cert_file: {cert}, key_file: {key}}}"
        spec = tmp_path / "partner.yaml"
        spec.write_text(node(server.url, tls, proxy.url), encoding="utf-8")
        [loaded] = load_specs([spec], {}).nodes
        check = loaded.probes[0].check
        assert isinstance(check, HttpCheck)
        probers = Probers()
        try:
            observation = await probers.observe(check)
        finally:
            await probers.aclose()
    assert observation.reason is Reason.OK, observation.detail
    assert proxy.relayed(f"CONNECT 127.0.0.1:{server.port}")
