"""The journeys dashboard: each cross-partner journey's SLOs, its latency per hop, and which
hop and which partner its burned budget is blamed on. Pure: no I/O.

A journey's SLO series carry ``node=<journey>`` and ``mode="journey"``; the hop series carry
the journey, the step's ``node`` and (blame) the node's ``mode``, so ``$node`` and ``$mode``
pick hops.
"""

from __future__ import annotations

from agent.model import JOURNEY_MODE
from exporters.grafana import promql as q
from exporters.grafana.dashboard import dashboard, query_variable
from exporters.grafana.overview import MODE_VARIABLE, NODE_VARIABLE
from exporters.grafana.panels import (
    ALERT_STATES,
    BUDGET_COLOURS,
    BURN_COLOURS,
    Column,
    Json,
    Layout,
    Query,
    bargauge,
    table,
    thresholds,
    timeseries,
)

UID = "slo-agent-journeys"
JOURNEYS = 'node=~"$journey"'  # a journey's SLO series are labelled node=<journey>
JOURNEY = 'journey=~"$journey"'
HOPS = f"{JOURNEY}, {q.NODES}"
BLAME = f"{q.JOURNEY_HOP_BLAME_TOTAL}{{{HOPS}, {q.MODES}}}"
# the journeys that ran, labelled node=<journey> like their SLO series
RUNS_BY_JOURNEY = (
    f'label_replace({q.JOURNEY_DURATION_COUNT}{{{JOURNEY}}}, "node", "$1", "journey", "(.*)")'
)


def _slo_table() -> Json:
    by = "journey, slo"

    def per_slo(expr: str) -> Query:
        # node=~"$journey" alone would match nodes' SLOs too when $journey is All
        journeys = f"max by (node) ({RUNS_BY_JOURNEY})"
        labelled = f'label_replace({expr}, "journey", "$1", "node", "(.*)")'
        only = f"({labelled})\n  and on (node) {journeys}"
        return Query(f"max by ({by}) (\n  {only}\n)", instant=True, table=True)

    return table(
        "Journey SLOs",
        "Each journey's SLOs over their period: a run is good when every step succeeded "
        "(and, for a latency SLO, the whole run was fast enough).",
        [
            Column("Objective", per_slo(f"{q.OBJECTIVE}{{{JOURNEYS}}}"), "percentunit", 3),
            Column("SLI (period)", per_slo(q.period_sli(JOURNEYS)), "percentunit", 3),
            Column(
                "Budget remaining",
                per_slo(f"{q.BUDGET_REMAINING}{{{JOURNEYS}}}"),
                "percentunit",
                1,
                colours=BUDGET_COLOURS,
                cell="color-background",
            ),
            Column(
                "Burn rate (1h)",
                per_slo(f'{q.BURN_RATE}{{{JOURNEYS}, window="1h"}}'),
                "x",
                2,
                colours=BURN_COLOURS,
                cell="color-text",
            ),
            Column(
                "Alert",
                per_slo(q.alert_state(JOURNEYS)),
                mappings=ALERT_STATES,
                cell="color-background",
            ),
        ],
        labels=("journey", "slo"),
    )


def journeys() -> Json:
    layout = Layout()
    layout.row("Journeys")
    layout.add(_slo_table(), width=24, height=7)
    runs = f'{q.SLI_EVENTS_TOTAL}{{{JOURNEYS}, mode="{JOURNEY_MODE}"}}'
    bad = f'{q.SLI_BAD_EVENTS_TOTAL}{{{JOURNEYS}, mode="{JOURNEY_MODE}"}}'
    layout.add(
        timeseries(
            "Bad runs by SLO",
            "Share of journey runs that missed each SLO.",
            [
                Query(
                    f"sum by (node, slo) (rate({bad}[{q.RATE}]))\n"
                    f"/\nsum by (node, slo) (rate({runs}[{q.RATE}]))",
                    legend="{{node}} {{slo}}",
                )
            ],
            unit="percentunit",
            minimum=0,
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Journey duration",
            "Whole-run duration quantiles, failed runs included.",
            [
                Query(
                    q.quantile(quantile, q.JOURNEY_DURATION_BUCKET, JOURNEY, "journey"),
                    legend=f"{{{{journey}}}} p{round(quantile * 100)}",
                )
                for quantile in (0.5, 0.9, 0.99)
            ],
            unit="s",
            minimum=0,
        ),
        width=12,
    )
    layout.row("Hops")
    mode_of_node = f"max by (node) ({q.NODE_INFO}{{{q.MODES}}})"
    layout.add(
        timeseries(
            "Latency per hop (p90)",
            "90th percentile of each step's duration, by journey, step and the node it went "
            "to (a failover's retry included).",
            [
                Query(
                    q.quantile(0.9, q.JOURNEY_STEP_DURATION_BUCKET, HOPS, "journey, step, node")
                    + f"\n* on (node) group_left () {mode_of_node}",
                    legend="{{journey}} {{step}} @ {{node}}",
                )
            ],
            unit="s",
            minimum=0,
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Latency per hop (median)",
            "Median duration of each step.",
            [
                Query(
                    q.quantile(0.5, q.JOURNEY_STEP_DURATION_BUCKET, HOPS, "journey, step, node")
                    + f"\n* on (node) group_left () {mode_of_node}",
                    legend="{{journey}} {{step}} @ {{node}}",
                )
            ],
            unit="s",
            minimum=0,
        ),
        width=12,
    )
    layout.row("Blame")
    blamed = f"sum by (node, mode) (increase({BLAME}[{q.RANGE}]))"
    layout.add(
        bargauge(
            "Burned budget by partner (time range)",
            "Bad journey runs blamed on each partner's hops over the time range (a run blamed "
            "on k hops counts 1/k for each); nodes the team runs show as (operated).",
            [
                Query(
                    f"sum by (partner, mode) ({q.with_partner(blamed)})",
                    legend="{{partner}} ({{mode}})",
                    instant=True,
                )
            ],
            unit="none",
            colours=thresholds((None, "orange")),
        ),
        width=12,
    )
    layout.add(
        table(
            "Blame by hop and reason (time range)",
            "Bad runs blamed on each hop over the time range, by reason (status, timeout, "
            "assertion, latency, ...).",
            [
                Column(
                    "Bad runs",
                    Query(
                        f"sum by (journey, node, mode, reason) (increase({BLAME}[{q.RANGE}]))",
                        instant=True,
                        table=True,
                    ),
                    decimals=1,
                )
            ],
            labels=("journey", "node", "mode", "reason"),
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Blame over time by partner",
            "Bad runs per second blamed on each partner's hops.",
            [
                Query(
                    "sum by (partner) ("
                    + q.with_partner(
                        f"sum by (node) (rate({BLAME}[{q.RATE}]))",
                    )
                    + ")",
                    legend="{{partner}}",
                )
            ],
            unit="ops",
            stacked=True,
        ),
        width=24,
    )
    return dashboard(
        uid=UID,
        title="slo-agent / Journeys",
        description="Cross-partner journeys: SLOs, latency per hop, and the burned budget "
        "blamed per hop and partner (generated by slo-agent dashboards).",
        variables=[
            query_variable(
                "journey", "Journey", f"label_values({q.JOURNEY_DURATION_COUNT}, journey)"
            ),
            query_variable("mode", "Hop mode", MODE_VARIABLE, all_value=".*"),
            query_variable("node", "Hop node", NODE_VARIABLE),
        ],
        panels=layout.panels,
    )
