"""What the chart carries from the product: the PrometheusRule (exactly `slo-agent rules
--format operator` for the specs, accepted by promtool), the Grafana dashboards ConfigMap, and
the generated files under helm/slo-agent/files/ being current."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.cli.rules import rules
from exporters.prometheus.rules import RuleFormat
from tests.deploy.chart import CHART, ROOT, Helm, by_kind, kubernetes_validate, named, one
from tests.exporters.rules.promtool_check import assert_valid

CUSTOM_SPEC = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {name: acme-pay}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {name: Acme Pay}
  probes:
    - {name: health, interval: 30s, http: {url: "https://pay.example/health"}}
  slos:
    - {name: availability, objective: 99.5, window: 30d, sli: {probe: health}}
"""


def operator_output(specs: Mapping[str, str], directory: Path) -> str:
    """What ``slo-agent rules --format operator`` prints for these spec files."""
    spec_dir = directory / "specs"
    spec_dir.mkdir()
    for name, text in specs.items():
        (spec_dir / name).write_text(text)
    out = io.StringIO()
    assert rules([str(spec_dir)], {}, RuleFormat.OPERATOR, out) == 0
    return out.getvalue()


def chart_specs() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((CHART / "files" / "specs").glob("*.yaml"))}


def groups_file(rule: dict[str, Any], directory: Path) -> Path:
    path = directory / "groups.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    return path


def test_the_rule_holds_what_slo_agent_rules_prints_for_the_default_specs(
    helm: Helm, tmp_path: Path
) -> None:
    rendered = helm.template(CHART, "slo", sets=["prometheusRule.enabled=true"])
    rule = one(rendered, "PrometheusRule")
    expected = yaml.safe_load(operator_output(chart_specs(), tmp_path))
    assert rule["spec"] == expected["spec"]
    assert rule["metadata"]["name"] == "slo-slo-agent"
    assert rule["metadata"]["labels"]["app.kubernetes.io/instance"] == "slo"
    assert assert_valid(groups_file(rule, tmp_path)) > 0


def test_custom_specs_take_their_rules_from_a_file(helm: Helm, tmp_path: Path) -> None:
    text = operator_output({"acme-pay.yaml": CUSTOM_SPEC}, tmp_path)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(text)
    spec_file = tmp_path / "acme-pay.yaml"
    spec_file.write_text(CUSTOM_SPEC)
    rendered = helm.template(
        CHART,
        "slo",
        sets=["prometheusRule.enabled=true"],
        set_files=[f"specs.acme-pay\\.yaml={spec_file}", f"prometheusRule.rules={rules_file}"],
    )
    assert named(rendered, "ConfigMap", "slo-slo-agent-specs")["data"] == {
        "acme-pay.yaml": CUSTOM_SPEC
    }
    rule = one(rendered, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(text)["spec"]
    assert {g["name"] for g in rule["spec"]["groups"]} >= {"slo-agent/acme-pay/availability/alerts"}
    assert assert_valid(groups_file(rule, tmp_path)) > 0


def test_custom_specs_without_their_rules_are_refused(helm: Helm, tmp_path: Path) -> None:
    spec_file = tmp_path / "acme-pay.yaml"
    spec_file.write_text(CUSTOM_SPEC)
    error = helm.template_error(
        CHART,
        "slo",
        sets=["prometheusRule.enabled=true"],
        set_files=[f"specs.acme-pay\\.yaml={spec_file}"],
    )
    assert "the chart only carries the rules of its default specs" in error
    assert "--set-file prometheusRule.rules=rules.yaml" in error
    error = helm.template_error(
        CHART, "slo", sets=["prometheusRule.enabled=true", "existingConfigMap=team-specs"]
    )
    assert "the chart only carries the rules of its default specs" in error


def test_rules_text_that_is_not_a_prometheusrule_is_refused(helm: Helm, tmp_path: Path) -> None:
    wrong = tmp_path / "rules.yaml"
    wrong.write_text("groups: []\n")
    error = helm.template_error(
        CHART,
        "slo",
        sets=["prometheusRule.enabled=true"],
        set_files=[f"prometheusRule.rules={wrong}"],
    )
    assert "expected the output of `slo-agent rules --format operator`" in error


def test_dashboards_become_a_configmap_for_grafanas_sidecar(helm: Helm, tmp_path: Path) -> None:
    chart = tmp_path / "slo-agent"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("examples"))
    for old in (chart / "files" / "dashboards").glob("*.json"):
        old.unlink()
    dashboard = json.dumps({"title": "SLO overview", "panels": []}, indent=2) + "\n"
    (chart / "files" / "dashboards" / "overview.json").write_text(dashboard)
    rendered = helm.template(chart, "slo")
    configmaps = {c["metadata"]["name"]: c for c in by_kind(rendered, "ConfigMap")}
    board = configmaps["slo-slo-agent-dashboards"]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert board["data"] == {"overview.json": dashboard}
    off = helm.template(chart, "slo", sets=["dashboards.enabled=false"])
    assert "slo-slo-agent-dashboards" not in {
        c["metadata"]["name"] for c in by_kind(off, "ConfigMap")
    }


def test_the_chart_ships_the_projects_dashboards(helm: Helm) -> None:
    shipped = {p.name: p.read_text() for p in sorted((ROOT / "dashboards").glob("*.json"))}
    rendered = helm.template(CHART, "slo")
    configmaps = {c["metadata"]["name"]: c for c in by_kind(rendered, "ConfigMap")}
    if shipped:
        assert configmaps["slo-slo-agent-dashboards"]["data"] == shipped
    else:
        assert "slo-slo-agent-dashboards" not in configmaps
    done = kubernetes_validate(rendered)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_chart_files_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chart-files.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr + "\n(run `make chart-files`)"


@pytest.mark.parametrize("stale", ["rules", "dashboard"])
def test_the_currency_check_notices_stale_files(stale: str, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    chart = root / "helm" / "slo-agent"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("examples"))
    (root / "dashboards").mkdir()
    script = root / "scripts" / "chart-files.py"
    script.parent.mkdir()
    shutil.copy(ROOT / "scripts" / "chart-files.py", script)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), "--check"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )

    for old in (chart / "files" / "dashboards").glob("*.json"):
        old.unlink()
    assert check().returncode == 0, check().stderr
    if stale == "rules":
        spec = chart / "files" / "specs" / "example.yaml"
        spec.write_text(spec.read_text().replace("objective: 99.9,", "objective: 99.5,"))
        expected = "stale: helm/slo-agent/files/prometheusrule.yaml"
    else:
        (root / "dashboards" / "node.json").write_text("{}\n")
        expected = "stale: helm/slo-agent/files/dashboards/node.json"
    done = check()
    assert done.returncode == 1
    assert expected in done.stderr
