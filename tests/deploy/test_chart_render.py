"""helm lint --strict, kubernetes-validate (Kubernetes 1.32, strict) and golden files for the
default render, each example values file and the sidecar host chart.

Refresh the goldens (tests/golden/helm/) after an intended change with
``pytest --update-golden`` and review the diff.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import CHART, CRD_KINDS, Helm, documents, kubernetes_validate
from tests.deploy.renders import RENDERS

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "helm"
NAMES = sorted(RENDERS)


@pytest.mark.parametrize("name", NAMES)
def test_helm_lint_strict_is_clean(name: str, helm: Helm, shop_api: Path) -> None:
    render = RENDERS[name]
    args = ["lint", "--strict", str(render.chart(shop_api))]
    for path in render.values:
        args += ["--values", str(path)]
    for item in render.sets:
        args += ["--set", item]
    done = helm.run(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout
    assert "[WARNING]" not in done.stdout, done.stdout
    assert "[ERROR]" not in done.stdout, done.stdout


@pytest.mark.parametrize("name", NAMES)
def test_render_validates_against_kubernetes_1_32(name: str, helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS[name].text(helm, shop_api)
    done = kubernetes_validate(rendered)
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout + done.stderr
    for doc in documents(rendered):
        kind, name_ = doc["kind"], doc["metadata"]["name"]
        if kind in CRD_KINDS:
            assert f"Couldn't find schema for kind {kind}" in report
        else:
            assert f"passed for resource {kind.lower()}/{name_} " in report, report
    assert "ERROR" not in report


@pytest.mark.parametrize("name", NAMES)
def test_render_matches_golden(name: str, helm: Helm, shop_api: Path, update_golden: bool) -> None:
    rendered = RENDERS[name].text(helm, shop_api)
    golden = GOLDEN / f"{name}.yaml"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"{golden} is missing: run pytest --update-golden"
    assert rendered == golden.read_text(), f"{golden.name} differs: review, then --update-golden"
    assert rendered == RENDERS[name].text(helm, shop_api), "two renders must give the same bytes"


@pytest.mark.parametrize("name", NAMES)
def test_every_object_carries_the_recommended_labels(name: str, helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS[name].text(helm, shop_api)
    own = [d for d in documents(rendered) if "slo-agent" in d["metadata"]["name"]]
    assert own
    for doc in own:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "slo-agent", doc["metadata"]
        assert labels["app.kubernetes.io/instance"] == RENDERS[name].release()
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == chart_meta()["appVersion"]


def chart_meta() -> dict[str, str]:
    meta: dict[str, str] = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return meta


def test_the_image_tag_is_the_charts_app_version() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["image"]["tag"] == chart_meta()["appVersion"]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("replicas=0", "at '/replicas': minimum: got 0, want 1"),
        ("mode=daemon", "at '/mode': value must be one of 'standalone', 'sidecar'"),
        ("specs.broken\\.yaml=1", "at '/specs/broken.yaml': got number, want string"),
        ("servicemonitor.enabled=true", "additional properties 'servicemonitor' not allowed"),
    ],
)
def test_values_schema_rejects_bad_values(setting: str, message: str, helm: Helm) -> None:
    done = helm.run("lint", "--strict", str(CHART), "--set", setting)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr, done.stdout + done.stderr


def notes(helm: Helm, directory: Path, *sets: str) -> str:
    """NOTES.txt as rendered for ``sets`` (helm only shows it on install, which needs a cluster:
    a copy of the chart renders it into a YAML string instead)."""
    chart = directory / "slo-agent"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("examples"))
    (chart / "templates" / "notes-text.yaml").write_text(
        'notes: |\n  {{- include "slo-agent/templates/NOTES.txt" . | nindent 2 }}\n'
    )
    args = [f"--set={item}" for item in sets]
    done = helm.run(
        "template",
        "slo",
        str(chart),
        "-n",
        "monitoring",
        *args,
        "--show-only",
        "templates/notes-text.yaml",
    )
    assert done.returncode == 0, done.stderr
    text: str = yaml.safe_load(done.stdout)["notes"]
    return text


def test_notes_tell_how_to_reach_the_agent(helm: Helm, tmp_path: Path) -> None:
    text = notes(helm, tmp_path)
    assert "slo-agent is running as Deployment slo-slo-agent." in text
    assert "kubectl -n monitoring port-forward svc/slo-slo-agent 9464:9464" in text
    assert "Specs: example.yaml in ConfigMap slo-slo-agent-specs (reloaded on change)." in text
    assert "budgets start over when a pod is replaced" in text


def test_notes_of_a_sharded_release_name_the_shards(helm: Helm, tmp_path: Path) -> None:
    text = notes(helm, tmp_path, "replicas=3", "store.persistence.enabled=true")
    assert "StatefulSet slo-slo-agent with 3 shards (pod N probes shard N/3)" in text
    assert "budgets start over" not in text
