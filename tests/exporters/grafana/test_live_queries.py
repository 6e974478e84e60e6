"""Every query of every dashboard, variables substituted, answered by a real Prometheus that
scrapes a real agent watching the demo ecosystem, with the generated rules loaded.

Each query must parse (Prometheus answers 400 bad_data otherwise) and return series, except
the few listed in PARSE_ONLY: they read series this setup cannot have yet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pytest

from agent.app import running_agent
from agent.cli.rules import rules
from agent.demo.ecosystem import Ecosystem
from agent.demo.templates import render_demo_specs
from agent.slo.windows import STANDARD_WINDOWS
from agent.spec.loader import load_specs
from exporters.grafana import PanelQuery, dashboards, panel_queries, variable_queries
from exporters.prometheus.rules import RuleFormat
from tests.support.agents import FAST, options
from tests.support.fakes import eventually
from tests.support.prometheus import PrometheusServer

pytestmark = pytest.mark.integration

# 2:05 into the demo's fault schedule: acme-pay is down (every probe fails, its budget is
# spent, its page alert fires) and storefront answers 20% of requests with a 500, which fails
# checkout journey runs at their first hop (blame on an operated node).
DEMO_MOMENT = 125.0
WITHIN = 60.0  # seconds: bound on waiting for the series below to reach Prometheus

# The values Grafana would put in: "All" for the multi-value variables, one demo node for
# the node dashboard, and ranges long enough to hold the few seconds of data the test has.
ALL = {"node": ".+", "mode": ".*", "slo": ".+", "journey": ".+"}
NODE_DASHBOARD = {"node": "acme-pay"}
BUILTINS = {"__rate_interval": "1m", "__range": "1h", "__interval": "15s"}

# Series the setup must hold before the panels are asked (one per kind of panel).
AWAITED = (
    'slo_agent_probe_results_total{node="acme-pay", outcome="failure"}',
    'slo_agent_error_budget_remaining_ratio{node="acme-pay"}',
    'slo_agent_budget_exhaustion_seconds{node="acme-pay"}',
    'slo:period_error_budget_remaining:ratio{node="acme-pay"}',
    'slo:sli_error:ratio_rate5m{node="acme-pay"}',
    "slo_agent_journey_step_duration_seconds_bucket",
    "slo_agent_journey_hop_blame_total",
    'slo_agent_error_budget_remaining_ratio{node="checkout"}',
)

# (dashboard file, panel title, refId): queries over the advisor's series, which the agent
# does not expose yet — they must parse; whether they return series is not asked.
PARSE_ONLY = {
    ("slo-agent-overview.json", "Decision flags", "A"),
    ("slo-agent-decisions.json", "Nodes to revisit", "A"),
    ("slo-agent-decisions.json", "Axis scores (1 low - 5 high)", "A"),
    ("slo-agent-decisions.json", "Axis scores over time", "A"),
    ("slo-agent-decisions.json", "Flags over time", "A"),
}
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def substitute(expr: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))  # "$1" of label_replace stays

    return VARIABLE.sub(value, expr)


def where(query: PanelQuery) -> tuple[str, str]:
    """('Decision flags', 'A') from "panel 'Decision flags' A"."""
    title, _, ref = query.where.removeprefix("panel ").rpartition(" ")
    return title.strip("'\""), ref


def test_parse_only_names_real_panels() -> None:
    boards = dashboards()
    existing = {
        (name, *where(query)) for name, board in boards.items() for query in panel_queries(board)
    }
    assert existing >= PARSE_ONLY


async def test_every_panel_query_parses_and_returns_series(tmp_path: Path) -> None:
    async with Ecosystem(time_offset=DEMO_MOMENT) as ecosystem:
        spec_dir = tmp_path / "specs"
        render_demo_specs(ecosystem.urls, ecosystem.ports, spec_dir)
        text = io.StringIO()
        assert rules([str(spec_dir)], {}, RuleFormat.PROMETHEUS, text) == 0
        rule_file = tmp_path / "rules.yaml"
        rule_file.write_text(text.getvalue())
        settings = dataclasses.replace(FAST, evaluation_interval=0.5)
        agent_options = options(spec_dir, tmp_path / "store.db", settings)
        async with running_agent(dataclasses.replace(agent_options, tracing=False), {}) as agent:
            prometheus = PrometheusServer(
                tmp_path, scrape_targets=[agent.url.removeprefix("http://")], rule_files=[rule_file]
            )
            await asyncio.to_thread(prometheus.start)
            try:
                for expr in AWAITED:

                    async def present(expr: str = expr) -> bool:
                        return bool(await asyncio.to_thread(prometheus.query, expr))

                    await eventually(present, within=WITHIN)
                answers = await asyncio.to_thread(ask_every_query, prometheus)
                broken = await asyncio.to_thread(prometheus.query_raw, "sum by (node) (")
            finally:
                await asyncio.to_thread(prometheus.stop)

    assert (broken.status_code, broken.json()["errorType"]) == (400, "bad_data")  # as caught
    bad = [f"{w}: {status} {body.get('error')}" for w, status, body in answers if status != 200]
    assert bad == []
    empty = [w for w, _, body in answers if not body["data"]["result"] and w not in PARSE_ONLY]
    assert empty == [], "queries without series"
    assert len(answers) >= 50  # every panel query and variable of the four dashboards

    # and the series are the right ones
    specs = load_specs(sorted(spec_dir.glob("*.yaml")), {})
    result = {w: body["data"]["result"] for w, _, body in answers}

    def rows(key: tuple[str, str, str], *labels: str) -> set[tuple[str, ...]]:
        return {tuple(r["metric"][label] for label in labels) for r in result[key]}

    every_slo = ("slo-agent-overview.json", "Every node's SLOs", "A")
    assert rows(every_slo, "node", "slo", "mode") == {
        (node.name, slo.name, node.mode.value) for node in specs.nodes for slo in node.slos
    }
    alert = ("slo-agent-overview.json", "Every node's SLOs", "E")
    paging = {r["metric"]["node"] for r in result[alert] if r["value"][1] == "2"}
    assert "acme-pay" in paging  # down since 1:00 of the schedule
    assert rows(("slo-agent-journeys.json", "Journey SLOs", "A"), "journey", "slo") == {
        (journey.name, slo.name) for journey in specs.journeys for slo in journey.slos
    }
    hops = rows(("slo-agent-journeys.json", "Latency per hop (p90)", "A"), "step", "node")
    assert hops >= {("add-to-cart", "storefront")}
    windows = rows(
        ("slo-agent-node.json", "Burn rate by window (Prometheus rules)", "A"), "sloth_window"
    )
    assert windows == {(window,) for window in STANDARD_WINDOWS}


def ask_every_query(
    prometheus: PrometheusServer,
) -> list[tuple[tuple[str, str, str], int, dict[str, Any]]]:
    """(dashboard, panel title, refId), HTTP status and body for each query."""
    answers = []
    for name, board in dashboards().items():
        values = {**BUILTINS, **ALL}
        if name == "slo-agent-node.json":
            values |= NODE_DASHBOARD
        queries = [*panel_queries(board), *variable_queries(board)]
        for query in queries:
            expr = substitute(query.expr, values)
            assert "$" not in expr.replace("$1", ""), f"{query.where}: {expr}"
            response = prometheus.query_raw(expr)
            answers.append(((name, *where(query)), response.status_code, response.json()))
    return answers
