"""A whole Grafana dashboard: template variables, links, panels; and its deterministic JSON.

Every dashboard has a ``datasource`` variable (any Prometheus) that all queries use, so it
imports into any Grafana without editing, and links to the other slo-agent dashboards keeping
the time range and variables. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from exporters.grafana.panels import Json, datasource

SCHEMA_VERSION = 39  # Grafana 10.4+ reads it as is; older 9.x/10.x migrate it on load
TAG = "slo-agent"
LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$", re.S)


def datasource_variable() -> Json:
    return {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def query_variable(
    name: str,
    label: str,
    query: str,
    *,
    multi: bool = True,
    all_value: str | None = ".+",
) -> Json:
    """A variable filled from ``label_values(<selector>, <label>)``, refreshed with the time
    range. ``multi`` variables offer "All", which matches ``all_value`` (a regex)."""
    variable: Json = {
        "current": {},
        "datasource": datasource(),
        "definition": query,
        "hide": 0,
        "includeAll": multi,
        "label": label,
        "multi": multi,
        "name": name,
        "options": [],
        "query": {"query": query, "refId": f"{TAG}-{name}"},
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "type": "query",
    }
    if multi and all_value is not None:
        variable["allValue"] = all_value
    return variable


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    variables: Sequence[Json],
    panels: Sequence[Json],
    time_from: str = "now-6h",
) -> Json:
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [
            {
                "asDropdown": True,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": [TAG],
                "targetBlank": False,
                "title": "slo-agent dashboards",
                "type": "dashboards",
            }
        ],
        "panels": list(panels),
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG],
        "templating": {"list": [datasource_variable(), *variables]},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
    }


def render(board: Json) -> str:
    """The dashboard as JSON text: keys sorted, two-space indent, a final newline — the same
    bytes for the same dashboard on every run."""
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True, slots=True)
class PanelQuery:
    """One PromQL query of a dashboard, with where it comes from (for error messages)."""

    where: str  # "panel 'Budget remaining' A" or "variable node"
    expr: str


def panel_queries(board: Json) -> Iterator[PanelQuery]:
    """Every PromQL expression of a dashboard's panels, in panel order."""
    for panel in board["panels"]:
        for target in panel.get("targets", ()):
            yield PanelQuery(f"panel {panel['title']!r} {target['refId']}", target["expr"])


def variable_queries(board: Json) -> Iterator[PanelQuery]:
    """The series selector behind each ``label_values(<selector>, <label>)`` variable, as a
    query returning the series whose label values the variable offers."""
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.match(variable["query"]["query"])
        if match is None:
            raise ValueError(f"variable {variable['name']}: not a label_values() query")
        label = match["label"]
        yield PanelQuery(
            f"variable {variable['name']}", f"count by ({label}) ({match['selector']})"
        )
