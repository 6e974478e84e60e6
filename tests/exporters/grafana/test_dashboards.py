"""The generated Grafana dashboards: valid against the project's JSON Schema, laid out on the
grid, built only from metric names the agent and its rules produce, deterministic, and the
committed copies in dashboards/ current."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent.cli.dashboards import dashboards as write_dashboards
from agent.slo.windows import STANDARD_WINDOWS
from exporters.grafana import SCHEMA_PATH, dashboards, panel_queries, render, variable_queries
from exporters.grafana import promql as q
from exporters.prometheus import names
from exporters.prometheus.rules import recording

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "dashboards"
BUILTINS = {"__rate_interval", "__range", "__interval"}
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")
METRIC = re.compile(r"\b(slo_agent_\w+|slo:\w+:\w+|sloth_slo_info)\b")


def known_metrics() -> set[str]:
    exposed = {
        value
        for key, value in vars(names).items()
        if key.isupper() and isinstance(value, str) and value.startswith("slo_agent_")
    }
    suffixed = {f"{name}{suffix}" for name in exposed for suffix in ("_total", "_bucket", "_count")}
    rules = {
        recording.OBJECTIVE,
        recording.ERROR_BUDGET,
        recording.TIME_PERIOD,
        recording.CURRENT_BURN,
        recording.PERIOD_BURN,
        recording.PERIOD_REMAINING,
        recording.INFO,
        *(recording.sli_error(window) for window in STANDARD_WINDOWS),
    }
    return exposed | suffixed | rules


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator: jsonschema.Draft202012Validator, board: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(board)
    )


def test_there_are_the_four_dashboards() -> None:
    boards = dashboards()
    assert list(boards) == [
        "slo-agent-overview.json",
        "slo-agent-node.json",
        "slo-agent-journeys.json",
        "slo-agent-decisions.json",
    ]
    assert [board["uid"] for board in boards.values()] == [name[:-5] for name in boards]


@pytest.mark.parametrize("name", list(dashboards()))
def test_each_dashboard_is_valid_against_the_schema(
    name: str, validator: jsonschema.Draft202012Validator
) -> None:
    assert errors(validator, dashboards()[name]) == []


def test_the_schema_rejects_what_grafana_would_not_serve_right(
    validator: jsonschema.Draft202012Validator,
) -> None:
    board = dashboards()["slo-agent-overview.json"]
    panel = next(p for p in board["panels"] if p["type"] == "timeseries")
    index = board["panels"].index(panel)

    fixed_source = copy.deepcopy(board)
    fixed_source["panels"][index]["targets"][0]["datasource"]["uid"] = "prometheus-prod"
    assert any("${datasource}" in e for e in errors(validator, fixed_source))

    no_query = copy.deepcopy(board)
    del no_query["panels"][index]["targets"][0]["expr"]
    assert any("'expr' is a required property" in e for e in errors(validator, no_query))

    too_wide = copy.deepcopy(board)
    too_wide["panels"][index]["gridPos"]["w"] = 25
    assert errors(validator, too_wide) == [
        f"panels/{index}/gridPos/w: 25 is greater than the maximum of 24"
    ]

    no_datasource_variable = copy.deepcopy(board)
    no_datasource_variable["templating"]["list"].pop(0)
    assert errors(validator, no_datasource_variable) != []

    typo = copy.deepcopy(board)
    typo["panels"][index]["titel"] = "x"
    assert errors(validator, typo) != []


@pytest.mark.parametrize("name", list(dashboards()))
def test_panels_have_unique_ids_and_do_not_overlap_on_the_grid(name: str) -> None:
    panels = dashboards()[name]["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        refs = [t["refId"] for t in panel.get("targets", ())]
        assert len(refs) == len(set(refs))


@pytest.mark.parametrize("name", list(dashboards()))
def test_queries_use_only_defined_variables_and_known_metrics(name: str) -> None:
    board = dashboards()[name]
    defined = {v["name"] for v in board["templating"]["list"]} | BUILTINS
    assert {"datasource", "node", "mode"} <= defined
    known = known_metrics()
    queries = [*panel_queries(board), *variable_queries(board)]
    assert queries
    for query in queries:
        used = {a or b for a, b in VARIABLE.findall(query.expr)} - {"1"}  # "$1": label_replace
        assert used <= defined, f"{query.where}: undefined {used - defined}"
        metrics = set(METRIC.findall(query.expr))
        assert metrics, f"{query.where} reads no slo-agent metric"
        assert metrics <= known, f"{query.where}: unknown {metrics - known}"


def test_the_dashboards_cover_what_users_look_for() -> None:
    boards = dashboards()

    def exprs(name: str) -> str:
        return "\n".join(query.expr for query in panel_queries(boards[name]))

    overview = exprs("slo-agent-overview.json")
    for metric in (
        q.NODE_INFO,
        q.OBJECTIVE,
        q.BUDGET_REMAINING,
        q.BURN_RATE,
        q.ALERT_ACTIVE,
        q.DECISION_FLAG,
    ):
        assert metric in overview
    node = exprs("slo-agent-node.json")
    for metric in (
        q.BURN_RATE,
        q.RULE_PERIOD_REMAINING,
        q.RULE_ERROR_BUDGET,
        q.PROBE_RESULTS_TOTAL,
        q.PROBE_DURATION_BUCKET,
    ):
        assert metric in node
    assert "sum by (probe, reason)" in node
    journeys = exprs("slo-agent-journeys.json")
    assert q.JOURNEY_STEP_DURATION_BUCKET in journeys
    assert q.JOURNEY_HOP_BLAME_TOTAL in journeys
    assert "sum by (partner, mode)" in journeys
    decisions = exprs("slo-agent-decisions.json")
    assert q.DECISION_AXIS_SCORE in decisions
    assert q.DECISION_FLAG in decisions


def test_rendering_is_deterministic() -> None:
    first = {name: render(board) for name, board in dashboards().items()}
    second = {name: render(board) for name, board in dashboards().items()}
    assert first == second
    for text in first.values():
        assert text.endswith("}\n")
        assert json.loads(text)


def test_the_cli_writes_every_dashboard(tmp_path: Path) -> None:
    out = io.StringIO()
    assert write_dashboards(tmp_path / "new" / "dir", out) == 0
    written = sorted(p.name for p in (tmp_path / "new" / "dir").iterdir())
    assert written == sorted(dashboards())
    assert out.getvalue().splitlines() == [str(tmp_path / "new" / "dir" / n) for n in dashboards()]
    for name, board in dashboards().items():
        assert (tmp_path / "new" / "dir" / name).read_text() == render(board)


def test_the_committed_dashboards_are_current(update_golden: bool) -> None:
    """dashboards/ holds exactly what `slo-agent dashboards -o dashboards/` writes now."""
    if update_golden:
        assert write_dashboards(COMMITTED, io.StringIO()) == 0
    stale = [
        name
        for name, board in dashboards().items()
        if not (COMMITTED / name).is_file() or (COMMITTED / name).read_text() != render(board)
    ]
    extra = sorted(p.name for p in COMMITTED.glob("*.json") if p.name not in dashboards())
    hint = "run `slo-agent dashboards -o dashboards/` (or pytest --update-golden)"
    assert stale == [], f"outdated in dashboards/: {stale}; {hint}"
    assert extra == [], f"not generated any more: {extra}; delete them"
