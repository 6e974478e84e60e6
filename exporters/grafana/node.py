"""The node-detail dashboard: one node's SLOs — burn rate per window, budget burn-down, probe
outcomes by reason, latency. Pure: no I/O."""

from __future__ import annotations

from exporters.grafana import promql as q
from exporters.grafana.dashboard import dashboard, query_variable
from exporters.grafana.overview import MODE_VARIABLE, NODE_UID, NODE_VARIABLE
from exporters.grafana.panels import (
    ALERT_STATES,
    BUDGET_COLOURS,
    BURN_COLOURS,
    Json,
    Layout,
    Query,
    bargauge,
    stat,
    thresholds,
    timeseries,
)

NODE = 'node="$node"'
SLOS = 'slo=~"$slo"'
THIS = f"{NODE}, {SLOS}"


def _stats(layout: Layout) -> None:
    layout.row("Budget")
    per_slo = "{{slo}}"
    layout.add(
        stat(
            "Objective",
            "The SLO's target share of good events.",
            [Query(f"max by (slo) ({q.OBJECTIVE}{{{THIS}}})", per_slo, instant=True)],
            unit="percentunit",
            decimals=3,
        ),
        width=4,
        height=5,
    )
    layout.add(
        stat(
            "SLI over the period",
            "Good events over all events in the SLO period so far.",
            [Query(f"max by (slo) ({q.period_sli(THIS)})", per_slo, instant=True)],
            unit="percentunit",
            decimals=3,
        ),
        width=5,
        height=5,
    )
    layout.add(
        stat(
            "Budget remaining",
            "Share of the period's error budget left (negative: overspent).",
            [Query(f"max by (slo) ({q.BUDGET_REMAINING}{{{THIS}}})", per_slo, instant=True)],
            unit="percentunit",
            decimals=1,
            colours=BUDGET_COLOURS,
        ),
        width=5,
        height=5,
    )
    layout.add(
        stat(
            "Budget gone in",
            "Time until the remaining budget is spent at the current (1h) burn rate; empty "
            "while the SLO is not burning.",
            [Query(f"max by (slo) ({q.BUDGET_EXHAUSTION}{{{THIS}}})", per_slo, instant=True)],
            unit="s",
        ),
        width=5,
        height=5,
    )
    layout.add(
        stat(
            "Alert",
            "The strongest multi-window burn-rate alert firing now.",
            [Query(q.alert_state(THIS), per_slo, instant=True)],
            unit="none",
            colours=thresholds((None, "green"), (1, "yellow"), (2, "red")),
            mappings=ALERT_STATES,
        ),
        width=5,
        height=5,
    )


def _burn(layout: Layout) -> None:
    layout.row("Burn rate")
    layout.add(
        timeseries(
            "Burn rate by window (agent)",
            "Error ratio per window divided by the allowed one, as the agent evaluates it from "
            "its own store (dashed line: 1, spending exactly the budget).",
            [
                Query(
                    f"max by (slo, window) ({q.BURN_RATE}{{{THIS}}})",
                    legend="{{slo}} {{window}}",
                )
            ],
            unit="x",
            minimum=0,
            threshold_line=1,
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Burn rate by window (Prometheus rules)",
            "The same from the recording rules of slo-agent rules "
            "(slo:sli_error:ratio_rate<window> / slo:error_budget:ratio): it survives agent "
            "restarts and adds up every replica.",
            [Query(q.rule_burn_rates(THIS), legend="{{slo}} {{sloth_window}}")],
            unit="x",
            minimum=0,
            threshold_line=1,
        ),
        width=12,
    )
    layout.add(
        bargauge(
            "Burn rate now",
            "The latest burn rate of each window.",
            [
                Query(
                    f"max by (slo, window) ({q.BURN_RATE}{{{THIS}}})",
                    legend="{{slo}} {{window}}",
                    instant=True,
                )
            ],
            unit="x",
            minimum=0,
            colours=BURN_COLOURS,
        ),
        width=8,
    )
    layout.add(
        timeseries(
            "Error budget burn-down",
            "Share of the budget left over the SLO period: the agent's figure and the "
            "recording rules' slo:period_error_budget_remaining:ratio.",
            [
                Query(f"max by (slo) ({q.BUDGET_REMAINING}{{{THIS}}})", legend="{{slo}} (agent)"),
                Query(
                    f"max by (slo) ({q.RULE_PERIOD_REMAINING}{{{THIS}}})",
                    legend="{{slo}} (rules)",
                ),
            ],
            unit="percentunit",
            maximum=1,
        ),
        width=16,
    )


def _probes(layout: Layout) -> None:
    layout.row("Probes")
    layout.add(
        timeseries(
            "Probe outcomes by reason",
            "Probe runs per second by probe and reason (ok, timeout, connect, dns, tls, "
            "status, assertion, body_too_large, error).",
            [
                Query(
                    f"sum by (probe, reason) (rate({q.PROBE_RESULTS_TOTAL}{{{NODE}}}[{q.RATE}]))",
                    legend="{{probe}} {{reason}}",
                )
            ],
            unit="ops",
            stacked=True,
            bars=True,
        ),
        width=12,
    )
    failures = f'{q.PROBE_RESULTS_TOTAL}{{{NODE}, outcome="failure"}}'
    layout.add(
        bargauge(
            "Failures by reason (time range)",
            "Failed probe runs over the dashboard's time range, by reason.",
            [
                Query(
                    f"sum by (reason) (increase({failures}[{q.RANGE}]))",
                    legend="{{reason}}",
                    instant=True,
                )
            ],
            unit="none",
            colours=thresholds((None, "orange")),
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "Probe latency",
            "Probe duration quantiles by probe, failures included.",
            [
                Query(
                    q.quantile(quantile, q.PROBE_DURATION_BUCKET, NODE, "probe"),
                    legend=f"{{{{probe}}}} p{round(quantile * 100)}",
                )
                for quantile in (0.5, 0.9, 0.99)
            ],
            unit="s",
            minimum=0,
        ),
        width=12,
    )
    layout.add(
        timeseries(
            "SLI by window",
            "Good events over all events per window, as the agent evaluates it.",
            [Query(f"max by (slo, window) ({q.SLI_RATIO}{{{THIS}}})", "{{slo}} {{window}}")],
            unit="percentunit",
            maximum=1,
        ),
        width=12,
    )


def node_detail() -> Json:
    layout = Layout()
    _stats(layout)
    _burn(layout)
    _probes(layout)
    return dashboard(
        uid=NODE_UID,
        title="slo-agent / Node",
        description="One node's SLOs: burn rate per window, budget burn-down, probe outcomes "
        "by reason and latency (generated by slo-agent dashboards).",
        variables=[
            query_variable("mode", "Mode", MODE_VARIABLE, all_value=".*"),
            query_variable("node", "Node", NODE_VARIABLE, multi=False),
            query_variable("slo", "SLO", f"label_values({q.OBJECTIVE}{{{NODE}}}, slo)"),
        ],
        panels=layout.panels,
        time_from="now-24h",
    )
