"""Property-based fuzzing of the spec loader and ``slo-agent validate``: random YAML-ish text
and mutated valid specs never raise anything but SpecError (so never a traceback), never hang
(the limits bound every example), and every problem names its file, and its document and field
when it is about a document.

Derandomized with a fixed example count, so CI runs the same examples every time (~20 s).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import SpecError, SpecProblem
from agent.spec.loader import load_specs

EXAMPLES = Path(__file__).resolve().parents[2] / "slo_specs" / "examples"
VALID = sorted(path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.yaml"))
ENV = {"ACME_TOKEN": "fuzz-token"}

FUZZ = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# pieces of YAML and of specs that make parsers and validators take unusual paths
TOKENS = [
    "apiVersion: slo-agent/v1\n",
    "kind: Node\n",
    "kind: Journey\n",
    "kind: AlertWindows\n",
    "kind: DecisionPolicy\n",
    "metadata: {name: a}\n",
    "spec:\n",
    "  ",
    "- ",
    "\n",
    "---\n",
    "...\n",
    "[",
    "]",
    "{",
    "}",
    ": ",
    ", ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "? ",
    "|\n",
    ">\n",
    "'",
    '"',
    "#",
    "%YAML 1.1\n",
    "!!binary ",
    "!!python/object:os.system ",
    "!!set ",
    "!!omap ",
    "<<: *a\n",
    "999999999999999999999999",
    "1e999",
    "-0",
    "0x1F",
    ".nan",
    "~",
    "null",
    "true",
    "interval: ",
    "999999999d",
    "30s",
    "0s",
    "1h30m",
    "window: ",
    "28d",
    "objective: ",
    "99.9",
    "100",
    "probes:\n",
    "slos:\n",
    "http: {url: 'http://127.0.0.1:9/'}",
    "\t",
    "\r\n",
    "\x00",
    "\x07",
    "\ufeff",
    "\u2028",
    "\U0001f600",
    "${ACME_TOKEN}",
    "${UNSET}",
    "é",
]


def _check(path: Path, problems: list[SpecProblem]) -> None:
    assert problems, "a SpecError without a problem"
    for problem in problems:
        assert problem.file == str(path), problem
        assert "\n" not in problem.message, problem
        if problem.document == 0:  # about the whole file: where in it, or why unreadable
            assert problem.message.startswith(("line ", "invalid YAML", "cannot be read")), problem
        else:  # about a document: its field, or the document as a whole (its root value)
            whole = problem.message.startswith(("must be a mapping", "line ", "unknown field"))
            assert problem.path or whole, problem


def _load(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="")
    try:
        load_specs([path], ENV)
    except SpecError as error:
        _check(path, error.problems)


yamlish = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=60).map("".join)


@FUZZ
@given(text=yamlish)
@pytest.mark.timeout(120)
def test_random_yamlish_text_is_loaded_or_refused_with_named_problems(
    tmp_path: Path, text: str
) -> None:
    _load(tmp_path / "fuzz.yaml", text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid example spec with a few edits: a slice cut out, a token put in, a span doubled."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        edit = draw(st.sampled_from(["cut", "insert", "double", "replace"]))
        if edit == "cut":
            text = text[:at] + text[end:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif edit == "double":
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[end:]
    return text


@FUZZ
@given(text=mutated())
@pytest.mark.timeout(120)
def test_mutated_valid_specs_are_loaded_or_refused_with_named_problems(
    tmp_path: Path, text: str
) -> None:
    _load(tmp_path / "fuzz.yaml", text)


@settings(FUZZ, max_examples=100)
@given(text=mutated() | yamlish)
@pytest.mark.timeout(120)
def test_validate_prints_problems_never_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cli.yaml"
    path.write_text(text, encoding="utf-8", newline="")
    result = CliRunner().invoke(app, ["validate", str(path)], env=ENV)
    assert result.exit_code in (0, 1), result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        for line in result.stderr.splitlines():
            assert line.startswith(f"{path}: "), line


def test_the_examples_are_valid_so_mutations_start_from_valid_specs() -> None:
    assert len(VALID) >= 5
    load_specs(sorted(EXAMPLES.glob("*.yaml")), ENV)
