"""The overview dashboard: every node at a glance — mode, objective, SLI, budget remaining,
burn rate, alert state, and the advisor's decision flag. Pure: no I/O."""

from __future__ import annotations

from exporters.grafana import promql as q
from exporters.grafana.dashboard import dashboard, query_variable
from exporters.grafana.panels import (
    ALERT_STATES,
    BUDGET_COLOURS,
    BURN_COLOURS,
    Column,
    Json,
    Layout,
    Query,
    stat,
    table,
    thresholds,
    timeseries,
)

UID = "slo-agent-overview"
NODE_UID = "slo-agent-node"

MODE_VARIABLE = f"label_values({q.NODE_INFO}, mode)"
NODE_VARIABLE = f"label_values({q.NODE_INFO}{{{q.MODES}}}, node)"


def node_link() -> Json:
    """A data link from a node cell to its node-detail dashboard."""
    return {
        "targetBlank": False,
        "title": "Node detail",
        "url": f"/d/{NODE_UID}/?var-node=${{__value.raw}}&${{datasource:queryparam}}"
        "&${__url_time_range}",
    }


def _slo_columns() -> list[Column]:
    slo = q.NODES
    by = "node, slo"
    return [
        Column(
            "Objective",
            Query(q.with_mode(f"{q.OBJECTIVE}{{{slo}}}", by), instant=True, table=True),
            unit="percentunit",
            decimals=3,
        ),
        Column(
            "SLI (period)",
            Query(q.with_mode(q.period_sli(slo), by), instant=True, table=True),
            unit="percentunit",
            decimals=3,
        ),
        Column(
            "Budget remaining",
            Query(q.with_mode(f"{q.BUDGET_REMAINING}{{{slo}}}", by), instant=True, table=True),
            unit="percentunit",
            decimals=1,
            colours=BUDGET_COLOURS,
            cell="color-background",
        ),
        Column(
            "Burn rate (1h)",
            Query(
                q.with_mode(f'{q.BURN_RATE}{{{slo}, window="1h"}}', by),
                instant=True,
                table=True,
            ),
            unit="x",
            decimals=2,
            colours=BURN_COLOURS,
            cell="color-text",
        ),
        Column(
            "Alert",
            Query(q.with_mode(q.alert_state(slo), by), instant=True, table=True),
            mappings=ALERT_STATES,
            cell="color-background",
        ),
        Column(
            "Budget gone in",
            Query(q.with_mode(f"{q.BUDGET_EXHAUSTION}{{{slo}}}", by), instant=True, table=True),
            unit="s",
        ),
    ]


def overview() -> Json:
    layout = Layout()
    layout.row("Now")
    count = f"count(max by (node) ({q.NODE_INFO}{{{q.NODES}, {q.MODES}}})) or vector(0)"
    layout.add(
        stat(
            "Nodes",
            "Nodes watched (of the selected modes).",
            [Query(count, instant=True)],
            unit="none",
        ),
        width=4,
        height=4,
    )
    for severity, colour in (("page", "red"), ("ticket", "yellow")):
        firing = q.with_mode(
            f'{q.ALERT_ACTIVE}{{{q.NODES}, severity="{severity}"}} == 1', "node, slo"
        )
        layout.add(
            stat(
                f"SLOs firing {severity}",
                f"SLOs whose multi-window burn-rate alert of severity {severity} fires now.",
                [Query(f"count({firing}) or vector(0)", instant=True)],
                unit="none",
                colours=thresholds((None, "green"), (1, colour)),
            ),
            width=5,
            height=4,
        )
    spent = q.with_mode(f"{q.BUDGET_REMAINING}{{{q.NODES}}} <= 0", "node, slo")
    layout.add(
        stat(
            "Budgets spent",
            "SLOs that have used up their whole error budget for the period.",
            [Query(f"count({spent}) or vector(0)", instant=True)],
            unit="none",
            colours=thresholds((None, "green"), (1, "red")),
        ),
        width=5,
        height=4,
    )
    flagged = f"{q.DECISION_FLAG}{{{q.NODES}, {q.MODES}}} > 0"
    layout.add(
        stat(
            "Decisions to revisit",
            "Nodes the advisor flags: measurements contradict their operate/orchestrate mode.",
            [Query(f"count(max by (node) ({flagged})) or vector(0)", instant=True)],
            unit="none",
            colours=thresholds((None, "green"), (1, "orange")),
        ),
        width=5,
        height=4,
    )
    layout.row("Nodes")
    layout.add(
        table(
            "Every node's SLOs",
            "One row per SLO. SLI and budget cover the SLO period; the burn rate is over the "
            "last hour (1 = spending the budget exactly over the period); Alert is the "
            "strongest burn-rate alert firing; 'Budget gone in' is the time left at the "
            "current burn rate.",
            _slo_columns(),
            labels=("node", "slo", "mode"),
            links={"node": node_link()},
        ),
        width=24,
        height=12,
    )
    decisions = f"max by (node, mode, recommendation) ({flagged})"
    layout.add(
        table(
            "Decision flags",
            "Nodes whose measured behaviour says the operate-vs-orchestrate decision should be "
            "revisited, with the advisor's recommendation (slo-agent advise explains why).",
            [Column("Flag", Query(decisions, instant=True, table=True))],
            labels=("node", "mode", "recommendation"),
            links={"node": node_link()},
        ),
        width=24,
        height=6,
    )
    layout.row("Trends")
    layout.add(
        timeseries(
            "Error budget remaining",
            "Share of each SLO's error budget left over its period (below 0: overspent).",
            [
                Query(
                    q.with_mode(f"{q.BUDGET_REMAINING}{{{q.NODES}}}", "node, slo"),
                    legend="{{node}} {{slo}}",
                )
            ],
            unit="percentunit",
            maximum=1,
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Burn rate (1h)",
            "Error ratio over the last hour divided by the allowed one (dashed line: 1).",
            [
                Query(
                    q.with_mode(f'{q.BURN_RATE}{{{q.NODES}, window="1h"}}', "node, slo"),
                    legend="{{node}} {{slo}}",
                )
            ],
            unit="x",
            minimum=0,
            threshold_line=1,
        ),
        width=12,
    )
    return dashboard(
        uid=UID,
        title="slo-agent / Overview",
        description="Every node the team operates or orchestrates: SLOs, budgets, burn, alerts "
        "and decision flags (generated by slo-agent dashboards).",
        variables=[
            query_variable("mode", "Mode", MODE_VARIABLE, all_value=".*"),
            query_variable("node", "Node", NODE_VARIABLE),
        ],
        panels=layout.panels,
    )
