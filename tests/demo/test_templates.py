"""The bundled demo specs render into real v1 spec files that load."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.demo.faults import DEMO_NODES
from agent.demo.templates import demo_templates, render_demo_specs, render_template
from agent.model import HttpCheck, Mode, RollingWindow, Severity, SpecSet
from agent.probe_kinds.tcp import TcpCheck
from agent.slo.alerts import burn_factor
from agent.slo.burn import burn_rate
from tests.support.builders import probe_sli

from .conftest import FAKE_PORTS, FAKE_URLS

HOUR = 3600


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_templates_are_bundled_package_data() -> None:
    names = [template.name for template in demo_templates()]
    assert names == [
        "alert-windows.yaml",
        "checkout.yaml",
        "decision-policy.yaml",
        "inventory.yaml",
        "payments.yaml",
        "shipping.yaml",
        "storefront.yaml",
    ]


def test_rendering_writes_readable_files_without_placeholders(
    rendered: list[Path], tmp_path: Path
) -> None:
    assert rendered == sorted(rendered)
    assert [path.parent for path in rendered] == [tmp_path / "specs"] * len(rendered)
    for path in rendered:
        text = path.read_text(encoding="utf-8")
        assert "{{" not in text
        assert text.startswith("# slo-agent demo spec")
    inventory = (tmp_path / "specs" / "inventory.yaml").read_text(encoding="utf-8")
    assert 'url: "http://127.0.0.1:41001/health"' in inventory
    assert "port: 41001" in inventory
    assert 'host: "127.0.0.1"' in inventory


def test_rendering_again_overwrites(rendered: list[Path], tmp_path: Path) -> None:
    urls = {node: url.replace("127.0.0.1", "localhost") for node, url in FAKE_URLS.items()}
    again = render_demo_specs(urls, FAKE_PORTS, tmp_path / "specs")
    assert again == rendered
    assert "http://localhost:41000/products" in again[-1].read_text(encoding="utf-8")


def test_an_unknown_placeholder_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{\{warehouse\}\}"):
        render_template('url: "{{warehouse}}/x"', FAKE_URLS, FAKE_PORTS)


def test_a_missing_node_url_fails_rendering(tmp_path: Path) -> None:
    urls = {node: url for node, url in FAKE_URLS.items() if node != "slowfreight"}
    with pytest.raises(ValueError, match=r"shipping.yaml: unknown placeholder \{\{slowfreight\}\}"):
        render_demo_specs(urls, FAKE_PORTS, tmp_path)


def test_every_demo_node_loads(demo_specs: SpecSet) -> None:
    assert sorted(node.name for node in demo_specs.nodes) == sorted(DEMO_NODES)
    assert set(demo_specs.alert_windows) == {"default", "demo-fast"}


def test_every_node_is_complete(demo_specs: SpecSet) -> None:
    for node in demo_specs.nodes:
        assert node.owner
        assert node.capability
        assert node.alerting.windows == "demo-fast"
        assert node.alerting.annotations["runbook_url"].endswith(node.name)
        assert node.decision.brand_control is not None
        assert node.decision.differentiation is not None
        assert node.decision.cost is not None
        assert node.slos
        for probe in node.probes:
            assert probe.interval in (_s(1), _s(2))
        for slo in node.slos:
            assert slo.window == RollingWindow(_s(HOUR))
            assert slo.objective in (0.99, 0.995, 0.9995)  # acme-pay: the strict one
        if node.mode is Mode.ORCHESTRATED:
            assert node.partner is not None
            assert node.partner.contract.availability is not None
            assert node.partner.contract.latency_under is not None
        else:
            assert node.partner is None


def test_modes_capabilities_and_fallbacks(demo_specs: SpecSet) -> None:
    by_name = {node.name: node for node in demo_specs.nodes}
    assert {n for n, node in by_name.items() if node.mode is Mode.OPERATED} == {
        "storefront",
        "inventory",
    }
    assert by_name["acme-pay"].capability == by_name["backup-pay"].capability == "payments"
    assert by_name["fastship"].capability == by_name["slowfreight"].capability == "shipping"
    (fallback,) = by_name["acme-pay"].fallbacks
    assert fallback.node == "backup-pay"
    assert fallback.drill is not None
    assert fallback.drill.check.url == f"{FAKE_URLS['backup-pay']}/v1/health"
    assert fallback.drill.check.headers == {"X-Route": "backup"}
    assert [f.node for f in by_name["fastship"].fallbacks] == ["slowfreight"]
    assert by_name["fastship"].fallbacks[0].drill is None


def test_inventory_is_also_probed_over_tcp(demo_specs: SpecSet) -> None:
    checks = [probe.check for probe in demo_specs.node("inventory").probes]
    assert TcpCheck(host="127.0.0.1", port=FAKE_PORTS["inventory"], timeout=_s(1)) in checks
    assert any(isinstance(check, HttpCheck) for check in checks)


def test_latency_slos_on_storefront_and_both_carriers(demo_specs: SpecSet) -> None:
    thresholds = {
        node.name: limit.total_seconds()
        for node in demo_specs.nodes
        for slo in node.slos
        if (limit := probe_sli(slo).latency_under) is not None
    }
    assert thresholds == {"storefront": 0.25, "fastship": 0.5, "slowfreight": 0.8}


def test_demo_fast_windows_burn_factors(demo_specs: SpecSet) -> None:
    windows = demo_specs.alert_windows["demo-fast"]
    factors = {tier.severity: burn_factor(tier, _s(HOUR)) for tier in windows.tiers}
    assert factors == {Severity.PAGE: pytest.approx(2.4), Severity.TICKET: pytest.approx(1.2)}
    page = factors[Severity.PAGE]
    # an outage at 99% burns at 100, the storefront burst (20%) at 20, inventory's (30%) at 30
    burns = [burn_rate(bad, 100, 0.99) for bad in (100, 20, 30)]
    assert burns == pytest.approx([100, 20, 30])
    assert min(burns) > page
