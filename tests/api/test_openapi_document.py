"""The OpenAPI document is assembled from one entry per endpoint, lists only what the app
serves, and marks the fields kept for earlier readers as deprecated."""

from __future__ import annotations

from typing import Any

from agent.api.openapi import ENDPOINTS, openapi_document

EXTRA: dict[str, Any] = {  # as another module would hand over a path item
    "get": {"summary": "extra", "responses": {"200": {"description": "points"}}}
}


def test_one_more_endpoint_is_one_more_entry() -> None:
    served = [path for path, _ in ENDPOINTS] + ["/api/v1/extra"]
    document = openapi_document(served, (*ENDPOINTS, ("/api/v1/extra", EXTRA)))
    assert document["paths"]["/api/v1/extra"] == EXTRA
    assert list(document["paths"])[:3] == [
        "/api/v1/status",
        "/api/v1/journeys",
        "/api/v1/decisions",
    ]


def test_only_the_paths_the_app_serves_are_listed() -> None:
    document = openapi_document(["/healthz", "/api/v1/status"])
    assert set(document["paths"]) == {"/healthz", "/api/v1/status"}


def test_deprecated_fields_say_what_to_use_instead() -> None:
    schemas = openapi_document([])["components"]["schemas"]
    not_after = schemas["CertificateJson"]["properties"]["not_after"]
    assert (not_after["deprecated"], not_after["description"]) == (
        True,
        "Deprecated: Unix seconds; use expires_at",
    )
    assert "deprecated" not in schemas["CertificateJson"]["properties"]["expires_at"]
    evaluated = schemas["StatusJson"]["properties"]["evaluated_at"]
    assert (evaluated["type"], evaluated["format"]) == ("string", "date-time")


def test_the_shapes_are_closed_so_every_field_served_is_documented() -> None:
    schemas = openapi_document([])["components"]["schemas"]
    assert schemas["StatusJson"]["additionalProperties"] is False
    assert schemas["SloJson"]["additionalProperties"] is False
    windows = schemas["SloJson"]["properties"]["windows"]  # a map: any window label
    assert windows["additionalProperties"] == {"$ref": "#/components/schemas/WindowJson"}


def test_history_points_are_typed_with_their_time_as_rfc3339() -> None:
    document = openapi_document(["/api/v1/history"])
    schemas = document["components"]["schemas"]
    ok = document["paths"]["/api/v1/history"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HistoryJson"
    }
    series = schemas["HistorySeriesJson"]
    assert "required" not in series  # only the series asked for
    points = {
        name: prop["items"]["$ref"].rsplit("/", 1)[1] for name, prop in series["properties"].items()
    }
    assert points == {
        "sli": "SliPointJson",
        "budget": "BudgetPointJson",
        "burn": "BurnTierJson",
        "outcomes": "OutcomePointJson",
        "latency": "LatencyPointJson",
    }
    for name in ("SliPointJson", "BudgetPointJson", "BurnPointJson", "OutcomePointJson"):
        at = schemas[name]["properties"]["at"]
        assert (at["type"], at["format"]) == ("string", "date-time"), name
        assert schemas[name]["additionalProperties"] is False
    assert set(schemas["LatencyPointJson"]["properties"]) == {"at", "runs", "p50", "p90", "p99"}
