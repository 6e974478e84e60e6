from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from agent.spec.schema import (
    COMBINED_FILE,
    KIND_FILES,
    main,
    render,
    schema_files,
    spec_json_schema,
    write_schemas,
)

COMMITTED = Path(__file__).parents[2] / "slo_specs" / "schema"
REGENERATE = "python -m agent.spec.schema slo_specs/schema"


@pytest.mark.parametrize("name", sorted(schema_files()))
def test_committed_schema_is_current(name: str) -> None:
    committed = COMMITTED / name
    assert committed.exists(), f"{committed} is missing: run `{REGENERATE}`"
    assert committed.read_text(encoding="utf-8") == render(schema_files()[name]), (
        f"{committed} is out of date with agent/spec/v1.py: run `{REGENERATE}` and commit it"
    )


def test_no_stale_schema_files_are_committed() -> None:
    assert sorted(path.name for path in COMMITTED.iterdir()) == sorted(schema_files())


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    for name, schema in schema_files().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(schema)


def test_combined_schema_dispatches_on_kind() -> None:
    validator = jsonschema.Draft202012Validator(spec_json_schema())
    windows = {
        "apiVersion": "slo-agent/v1",
        "kind": "AlertWindows",
        "metadata": {"name": "fast"},
        "spec": {"page": [{"budget_percent": 2, "long": "1h", "short": "5m"}]},
    }
    assert validator.is_valid(windows)
    assert not validator.is_valid({**windows, "kind": "Node"})
    assert not validator.is_valid({**windows, "kind": "Journey"})
    assert not validator.is_valid({**windows, "apiVersion": "slo-agent/v2"})


def test_write_schemas_writes_every_file_deterministically(tmp_path: Path) -> None:
    paths = write_schemas(tmp_path / "new")
    assert [path.name for path in paths] == [*KIND_FILES.values(), COMBINED_FILE]
    first = {path.name: path.read_bytes() for path in paths}
    write_schemas(tmp_path / "new")
    assert {path.name: path.read_bytes() for path in paths} == first
    for content in first.values():
        assert content.endswith(b"}\n")
        json.loads(content)


def test_main_writes_into_the_given_directory_or_shows_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "node.schema.json").exists()
    assert str(tmp_path / "node.schema.json") in capsys.readouterr().out
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err
