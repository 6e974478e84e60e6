"""End to end: the running agent pushes a burn alert to a real Alertmanager when a target
fails, and resolves it after the target recovers."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.app import running_agent
from agent.slo.alerts import burn_factor
from exporters.alerting import BURN, EXHAUSTED, burn_labels, exhausted_labels
from tests.support.agents import options, write_specs
from tests.support.alertmanager import AlertmanagerServer
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

pytestmark = pytest.mark.integration

# Buckets are per minute, so 1m is the shortest meaningful window. At a 90% objective over 1h,
# "10% of the budget in 2m" is a burn-rate threshold of 0.1 x 60m / 2m = 3: it fires once 30%
# of the probes in both the last 2m and the current minute fail (seconds after the outage
# starts, with min_events 5 at one probe per 100ms), and resolves once good probes outnumber
# the bad ones more than 7 to 3 (seconds after recovery).
SPECS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {{name: fast}}
spec:
  page:
    - {{budget_percent: 10, long: 2m, short: 1m}}
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: flaky}}
spec:
  mode: operated
  owner: sre
  capability: api
  probes:
    - name: health
      interval: 100ms
      http: {{url: "{url}", timeout: 100ms}}
  slos:
    - {{name: availability, objective: 90, window: 1h, min_events: 5, sli: {{probe: health}}}}
  alerting:
    windows: fast
    labels: {{team: sre}}
    annotations: {{runbook_url: "https://runbooks.example/flaky"}}
"""


async def test_a_failing_target_raises_error_budget_burn_that_resolves_after_recovery(
    tmp_path: Path,
) -> None:
    async with Target({"/health": Reply(503, b"down")}) as target:
        spec_dir = write_specs(tmp_path / "specs", flaky=SPECS.format(url=target.url("/health")))
        with AlertmanagerServer(tmp_path) as alertmanager:
            run = options(spec_dir, tmp_path / "store.db")
            run = dataclasses.replace(run, alertmanager_urls=(alertmanager.url,))

            async def listed(name: str) -> list[dict[str, Any]]:
                alerts = await asyncio.to_thread(alertmanager.alerts)
                return [a for a in alerts if a["labels"]["alertname"] == name]

            async def burning() -> bool:
                return bool(await listed(BURN)) and bool(await listed(EXHAUSTED))

            async def calm() -> bool:
                return not await listed(BURN)

            async with running_agent(run, {}) as running:
                specs = running.agent.specs
                node = specs.node("flaky")
                [slo] = node.slos
                [tier] = specs.windows_for(node).tiers
                factor = burn_factor(tier, timedelta(hours=1))

                await eventually(burning, within=30)
                [alert] = await listed(BURN)
                target.route("/health", Reply(200, b"ok"))
                [exhausted] = await listed(EXHAUSTED)

                await eventually(calm, within=100)
                assert running.agent.snapshot is not None
                [status] = running.agent.snapshot.slos()
                assert not any(a.firing for a in status.alerts)

    assert factor == 3.0
    assert alert["labels"] == {"alertname": BURN, **burn_labels(node, slo, tier, factor)}
    assert alert["labels"]["burn_rate"] == "3"
    assert alert["labels"]["team"] == "sre"
    assert alert["annotations"]["runbook_url"] == "https://runbooks.example/flaky"
    assert alert["generatorURL"] == f"{running.url}/api/v1/status"
    assert exhausted["labels"] == {"alertname": EXHAUSTED, **exhausted_labels(node, slo)}
