"""``tls`` and ``proxy`` declared per node or per request, as the checks receive them."""

from __future__ import annotations

from pathlib import Path

from agent.model import HttpCheck, TlsSettings
from agent.spec.loader import load_specs
from tests.spec.helpers import write

NODE = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {name: acme-pay}
spec:
  mode: orchestrated
  owner: checkout
  capability: payments
  partner: {name: Acme Pay}
  tls: {ca_file: /etc/acme/ca.pem, cert_file: /etc/acme/client.pem, min_version: TLS1.3}
  proxy: http://egress.corp:3128
  probes:
    - name: inherits
      http: {url: "https://pay.acme.example/health"}
    - name: overrides
      http:
        url: https://10.0.0.7/health
        tls: {server_name: pay.acme.example, min_version: TLS1.2}
        proxy: http://other.corp:8080
  fallbacks:
    - node: backup-pay
      drill: {every: 1h, http: {url: "https://pay.acme.example/backup"}}
---
apiVersion: slo-agent/v1
kind: Node
metadata: {name: backup-pay}
spec:
  mode: operated
  owner: checkout
  capability: payments
  probes:
    - name: plain
      http: {url: "https://backup.example/health"}
"""


def checks(tmp_path: Path) -> dict[str, HttpCheck]:
    specs = load_specs([write(tmp_path, "nodes.yaml", NODE)], {})
    found: dict[str, HttpCheck] = {}
    for node in specs.nodes:
        for probe in node.probes:
            assert isinstance(probe.check, HttpCheck)
            found[probe.name] = probe.check
        for fallback in node.fallbacks:
            assert fallback.drill is not None
            found[f"drill:{fallback.node}"] = fallback.drill.check
    return found


def test_probes_and_drills_inherit_the_nodes_tls_and_proxy(tmp_path: Path) -> None:
    found = checks(tmp_path)
    node_tls = TlsSettings(
        ca_file="/etc/acme/ca.pem", cert_file="/etc/acme/client.pem", min_version="TLS1.3"
    )
    assert found["inherits"].tls == node_tls
    assert found["inherits"].proxy == "http://egress.corp:3128"
    assert found["drill:backup-pay"].tls == node_tls
    assert found["drill:backup-pay"].proxy == "http://egress.corp:3128"


def test_a_requests_tls_overrides_field_by_field_and_its_proxy_replaces(tmp_path: Path) -> None:
    found = checks(tmp_path)
    assert found["overrides"].tls == TlsSettings(
        ca_file="/etc/acme/ca.pem",
        cert_file="/etc/acme/client.pem",
        server_name="pay.acme.example",
        min_version="TLS1.2",
    )
    assert found["overrides"].proxy == "http://other.corp:8080"


def test_a_node_without_them_leaves_the_environment_in_charge(tmp_path: Path) -> None:
    found = checks(tmp_path)
    assert found["plain"].tls is None
    assert found["plain"].proxy is None


def test_the_proxy_url_is_kept_out_of_repr() -> None:
    check = HttpCheck(url="https://a.example/", proxy="http://user:s3cret@egress.corp:3128")
    assert "s3cret" not in repr(check)
