"""Running the real helm binary (fetched by scripts/fetch-helm.py) and kubernetes-validate on
the chart, and reading what they render."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "slo-agent"
EXAMPLES = CHART / "examples"
HOST_EXAMPLE = EXAMPLES / "shop-api"
KUBERNETES_VERSION = "1.32.0"
CRD_KINDS = frozenset({"PrometheusRule", "ServiceMonitor"})  # no schema offline: warn only


def fetch_helm() -> Path:
    """The helm binary, installed into .tools/ by the project's script if it is not there."""
    python = shutil.which("python3") or sys.executable
    done = subprocess.run(
        [python, str(ROOT / "scripts" / "fetch-helm.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/fetch-helm.py failed:\n{done.stderr}")
    return Path(done.stdout.strip())


@dataclass(frozen=True, slots=True)
class Helm:
    binary: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, timeout=60, check=False
        )

    def template(
        self,
        chart: Path,
        release: str,
        values: Sequence[Path] = (),
        *,
        sets: Sequence[str] = (),
        set_files: Sequence[str] = (),
    ) -> str:
        """``helm template`` output; fails the test with helm's message if it does not render."""
        done = self.run(*template_args(chart, release, values, sets, set_files))
        assert done.returncode == 0, done.stderr
        return done.stdout

    def template_error(
        self, chart: Path, release: str, *, sets: Sequence[str] = (), set_files: Sequence[str] = ()
    ) -> str:
        done = self.run(*template_args(chart, release, (), sets, set_files))
        assert done.returncode != 0, "expected helm template to fail"
        return done.stderr


def template_args(
    chart: Path,
    release: str,
    values: Sequence[Path],
    sets: Sequence[str],
    set_files: Sequence[str],
) -> list[str]:
    args = ["template", release, str(chart), "--namespace", "monitoring"]
    for path in values:
        args += ["--values", str(path)]
    for item in sets:
        args += ["--set", item]
    for item in set_files:
        args += ["--set-file", item]
    return args


def documents(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def by_kind(rendered: str, kind: str) -> list[dict[str, Any]]:
    return [doc for doc in documents(rendered) if doc["kind"] == kind]


def one(rendered: str, kind: str) -> dict[str, Any]:
    found = by_kind(rendered, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def named(rendered: str, kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in by_kind(rendered, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def kubernetes_validate(rendered: str) -> subprocess.CompletedProcess[str]:
    """``kubernetes-validate -k 1.32.0 --strict -`` on the rendered manifests."""
    tool = Path(sys.executable).parent / "kubernetes-validate"
    if not tool.exists():
        pytest.fail("kubernetes-validate is not installed in .venv: run `make helm`")
    return subprocess.run(
        [str(tool), "-k", KUBERNETES_VERSION, "--strict", "-"],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def host_chart(directory: Path) -> Path:
    """examples/shop-api with the slo-agent chart unpacked in its charts/ (what
    ``helm dependency update`` would fetch)."""
    host = directory / "shop-api"
    shutil.copytree(HOST_EXAMPLE, host)
    shutil.copytree(CHART, host / "charts" / "slo-agent", ignore=shutil.ignore_patterns("examples"))
    return host


def pod_specs(rendered: str) -> list[dict[str, Any]]:
    return [
        doc["spec"]["template"]["spec"]
        for doc in documents(rendered)
        if doc["kind"] in ("Deployment", "StatefulSet")
    ]


def agent_container(pod: dict[str, Any]) -> dict[str, Any]:
    found = [c for c in pod["containers"] if c["image"].startswith("ghcr.io/slo-agent/")]
    assert len(found) == 1, [c["name"] for c in pod["containers"]]
    container: dict[str, Any] = found[0]
    return container
