"""The OpenAPI document is assembled from one entry per endpoint, lists only what the app
serves, and marks the fields kept for earlier readers as deprecated."""

from __future__ import annotations

from typing import Any

from agent.api.openapi import ENDPOINTS, openapi_document

HISTORY: dict[str, Any] = {  # as another module would hand over a path item
    "get": {"summary": "history", "responses": {"200": {"description": "points"}}}
}


def test_one_more_endpoint_is_one_more_entry() -> None:
    served = [path for path, _ in ENDPOINTS] + ["/api/v1/history"]
    document = openapi_document(served, (*ENDPOINTS, ("/api/v1/history", HISTORY)))
    assert document["paths"]["/api/v1/history"] == HISTORY
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
