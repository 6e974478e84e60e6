"""Every bad spec in tests/testdata/specs/bad gives exactly the lines in its .expected file:
its problems, or, for a spec that loads with warnings, its warnings as validate prints them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import SpecError
from agent.spec.loader import load_specs

BAD = Path(__file__).parent.parent / "testdata" / "specs" / "bad"
CASES = sorted(BAD.glob("*.yaml"))
ENV = {"ACME_TOKEN": "acme-secret-value"}


def load_problems(name: str) -> list[str]:
    """The lines a user sees for bad/<name>, loaded as ``name`` relative to the folder: every
    problem, or every warning when it loads (a case must have one or the other)."""
    try:
        specs = load_specs([Path(name)], ENV)
    except SpecError as error:
        return str(error).splitlines()
    assert specs.warnings, f"{name} loads without a warning: it is no bad spec"
    return [warning.as_warning() for warning in specs.warnings]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 20
    missing = [case.name for case in CASES if not case.with_suffix(".expected").exists()]
    assert missing == [], f"bad specs without an .expected file: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_bad_spec_reports_exactly_the_expected_lines(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BAD)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert load_problems(case.name) == expected


def test_every_line_names_the_file_and_never_has_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(BAD)
    for case in CASES:
        for line in load_problems(case.name):
            assert line.startswith(f"{case.name}: "), line
            assert "Traceback" not in line
            assert "pydantic" not in line
            assert "Input should be" not in line, line


def test_missing_variable_names_variable_and_header_but_no_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(BAD)
    text = "\n".join(load_problems("missing-env-var.yaml"))
    assert "MISSING_TOKEN" in text
    assert "header Authorization" in text
    for value in ("Bearer", "literal-secret-value-123", ENV["ACME_TOKEN"]):
        assert value not in text


def test_bad_header_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    text = "\n".join(load_problems("header-template.yaml"))
    assert "headers.Authorization" in text
    assert "Bearer" not in text
    assert "got 3" not in text
