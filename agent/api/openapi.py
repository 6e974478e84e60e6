"""The OpenAPI 3.1 document the agent serves on ``/api/v1/openapi.json``.

It is assembled from :data:`ENDPOINTS`, one entry per path (a path and its OpenAPI path item
object): a new endpoint is one more entry. The JSON response schemas are derived from the
:class:`typing.TypedDict` shapes the builders return (:mod:`agent.api.status_json`,
:mod:`agent.api.journeys_json`, :mod:`agent.api.decisions_types`,
:mod:`agent.api.history_types`), so the document cannot
drift from what mypy checks the code produces. The document lists only the paths the running
app serves (``/api/v1/decisions`` only when the advisor runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from agent.api.decisions_types import DecisionsJson
from agent.api.history import DEFAULT_POINTS, JOURNEY_SERIES, MAX_POINTS, SERIES
from agent.api.history_types import HistoryJson
from agent.api.journeys_json import JourneysJson
from agent.api.status_json import StatusJson
from agent.api.status_query import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from agent.slo.status import PRECEDENCE
from agent.spec.scalars import NAME_PATTERN
from agent.version import agent_version

PATH = "/api/v1/openapi.json"
REF = "#/components/schemas/{model}"


class ErrorJson(TypedDict):
    error: str  # one line: what is wrong (a 400: which parameter, and what is allowed)


SHAPES: tuple[type, ...] = (StatusJson, JourneysJson, DecisionsJson, HistoryJson, ErrorJson)
"""The response shapes whose schemas go to ``components.schemas`` (under their class names)."""

DEPRECATED: Mapping[tuple[str, str], str] = {
    ("CertificateJson", "not_after"): "Unix seconds; use expires_at",
    ("CertificateJson", "not_after_iso"): "use expires_at",
    ("FailureJson", "started_at"): "Unix seconds; use run_started_at",
    ("FailureJson", "started_at_iso"): "use run_started_at",
}
"""Fields kept for readers of earlier versions: (schema, field) -> what to use instead."""


def _json(shape: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=shape)}}},
    }


def _text(description: str, media: tuple[str, ...] = ("text/plain",)) -> dict[str, Any]:
    return {
        "description": description,
        "content": {m: {"schema": {"type": "string"}} for m in media},
    }


def _get(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": responses, **extra}}


def _array(name: str, items: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "description": description,
        "schema": {"type": "array", "items": items},
    }


PENDING = _json("ErrorJson", "The first SLO evaluation has not finished yet")

STATUS_PARAMETERS = [
    _array("node", {"type": "string", "pattern": NAME_PATTERN}, "Only these nodes and journeys"),
    _array(
        "state",
        {"type": "string", "enum": [s.value for s in PRECEDENCE]},
        "Only nodes and journeys in one of these states (a node's: its SLOs' worst)",
    ),
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"At most this many nodes (default {DEFAULT_LIMIT})",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The next_cursor of the previous page: the last node returned, "
        "state:node; the page starts after it",
        "schema": {"type": "string", "pattern": CURSOR_PATTERN},
    },
]

STATUS = _get(
    "Every node and SLO, most urgent first, with the whole set's summary counts",
    {
        "200": _json("StatusJson", "The selected nodes and journeys"),
        "400": _json("ErrorJson", "A bad query parameter, named with what is allowed"),
        "503": PENDING,
    },
    parameters=STATUS_PARAMETERS,
)


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


HISTORY = _get(
    "Series for the charts of a node or a journey",
    {
        "200": _json("HistoryJson", "The series asked for"),
        "400": _json("ErrorJson", "A bad query parameter, named with what is allowed"),
        "404": _json("ErrorJson", "No such node, journey or SLO"),
        "503": PENDING,
    },
    description=(
        "SLI per step, error budget remaining over the SLO period and burn rate over each "
        "alert tier's windows at the end of each step, probe outcomes by reason and latency "
        "percentiles (known to the latency histogram's bucket bounds) per step. Computed from "
        "buckets that count every run. Each point's 'at' is the end of its step. At most "
        f"{MAX_POINTS} points per series."
    ),
    parameters=[
        _query("node", "A node's name (give node or journey)"),
        _query("journey", "A journey's name (give node or journey)"),
        _query("slo", "The SLO (required for the series sli, budget and burn)"),
        _query(
            "series",
            f"Comma-separated subset of {', '.join(SERIES)}; journeys have "
            f"{', '.join(JOURNEY_SERIES)}. Default: all",
        ),
        _query("range", "How far back, whole minutes (e.g. 6h, 1d); default the SLO period"),
        _query("step", f"Step between points, whole minutes; default range/{DEFAULT_POINTS}"),
    ],
)

ENDPOINTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/api/v1/status", STATUS),
    (
        "/api/v1/journeys",
        _get(
            "Every journey: its SLOs, blame per hop and partner, dependency ceiling",
            {"200": _json("JourneysJson", "The journey views"), "503": PENDING},
        ),
    ),
    (
        "/api/v1/decisions",
        _get(
            "The advisor's review of every node (served when the advisor runs)",
            {
                "200": _json("DecisionsJson", "The latest review"),
                "503": _json("ErrorJson", "The first decision review has not finished yet"),
            },
        ),
    ),
    (PATH, _get("This document", {"200": _text("OpenAPI 3.1", ("application/json",))})),
    ("/healthz", _get("Liveness", {"200": _text("The process answers")})),
    (
        "/readyz",
        _get(
            "Readiness: the first SLO evaluation has finished",
            {"200": _text("Ready"), "503": _text("Not ready yet")},
        ),
    ),
    (
        "/metrics",
        _get(
            "Prometheus exposition (OpenMetrics when asked with Accept)",
            {
                "200": _text(
                    "The metrics",
                    ("text/plain", "application/openmetrics-text"),
                )
            },
        ),
    ),
    (
        "/",
        _get(
            "The status page",
            {"200": _text("HTML", ("text/html",)), "503": _text("Pending", ("text/html",))},
        ),
    ),
    ("/api/v1/history", HISTORY),
    *(
        (
            f"/{kind}s/{{name}}",
            _get(
                f"A {kind}'s page: charts, incidents, alert tiers in words",
                {
                    "200": _text("HTML", ("text/html",)),
                    "404": _text(f"No such {kind} (HTML)", ("text/html",)),
                    "503": _text("Pending", ("text/html",)),
                },
                parameters=[
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": NAME_PATTERN},
                    }
                ],
            ),
        )
        for kind in ("node", "journey")
    ),
)
"""Every path the agent may serve and its OpenAPI path item object: one entry per path."""


@cache
def component_schemas() -> dict[str, Any]:
    """``components.schemas``: the response shapes and every shape they contain."""
    schemas: dict[str, Any] = {}
    for shape in SHAPES:
        schema = TypeAdapter(shape).json_schema(ref_template=REF, mode="serialization")
        for name, defined in [*schema.pop("$defs", {}).items(), (shape.__name__, schema)]:
            if schemas.setdefault(name, defined) != defined:  # two shapes of one name
                raise ValueError(f"two response shapes are named {name}: rename one")
    for schema in schemas.values():  # closed: a field the code adds must be documented first
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    for (name, field), instead in DEPRECATED.items():
        prop = schemas[name]["properties"][field]
        prop["deprecated"] = True
        prop["description"] = f"Deprecated: {instead}"
    return schemas


def openapi_document(
    served: Iterable[str],
    endpoints: Iterable[tuple[str, dict[str, Any]]] = ENDPOINTS,
) -> dict[str, Any]:
    """The document for the paths in ``served`` (the app's routes)."""
    wanted = set(served)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "slo-agent",
            "version": agent_version(),
            "description": "Timestamps are RFC 3339 strings in UTC ending in Z, in fields named "
            "*_at or since; durations are seconds, in fields named *_seconds.",
        },
        "paths": {path: item for path, item in endpoints if path in wanted},
        "components": {"schemas": component_schemas()},
    }
