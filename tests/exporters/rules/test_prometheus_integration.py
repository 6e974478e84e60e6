"""The generated rules in a real Prometheus scraping a real agent, alerting a real Alertmanager;
and Sloth's published dashboard queries answered from them.

The SLO's AlertWindows are seconds long so a fault shows up in seconds: Prometheus evaluates
``increase(...[5s])`` as readily as ``[5m]`` (spec validation bounds the SLO window, 1h at
least, not the alert windows). At 99% over 1h, "10% of the budget in 10s" is a burn-rate
factor of 0.1 x 3600s / 10s = 36; a total outage burns at 100.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.app import running_agent
from agent.cli.rules import rules
from exporters.prometheus.rules import RuleFormat
from tests.support.agents import options, write_specs
from tests.support.alertmanager import AlertmanagerServer
from tests.support.fakes import eventually
from tests.support.prometheus import PrometheusServer
from tests.support.targets import Behaviour, FailEvery, Reply, Target

pytestmark = pytest.mark.integration

SPECS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {{name: seconds}}
spec:
  page:
    - {{budget_percent: 10, long: 10s, short: 5s}}
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
    - {{name: availability, objective: 99, window: 1h, sli: {{probe: health}}}}
  alerting:
    windows: seconds
    labels: {{team: sre}}
    annotations: {{runbook_url: "https://runbooks.example/flaky"}}
"""
OK = Reply(200, b"ok")
DOWN = Reply(503, b"down")
WITHIN = 30.0  # seconds: the bound on every wait below


@contextlib.asynccontextmanager
async def monitored(
    tmp_path: Path, target: Target, alertmanager_urls: Sequence[str] = ()
) -> AsyncIterator[PrometheusServer]:
    """The agent probing ``target``, and Prometheus scraping it with the generated rules."""
    specs = write_specs(tmp_path / "specs", flaky=SPECS.format(url=target.url("/health")))
    text = io.StringIO()
    assert rules([str(specs)], {}, RuleFormat.PROMETHEUS, text) == 0
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(text.getvalue())
    async with running_agent(options(specs, tmp_path / "store.db"), {}) as running:
        prometheus = PrometheusServer(
            tmp_path,
            scrape_targets=[running.url.removeprefix("http://")],
            rule_files=[rule_file],
            alertmanager_urls=alertmanager_urls,
        )
        await asyncio.to_thread(prometheus.start)
        try:
            yield prometheus
        finally:
            await asyncio.to_thread(prometheus.stop)


async def query(prometheus: PrometheusServer, expr: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(prometheus.query, expr)


async def burn_alerts(alertmanager: AlertmanagerServer) -> list[dict[str, Any]]:
    alerts = await asyncio.to_thread(alertmanager.alerts)
    return [a for a in alerts if a["labels"]["alertname"] == "ErrorBudgetBurn"]


async def wait_for_error_ratio(prometheus: PrometheusServer, window: str, value: float) -> None:
    async def reached() -> bool:
        samples = await query(prometheus, f'slo:sli_error:ratio_rate{window}{{node="flaky"}}')
        return [float(s["value"][1]) for s in samples] == [value]

    await eventually(reached, within=WITHIN)


async def test_a_fault_raises_error_budget_burn_in_alertmanager_and_resolves(
    tmp_path: Path,
) -> None:
    async with Target({"/health": OK}) as target:
        with AlertmanagerServer(tmp_path) as alertmanager:
            async with monitored(tmp_path, target, [alertmanager.url]) as prometheus:
                await wait_for_error_ratio(prometheus, "10s", 0.0)  # scraped, rules running
                assert await burn_alerts(alertmanager) == []

                target.route("/health", DOWN)

                async def fired() -> bool:
                    return len(await burn_alerts(alertmanager)) > 0

                await eventually(fired, within=WITHIN)
                [alert] = await burn_alerts(alertmanager)
                assert alert["labels"] == {
                    "alertname": "ErrorBudgetBurn",
                    "severity": "page",
                    "node": "flaky",
                    "slo": "availability",
                    "mode": "operated",
                    "long": "10s",
                    "short": "5s",
                    "burn_rate": "36",
                    "team": "sre",
                }
                assert alert["annotations"]["runbook_url"] == "https://runbooks.example/flaky"
                summary = alert["annotations"]["summary"]
                assert summary.startswith("flaky/availability burns its error budget at ")
                assert summary.endswith("x over 10s (threshold 36x)")
                assert alert["status"]["state"] == "active"

                target.route("/health", OK)

                async def resolved() -> bool:
                    return await burn_alerts(alertmanager) == []

                await eventually(resolved, within=WITHIN)
                await wait_for_error_ratio(prometheus, "5s", 0.0)


# Sloth's "SLO / Detail" Grafana dashboard (grafana.com dashboard 14348, JSON as published;
# read from the copy vendored in ghazal-naderi/platform-11, k8s/sloth/grafana-dashboard.yaml),
# with its variables set: service=flaky, slo=availability, sli_window=5m, min_burning_rate=1.
# Its "service" and "slo" pickers are label_values() over slo:objective:ratio.
DETAIL_DASHBOARD = (
    'slo:objective:ratio{sloth_service="flaky"}',
    "slo:current_burn_rate:ratio > 1",
    'slo:objective:ratio{sloth_service="flaky", sloth_slo="availability"}',
    '1 - (max(slo:sli_error:ratio_rate5m{sloth_service="flaky", sloth_slo="availability"})'
    " OR on() vector(0))",
    'slo:current_burn_rate:ratio{sloth_service="flaky", sloth_slo="availability"}'
    " or on() vector(0)",
    'slo:period_error_budget_remaining:ratio{sloth_service="flaky", sloth_slo="availability"}'
    " or on() vector(1)",
    'slo:current_burn_rate:ratio{sloth_service="flaky", sloth_slo="availability"} > 0',
    'max(ALERTS{sloth_service="flaky", sloth_slo="availability", sloth_severity="ticket"})'
    " OR on() vector(0)",
    'max(ALERTS{sloth_service="flaky", sloth_slo="availability", sloth_severity="page"})'
    " or on() vector(0)",
)
# The dashboard's "Remaining error budget (month)" panels sum slo:sli_error:ratio_rate1h over
# a [32d:1h] subquery: its 1h-aligned steps only find data once the series are older than the
# last full hour, so on a Prometheus minutes old they are empty whoever wrote the rules.
MONTH_PANEL = (
    "1-(\n  sum_over_time(\n    (\n"
    '       slo:sli_error:ratio_rate1h{sloth_service="flaky",sloth_slo="availability"}\n'
    "       * on() group_left() (\n         month() == bool vector(${__to:date:M})\n       )\n"
    "    )[32d:1h]\n  )\n  / on(sloth_id)\n  (\n"
    '    slo:error_budget:ratio{sloth_service="flaky",sloth_slo="availability"}'
    " *on() group_left() (24 * days_in_month())\n  )\n)"
)
# The other series Sloth documents for its dashboards (sloth.dev, "SLO / High level",
# grafana.com 14643, lists SLOs from sloth_slo_info): filtered the way its variables filter.
HIGH_LEVEL_SERIES = (
    'sloth_slo_info{sloth_service="flaky", sloth_slo="availability"}',
    'slo:error_budget:ratio{sloth_service="flaky", sloth_slo="availability"}',
    'slo:time_period:days{sloth_service="flaky", sloth_slo="availability"}',
    'slo:period_burn_rate:ratio{sloth_service="flaky", sloth_slo="availability"}',
    'slo:sli_error:ratio_rate1h{sloth_service="flaky", sloth_slo="availability"}',
)


async def test_sloth_dashboard_queries_return_data_from_our_rules(tmp_path: Path) -> None:
    failing: Behaviour = FailEvery(10)  # 10% errors: burn rate 10 at 99%
    async with Target({"/health": failing}) as target, monitored(tmp_path, target) as prometheus:

        async def burning() -> bool:
            return len(await query(prometheus, "slo:current_burn_rate:ratio > 1")) > 0

        await eventually(burning, within=WITHIN)
        for expr in (*DETAIL_DASHBOARD, *HIGH_LEVEL_SERIES):
            assert await query(prometheus, expr), f"no series for {expr}"
        month = MONTH_PANEL.replace("${__to:date:M}", str(datetime.now(UTC).month))
        response = await asyncio.to_thread(prometheus.query_raw, month)
        assert response.status_code == 200, response.text  # it parses and runs
        [info] = await query(prometheus, HIGH_LEVEL_SERIES[0])
        assert info["metric"]["sloth_objective"] == "99"
        [days] = await query(prometheus, HIGH_LEVEL_SERIES[2])
        assert float(days["value"][1]) * 24 == pytest.approx(1)  # a 1h window
