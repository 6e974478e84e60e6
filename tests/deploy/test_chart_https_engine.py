"""``httpsEngine``: passed to the agent as ``--https-engine`` (left out at the default "", so
the agent's own default holds and ``$SLO_AGENT_HTTPS_ENGINE`` in ``env`` still works), and
checked by the values schema against what the agent accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.probes.https_engine import ENGINES
from tests.deploy.chart import CHART, Helm, agent_container, pod_specs
from tests.deploy.renders import RENDERS


def _args(rendered: str) -> list[str]:
    [pod] = pod_specs(rendered)
    args: list[str] = agent_container(pod)["args"]
    return args


def test_the_default_leaves_the_choice_to_the_agent(helm: Helm, shop_api: Path) -> None:
    assert "--https-engine" not in _args(RENDERS["default"].text(helm, shop_api))


@pytest.mark.parametrize("value", ENGINES)
def test_the_engine_reaches_the_agent(value: str, helm: Helm) -> None:
    args = _args(helm.template(CHART, "slo", sets=[f"httpsEngine={value}"]))
    assert args[args.index("--https-engine") + 1] == value
    assert args[-1] == "/etc/slo-agent/specs"  # options before the specs directory


@pytest.mark.parametrize("value", ["openssl", "Curl", "1"])
def test_the_schema_refuses_what_the_agent_would(value: str, helm: Helm) -> None:
    done = helm.run("lint", "--strict", str(CHART), "--set", f"httpsEngine={value}")
    assert done.returncode != 0
    assert "at '/httpsEngine'" in done.stdout + done.stderr, done.stdout + done.stderr
