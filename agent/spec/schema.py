"""JSON Schema (draft 2020-12) of the spec, generated from the v1 models, for editors.

``python -m agent.spec.schema slo_specs/schema`` rewrites the committed files; a test keeps them
current. The schema cannot say everything the loader checks (references between documents,
``timeout`` not longer than ``interval``...): ``slo-agent validate`` is the final word.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import CoreSchema, core_schema

from agent.spec import v1_kinds

DIALECT = "https://json-schema.org/draft/2020-12/schema"
KIND_FILES = {
    "Node": "node.schema.json",
    "AlertWindows": "alertwindows.schema.json",
    "Journey": "journey.schema.json",
    "DecisionPolicy": "decisionpolicy.schema.json",
}
COMBINED_FILE = "spec.schema.json"


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, without a title on every field (noise in editors' hovers)."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        """Maps with constrained keys: ``propertyNames`` rejects a bad key, where pydantic's
        ``patternProperties`` would let it through unchecked."""
        result = super().dict_schema(schema)
        patterns = result.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            result["propertyNames"] = {"pattern": pattern}
            result["additionalProperties"] = values
        return result


def kind_json_schema(kind: str) -> dict[str, Any]:
    """The schema of one kind of document, e.g. ``"Node"``."""
    document = v1_kinds.KINDS[kind].document
    schema = document.model_json_schema(by_alias=True, schema_generator=_Generator)
    return {"$schema": DIALECT, **schema}


def spec_json_schema() -> dict[str, Any]:
    """One schema for any v1 document: the ``kind`` field selects the kind's schema."""
    models = [(kind.document, "validation") for kind in v1_kinds.KINDS.values()]
    _, definitions = models_json_schema(
        models,  # type: ignore[arg-type]
        ref_template="#/$defs/{model}",
        schema_generator=_Generator,
    )
    branches = [
        {
            "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
            "then": {"$ref": f"#/$defs/{kind.document.__name__}"},
        }
        for name, kind in v1_kinds.KINDS.items()
    ]
    return {
        "$schema": DIALECT,
        "title": f"{v1_kinds.API_VERSION} spec document",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {
            "apiVersion": {"const": v1_kinds.API_VERSION},
            "kind": {"enum": list(v1_kinds.KINDS)},
        },
        "allOf": branches,
        "$defs": definitions["$defs"],
    }


def schema_files() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every file ``write_schemas`` writes."""
    files = {file: kind_json_schema(kind) for kind, file in KIND_FILES.items()}
    files[COMBINED_FILE] = spec_json_schema()
    return files


def render(schema: dict[str, Any]) -> str:
    """The exact text of a schema file: pretty, deterministic, newline-terminated."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema file into ``directory`` (created if missing); return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, schema in schema_files().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m agent.spec.schema DIRECTORY", file=sys.stderr)
        return 2
    for path in write_schemas(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
