"""Grafana dashboards for slo-agent (``slo-agent dashboards -o DIR``), generated from the
metric and recording-rule names the agent and ``slo-agent rules`` produce.

:func:`dashboards` maps each file name to its dashboard; :func:`render` gives its JSON text
(deterministic). ``dashboard.schema.json`` next to this module is the JSON Schema they are
checked against.
"""

from __future__ import annotations

from pathlib import Path

from exporters.grafana.dashboard import PanelQuery, panel_queries, render, variable_queries
from exporters.grafana.decisions import decisions
from exporters.grafana.journeys import journeys
from exporters.grafana.node import node_detail
from exporters.grafana.overview import overview
from exporters.grafana.panels import Json

SCHEMA_PATH = Path(__file__).with_name("dashboard.schema.json")


def dashboards() -> dict[str, Json]:
    """File name -> dashboard, in a fixed order."""
    return {
        "slo-agent-overview.json": overview(),
        "slo-agent-node.json": node_detail(),
        "slo-agent-journeys.json": journeys(),
        "slo-agent-decisions.json": decisions(),
    }


__all__ = [
    "SCHEMA_PATH",
    "Json",
    "PanelQuery",
    "dashboards",
    "panel_queries",
    "render",
    "variable_queries",
]
