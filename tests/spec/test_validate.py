from __future__ import annotations

import io
from pathlib import Path

import pytest

from agent.cli.validate import validate
from tests.spec.helpers import node_yaml, write

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "slo_specs" / "examples"
BAD = ROOT / "tests" / "testdata" / "specs" / "bad"


def run(paths: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = validate(paths, env, out, err)
    return code, out.getvalue(), err.getvalue()


def test_valid_specs_print_a_summary_and_exit_0() -> None:
    code, out, err = run([str(EXAMPLES)], {"ACME_TOKEN": "x"})
    assert (code, err) == (0, "")
    assert out == "ok: 7 nodes, 12 probes, 16 SLOs, 1 journey, 1 alert window set from 7 files\n"


def test_counts_are_singular_for_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "slo_specs/one.yaml", node_yaml("one"))
    assert run([], {}) == (0, "ok: 1 node, 1 probe, 0 SLOs, 0 alert window sets from 1 file\n", "")


def test_invalid_specs_print_every_problem_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    names = ["bad-name.yaml", "objective-100.yaml"]
    code, out, err = run(names, {})
    expected = "".join((BAD / name).with_suffix(".expected").read_text() for name in names)
    assert (code, out, err) == (1, "", expected)


def test_an_unset_header_variable_is_a_warning_with_its_field(tmp_path: Path) -> None:
    probe = "  fallbacks:\n    - node: b\n      drill:\n        every: 1m\n        http:\n"
    probe += "          url: https://b.example/\n          headers: {X-Key: '${KEY}'}\n"
    path = write(tmp_path, "a.yaml", node_yaml("a", spec=probe), node_yaml("b"))
    code, out, err = run([str(path)], {})
    assert (code, out) == (
        0,
        "ok: 2 nodes, 2 probes, 0 SLOs, 0 alert window sets from 1 file (1 warning)\n",
    )
    assert err == (
        f"{path}: document 1: spec.fallbacks[0].drill.http.headers.X-Key: warning: "
        "environment variable KEY is not set (needed by header X-Key)\n"
    )
    assert run([str(path)], {"KEY": "k"})[:2] == (0, out.replace(" (1 warning)", ""))


def test_an_unset_variable_does_not_hide_real_problems(tmp_path: Path) -> None:
    probe = "  fallbacks:\n    - node: b\n      drill:\n        every: 1m\n        http:\n"
    probe += "          url: https://b.example/\n          headers: {X-Key: '${KEY}'}\n"
    probe += "          timeout: 5 parsecs\n"
    path = write(tmp_path, "a.yaml", node_yaml("a", spec=probe), node_yaml("b"))
    code, _, err = run([str(path)], {})
    assert code == 1
    assert "spec.fallbacks[0].drill.http.timeout" in err


def test_missing_paths_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["nowhere"], {}) == (1, "", "nowhere: no such file or directory\n")
    code, _, err = run([], {"SLO_AGENT_SPECS": "gone"})
    assert (code, err) == (1, "gone: no such file or directory (from $SLO_AGENT_SPECS)\n")


RATIO = "objective: 0.999, window: 28d, sli: {probe: home}"


def ratio_node(name: str = "shop") -> str:
    return node_yaml(name, spec=f"  slos:\n    - {{name: availability, {RATIO}}}\n")


def test_warnings_are_printed_and_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", ratio_node())
    code, out, err = run([str(path)], {})
    assert code == 0
    assert out == "ok: 1 node, 1 probe, 1 SLO, 0 alert window sets from 1 file (1 warning)\n"
    assert err == (
        f"{path}: document 1: spec.slos[0].objective: warning: objective 0.999 is a percent, "
        "so it means 0.999% of events must be good; if the ratio 0.999 was meant, write 99.9 "
        "(objectives are percents)\n"
    )


def test_strict_makes_warnings_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", ratio_node())
    out, err = io.StringIO(), io.StringIO()
    assert validate([str(path)], {}, out, err, strict=True) == 1
    assert out.getvalue() == ""
    assert err.getvalue().endswith(
        "warning: objective 0.999 is a percent, so it means 0.999% "
        "of events must be good; if the ratio 0.999 was meant, write 99.9 (objectives are "
        "percents)\n1 warning: errors under --strict\n"
    )
    clean = write(tmp_path, "b.yaml", node_yaml("b"))
    assert validate([str(clean)], {}, io.StringIO(), io.StringIO(), strict=True) == 0


def test_warnings_come_with_the_errors_of_the_same_load(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", ratio_node(), node_yaml("Bad_Name"))
    code, out, err = run([str(path)], {})
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: document 1: spec.slos[0].objective: warning: ")
    assert lines[1].startswith(f"{path}: document 2: metadata.name: must be ")


@pytest.mark.parametrize(
    ("objective", "warned"), [(0.999, True), (0.99, True), (1, False), (1.5, False), (99.9, False)]
)
def test_only_objectives_below_1_are_warned_about(
    tmp_path: Path, objective: float, warned: bool
) -> None:
    spec = (
        f"  slos:\n    - {{name: a, objective: {objective}, window: 28d, sli: {{probe: home}}}}\n"
    )
    path = write(tmp_path, "a.yaml", node_yaml("shop", spec=spec))
    code, _, err = run([str(path)], {})
    assert code == 0
    assert ("warning: objective" in err) is warned
