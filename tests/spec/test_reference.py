"""slo_specs/README.md documents every field of every kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.spec.schema import kind_json_schema
from agent.spec.v1_kinds import KINDS

README = Path(__file__).parents[2] / "slo_specs" / "README.md"
# a drill's and a journey step's http blocks are a probe's http block; documented once
SAME_AS = {
    "spec.fallbacks[].drill.http.": "spec.probes[].http.",
    "spec.steps[].http.": "spec.probes[].http.",
    "spec.steps[].fallback.http.": "spec.probes[].http.",
    # a request's own auth block is the node's spec.auth block (applied after the above)
    "spec.probes[].http.auth.": "spec.auth.",
}


def field_paths(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> list[str]:
    """Dotted paths of every field under ``node``; list items as ``[]``; maps not entered."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        return field_paths(schema, options[0], prefix)
    if node.get("type") == "array":
        return field_paths(schema, node["items"], prefix + "[]")
    paths: list[str] = []
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        paths.append(path)
        paths += field_paths(schema, child, path)
    return paths


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_field_is_in_the_reference(kind: str) -> None:
    schema = kind_json_schema(kind)
    text = README.read_text(encoding="utf-8")
    paths = field_paths(schema, schema, "")
    for prefix, documented in SAME_AS.items():
        paths = [documented + p.removeprefix(prefix) if p.startswith(prefix) else p for p in paths]
    assert len(paths) > 10
    missing = [path for path in paths if f"`{path}`" not in text]
    assert missing == [], f"fields of {kind} missing from {README.name}: {missing}"
