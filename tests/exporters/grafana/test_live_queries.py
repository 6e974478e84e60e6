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
from exporters.prometheus import names
from exporters.prometheus.rules import RuleFormat
from tests.support.agents import FAST, options
from tests.support.prometheus import PrometheusServer

pytestmark = pytest.mark.integration

# 2:01 into the demo's fault schedule: acme-pay is down (every probe fails, its budget is
# spent, its page alert fires) and storefront answers 20% of requests with a 500, which fails
# checkout journey runs at their first hop (blame on an operated node).
DEMO_MOMENT = 121.0
WITHIN = 60.0  # seconds: bound on waiting for every query to have its series

# The values Grafana would put in: "All" for the multi-value variables, one demo node for
# the node dashboard, and ranges long enough to hold the few seconds of data the test has.
ALL = {"node": ".+", "mode": ".*", "slo": ".+", "journey": ".+"}
NODE_DASHBOARD = {"node": "acme-pay"}
BUILTINS = {"__rate_interval": "1m", "__range": "1h", "__interval": "15s"}

# (dashboard file, panel title, refId) -> the advisor series it reads: these queries must
# parse; they must return series only once the agent exposes that series (None: never asked,
# they list flagged nodes only, and the demo's first seconds may flag none).
PARSE_ONLY: dict[tuple[str, str, str], str | None] = {
    ("slo-agent-overview.json", "Decision flags", "A"): None,
    ("slo-agent-decisions.json", "Nodes to revisit", "A"): None,
    ("slo-agent-decisions.json", "Axis scores (1 low - 5 high)", "A"): names.DECISION_AXIS_SCORE,
    ("slo-agent-decisions.json", "Axis scores over time", "A"): names.DECISION_AXIS_SCORE,
    ("slo-agent-decisions.json", "Flags over time", "A"): names.DECISION_FLAG,
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
    assert existing >= set(PARSE_ONLY)


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
                # asked again until every query has series (rates need two scrapes, blame a
                # failed journey run) and acme-pay's page shows, or the time is up; then
                # judged below
                deadline = asyncio.get_running_loop().time() + WITHIN
                while True:
                    answers = await asyncio.to_thread(ask_every_query, prometheus)
                    exposed = await asyncio.to_thread(advisor_series, prometheus)
                    done = not missing(answers, exposed) and "acme-pay" in paging(answers)
                    if done or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.5)
                broken = await asyncio.to_thread(prometheus.query_raw, "sum by (node) (")
            finally:
                await asyncio.to_thread(prometheus.stop)

    assert (broken.status_code, broken.json()["errorType"]) == (400, "bad_data")  # as caught
    bad = [f"{w}: {status} {body.get('error')}" for w, status, body in answers if status != 200]
    assert bad == []
    assert missing(answers, exposed) == [], "queries without series"
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
    assert "acme-pay" in paging(answers)  # down since 1:00 of the schedule
    assert rows(("slo-agent-journeys.json", "Journey SLOs", "A"), "journey", "slo") == {
        (journey.name, slo.name) for journey in specs.journeys for slo in journey.slos
    }
    hops = rows(("slo-agent-journeys.json", "Latency per hop (p90)", "A"), "step", "node")
    assert hops >= {("add-to-cart", "storefront")}
    windows = rows(
        ("slo-agent-node.json", "Burn rate by window (Prometheus rules)", "A"), "sloth_window"
    )
    assert windows == {(window,) for window in STANDARD_WINDOWS}


Answer = tuple[tuple[str, str, str], int, dict[str, Any]]


def missing(answers: list[Answer], exposed: set[str]) -> list[tuple[str, str, str]]:
    """The queries that answered without any series, but for the parse-only ones over
    series the agent does not expose (``exposed``: the advisor series it does)."""

    def excused(where: tuple[str, str, str]) -> bool:
        return where in PARSE_ONLY and PARSE_ONLY[where] not in exposed

    return [
        where
        for where, status, body in answers
        if status == 200 and not body["data"]["result"] and not excused(where)
    ]


def advisor_series(prometheus: PrometheusServer) -> set[str]:
    metrics = {metric for metric in PARSE_ONLY.values() if metric is not None}
    return {metric for metric in metrics if prometheus.query(f"count({metric})")}


def paging(answers: list[Answer]) -> set[str]:
    """The nodes the overview's SLO table shows with a page-level alert (state 2)."""
    alert = ("slo-agent-overview.json", "Every node's SLOs", "E")
    for where, status, body in answers:
        if where == alert and status == 200:
            return {r["metric"]["node"] for r in body["data"]["result"] if r["value"][1] == "2"}
    return set()


def ask_every_query(prometheus: PrometheusServer) -> list[Answer]:
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
