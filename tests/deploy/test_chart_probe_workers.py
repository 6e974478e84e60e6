"""``probeWorkers``: passed to the agent as ``--probe-workers`` (left out at the default "", so
the agent decides by the size of its spec set and ``$SLO_AGENT_PROBE_WORKERS`` in ``env`` still
works), checked by the values schema, and the notes say what the workers cost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.chart import CHART, Helm, agent_container, one, pod_specs
from tests.deploy.renders import RENDERS
from tests.deploy.test_chart_render import notes


def _args(rendered: str) -> list[str]:
    [pod] = pod_specs(rendered)
    args: list[str] = agent_container(pod)["args"]
    return args


def test_the_default_runs_no_probe_workers(helm: Helm, shop_api: Path) -> None:
    assert "--probe-workers" not in _args(RENDERS["default"].text(helm, shop_api))


@pytest.mark.parametrize("value", ["1", "2", "64", "auto"])
def test_probe_workers_reach_the_agent(value: str, helm: Helm) -> None:
    rendered = helm.template(CHART, "slo", sets=[f"probeWorkers={value}"])
    args = _args(rendered)
    at = args.index("--probe-workers")
    assert args[at + 1] == value
    assert args[-1] == "/etc/slo-agent/specs"  # options before the specs directory


def test_the_standalone_example_runs_two_workers_with_room_for_them(
    helm: Helm, shop_api: Path
) -> None:
    rendered = RENDERS["standalone"].text(helm, shop_api)
    container = agent_container(one(rendered, "Deployment")["spec"]["template"]["spec"])
    args = container["args"]
    assert args[args.index("--probe-workers") + 1] == "2"
    assert container["resources"]["limits"]["memory"] == "704Mi"  # 512Mi + 2 x ~90Mi


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("probeWorkers=0", "at '/probeWorkers'"),
        ("probeWorkers=65", "at '/probeWorkers'"),
        ("probeWorkers=many", "at '/probeWorkers'"),
    ],
)
def test_the_schema_refuses_what_the_agent_would(setting: str, message: str, helm: Helm) -> None:
    done = helm.run("lint", "--strict", str(CHART), "--set", setting)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr, done.stdout + done.stderr


def test_notes_say_what_the_workers_cost(helm: Helm, tmp_path: Path) -> None:
    assert "Probe workers" not in notes(helm, tmp_path / "default")
    assert "Probe workers" not in notes(helm, tmp_path / "one", "probeWorkers=1")
    text = notes(helm, tmp_path / "two", "probeWorkers=2")
    assert "Probe workers: 2 per pod (--probe-workers); each is a process of ~90 MB" in text
    assert "resources.limits.memory (512Mi) should allow for them" in text
