"""Grafana panels and their Prometheus queries, as plain JSON data (dashboard schema 39).

Builders return fresh dicts; :class:`Layout` places panels on Grafana's 24-column grid row by
row and numbers them, so a dashboard's JSON depends only on the order panels are added in.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

GRID_WIDTH = 24
DATASOURCE: Json = {"type": "prometheus", "uid": "${datasource}"}


def datasource() -> Json:
    return dict(DATASOURCE)


@dataclass(frozen=True, slots=True)
class Query:
    """One PromQL query of a panel. ``instant`` queries feed tables and stats (one value per
    series, as a table when ``table``); the others draw a range."""

    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False

    def target(self, ref_id: str) -> Json:
        return {
            "datasource": datasource(),
            "editorMode": "code",
            "expr": self.expr,
            "format": "table" if self.table else "time_series",
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


def targets(queries: Sequence[Query]) -> list[Json]:
    return [query.target(chr(ord("A") + index)) for index, query in enumerate(queries)]


def thresholds(*steps: tuple[float | None, str]) -> Json:
    """``(None, "red"), (0.25, "yellow")``: red below 0.25, yellow from there (absolute)."""
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps],
    }


BUDGET_COLOURS = thresholds((None, "red"), (0.0, "orange"), (0.25, "yellow"), (0.5, "green"))
BURN_COLOURS = thresholds((None, "green"), (1.0, "yellow"), (2.0, "orange"), (10.0, "red"))
ALERT_STATES: list[Json] = [
    {
        "type": "value",
        "options": {
            "0": {"color": "green", "index": 0, "text": "ok"},
            "1": {"color": "yellow", "index": 1, "text": "ticket"},
            "2": {"color": "red", "index": 2, "text": "page"},
        },
    }
]


def field_defaults(
    unit: str,
    *,
    decimals: int | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    colours: Json | None = None,
    mappings: Sequence[Json] = (),
    custom: Mapping[str, Any] | None = None,
) -> Json:
    defaults: Json = {
        "color": {"mode": "thresholds" if colours is not None else "palette-classic"},
        "mappings": list(mappings),
        "thresholds": colours if colours is not None else thresholds((None, "green")),
        "unit": unit,
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if custom:
        defaults["custom"] = dict(custom)
    return defaults


def _panel(
    kind: str, title: str, description: str, queries: Sequence[Query], defaults: Json
) -> Json:
    return {
        "datasource": datasource(),
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "targets": targets(queries),
        "title": title,
        "type": kind,
    }


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    minimum: float | None = None,
    maximum: float | None = None,
    stacked: bool = False,
    bars: bool = False,
    threshold_line: float | None = None,
) -> Json:
    custom: Json = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 60 if bars or stacked else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stacked else "none"},
        "thresholdsStyle": {"mode": "off" if threshold_line is None else "dashed"},
    }
    colours = None
    if threshold_line is not None:
        colours = thresholds((None, "green"), (threshold_line, "red"))
    defaults = field_defaults(
        unit, minimum=minimum, maximum=maximum, colours=colours, custom=custom
    )
    if threshold_line is not None:  # the line only: series keep their palette colours
        defaults["color"] = {"mode": "palette-classic"}
    panel = _panel("timeseries", title, description, queries, defaults)
    panel["options"] = {
        "legend": {
            "calcs": ["lastNotNull", "max"],
            "displayMode": "table",
            "placement": "bottom",
            "showLegend": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def stat(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    decimals: int | None = None,
    colours: Json | None = None,
    mappings: Sequence[Json] = (),
) -> Json:
    defaults = field_defaults(
        unit, decimals=decimals, colours=colours or thresholds((None, "blue")), mappings=mappings
    )
    panel = _panel("stat", title, description, queries, defaults)
    panel["options"] = {
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "value_and_name",
    }
    return panel


def bargauge(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    minimum: float | None = None,
    maximum: float | None = None,
    colours: Json | None = None,
) -> Json:
    defaults = field_defaults(
        unit, minimum=minimum, maximum=maximum, colours=colours or thresholds((None, "blue"))
    )
    panel = _panel("bargauge", title, description, queries, defaults)
    panel["options"] = {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
    }
    return panel


@dataclass(frozen=True, slots=True)
class Column:
    """One value column of a table: the instant query that fills it and how it is shown."""

    name: str
    query: Query
    unit: str = "none"
    decimals: int | None = None
    colours: Json | None = None
    mappings: Sequence[Json] = ()
    cell: str = "auto"  # auto | color-background | color-text | gauge


def table(
    title: str,
    description: str,
    columns: Sequence[Column],
    *,
    labels: Sequence[str],
    links: Mapping[str, Json] | None = None,
    matrix: tuple[str, str] | None = None,
) -> Json:
    """A table of instant queries, one row per combination of ``labels`` (merged on them),
    one column per query. ``links`` adds a data link to the column of that label.
    ``matrix=(row_label, column_label)`` turns a single query into a grid (a row per
    ``row_label`` value, a column per ``column_label`` value)."""
    queries = [column.query for column in columns]
    panel = _panel("table", title, description, queries, field_defaults("none"))
    overrides: list[Json] = []
    ref = {chr(ord("A") + index): column for index, column in enumerate(columns)}
    for ref_id, column in ref.items():
        properties: list[Json] = [
            {"id": "displayName", "value": column.name},
            {"id": "unit", "value": column.unit},
            {"id": "custom.cellOptions", "value": {"type": column.cell}},
        ]
        if column.decimals is not None:
            properties.append({"id": "decimals", "value": column.decimals})
        if column.colours is not None:
            properties.append({"id": "thresholds", "value": column.colours})
        if column.mappings:
            properties.append({"id": "mappings", "value": list(column.mappings)})
        overrides.append(
            {"matcher": {"id": "byName", "options": f"Value #{ref_id}"}, "properties": properties}
        )
    for label, link in sorted((links or {}).items()):
        overrides.append(
            {
                "matcher": {"id": "byName", "options": label},
                "properties": [{"id": "links", "value": [link]}],
            }
        )
    panel["fieldConfig"]["overrides"] = overrides
    if matrix is not None:
        row_label, column_label = matrix
        panel["transformations"] = [
            {
                "id": "groupingToMatrix",
                "options": {
                    "columnField": column_label,
                    "rowField": row_label,
                    "valueField": "Value",
                },
            }
        ]
    else:
        keep = {name: index for index, name in enumerate(labels)}
        keep |= {f"Value #{ref_id}": len(labels) + i for i, ref_id in enumerate(ref)}
        panel["transformations"] = [
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"Time": True},
                    "includeByName": dict.fromkeys(keep, True),
                    "indexByName": keep,
                    "renameByName": {},
                },
            },
        ]
    panel["options"] = {
        "cellHeight": "sm",
        "footer": {"show": False, "reducer": ["sum"], "fields": ""},
        "showHeader": True,
        "sortBy": [{"displayName": labels[0], "desc": False}] if labels else [],
    }
    return panel


def row(title: str) -> Json:
    return {"collapsed": False, "panels": [], "title": title, "type": "row"}


@dataclass(slots=True)
class Layout:
    """Panels placed left to right, wrapping at 24 columns; a row starts on a line of its own."""

    panels: list[Json] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _height: int = 0  # of the tallest panel on the current line

    def row(self, title: str) -> None:
        self._newline()
        self._place(row(title), width=GRID_WIDTH, height=1)
        self._newline()

    def add(self, panel: Json, *, width: int, height: int = 8) -> None:
        if self._x + width > GRID_WIDTH:
            self._newline()
        self._place(panel, width=width, height=height)

    def _place(self, panel: Json, *, width: int, height: int) -> None:
        placed = {"id": len(self.panels) + 1, **panel}
        placed["gridPos"] = {"h": height, "w": width, "x": self._x, "y": self._y}
        self.panels.append(placed)
        self._x += width
        self._height = max(self._height, height)

    def _newline(self) -> None:
        if self._x > 0:
            self._y += self._height
        self._x = 0
        self._height = 0
