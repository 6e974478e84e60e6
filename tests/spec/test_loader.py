from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import SpecError
from agent.model import HttpCheck, Severity
from agent.spec.loader import load_specs, spec_paths
from tests.spec.helpers import node_yaml, write

SECRET = "s3cr3t-token-value"

HEADERS = """\
      http:
        url: https://api.example/
        headers:
          Authorization: "Bearer ${API_TOKEN}"
          X-Literal: "$${NOT_EXPANDED} and $HOME"
          X-Twice: "${API_TOKEN}/${REGION}"
"""


def problems(error: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return str(error.value).splitlines()


# --- spec_paths ---------------------------------------------------------------------------


def test_args_win_over_env_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    given = write(tmp_path, "given.yaml", node_yaml("a"))
    write(tmp_path, "from-env/b.yaml", node_yaml("b"))
    write(tmp_path, "slo_specs/c.yaml", node_yaml("c"))
    assert spec_paths(["given.yaml"], {"SLO_AGENT_SPECS": "from-env"}) == [Path("given.yaml")]
    assert given.exists()


def test_env_var_holds_several_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "one/b.yaml", node_yaml("b"))
    write(tmp_path, "two.yml", node_yaml("c"))
    write(tmp_path, "slo_specs/c.yaml", node_yaml("c"))
    env = {"SLO_AGENT_SPECS": os.pathsep.join(["one", "", "two.yml"])}
    assert spec_paths([], env) == [Path("one/b.yaml"), Path("two.yml")]


def test_default_is_slo_specs_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "slo_specs/c.yaml", node_yaml("c"))
    assert spec_paths([], {}) == [Path("slo_specs/c.yaml")]
    assert spec_paths([], {"SLO_AGENT_SPECS": ""}) == [Path("slo_specs/c.yaml")]


def test_directories_are_walked_sorted_for_yaml_only(tmp_path: Path) -> None:
    for name in ["b/z.yaml", "b/a.yml", "a.YAML", "c/d/e.yaml", "notes.md", "schema.json"]:
        write(tmp_path, name, node_yaml("x"))
    # Kubernetes ConfigMap mounts keep a second copy of every file under "..data"
    write(tmp_path, "..2024_01_01/hidden.yaml", node_yaml("x"))
    write(tmp_path, ".hidden.yaml", node_yaml("x"))
    found = [path.relative_to(tmp_path).as_posix() for path in spec_paths([str(tmp_path)], {})]
    assert found == ["a.YAML", "b/a.yml", "b/z.yaml", "c/d/e.yaml"]


def test_a_file_given_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", node_yaml("a"))
    assert spec_paths([str(path), str(tmp_path), str(path)], {}) == [path]


def test_a_file_given_by_name_is_taken_whatever_its_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "specs.txt", node_yaml("a"))
    assert spec_paths([str(path)], {}) == [path]


def test_missing_paths_are_all_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError) as caught:
        spec_paths(["nope.yaml", "empty", "gone/"], {})
    assert problems(caught) == [
        "nope.yaml: no such file or directory",
        "empty: no *.yaml or *.yml files in this directory",
        "gone: no such file or directory",
    ]


def test_missing_default_and_env_paths_say_where_they_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as caught:
        spec_paths([], {})
    assert problems(caught) == [
        "slo_specs: no such file or directory (the default; give spec paths as arguments "
        "or set $SLO_AGENT_SPECS)"
    ]
    with pytest.raises(SpecError) as caught:
        spec_paths([], {"SLO_AGENT_SPECS": "elsewhere"})
    assert problems(caught) == ["elsewhere: no such file or directory (from $SLO_AGENT_SPECS)"]


# --- load_specs ---------------------------------------------------------------------------


def test_loads_nodes_sorted_with_the_default_windows(tmp_path: Path) -> None:
    first = write(tmp_path, "1.yaml", node_yaml("zeta"), "", node_yaml("alpha"))
    second = write(tmp_path, "2.yaml", node_yaml("mid"))
    specs = load_specs([first, second], {})
    assert [node.name for node in specs.nodes] == ["alpha", "mid", "zeta"]
    assert list(specs.alert_windows) == ["default"]
    assert specs.sources == (str(first), str(second))
    assert specs.windows_for(specs.node("alpha")).name == "default"


def test_empty_files_and_documents_are_skipped(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.yaml", "# nothing here yet\n")
    blank = write(tmp_path, "blank.yaml", "", "", node_yaml("a"), "")
    specs = load_specs([empty, blank], {})
    assert [node.name for node in specs.nodes] == ["a"]


def test_a_user_document_named_default_replaces_the_built_in(tmp_path: Path) -> None:
    windows = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: default}
spec:
  page: [{budget_percent: 3, long: 2h, short: 10m}]
"""
    path = write(tmp_path, "a.yaml", windows, node_yaml("a"))
    specs = load_specs([path], {})
    (tier,) = specs.alert_windows["default"].tiers
    assert (tier.severity, tier.budget_fraction) == (Severity.PAGE, 0.03)


def test_node_names_are_unique_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", node_yaml("shop"))
    second = write(tmp_path, "b.yaml", node_yaml("other"), node_yaml("shop"))
    with pytest.raises(SpecError) as caught:
        load_specs([first, second], {})
    assert problems(caught) == [
        f'{second}: document 2: metadata.name: Node "shop" is already defined in {first} '
        "(document 1)"
    ]


def test_same_name_for_a_node_and_alert_windows_is_fine(tmp_path: Path) -> None:
    windows = "apiVersion: slo-agent/v1\nkind: AlertWindows\nmetadata: {name: shop}\n"
    windows += "spec: {ticket: [{budget_percent: 10, long: 1d, short: 2h}]}\n"
    path = write(
        tmp_path, "a.yaml", node_yaml("shop", spec="  alerting: {windows: shop}\n"), windows
    )
    specs = load_specs([path], {})
    assert specs.windows_for(specs.node("shop")).tiers[0].severity is Severity.TICKET


def test_problems_of_all_files_are_reported_in_file_order(tmp_path: Path) -> None:
    first = write(tmp_path, "b.yaml", node_yaml("Bad_Name"))
    second = write(tmp_path, "a.yaml", "kind: Node\n", node_yaml("x", spec="  owner2: y\n"))
    with pytest.raises(SpecError) as caught:
        load_specs([first, second], {})
    lines = problems(caught)
    assert [line.split(":")[0] for line in lines] == [str(first), str(second), str(second)]
    assert len(caught.value.problems) == 3
    assert caught.value.problems[2].document == 2
    assert caught.value.problems[2].path == "spec"


def test_a_broken_document_still_counts_as_a_fallback_target(tmp_path: Path) -> None:
    shop = node_yaml("shop", spec="  fallbacks: [{node: backup}]\n")
    backup = node_yaml("backup", spec="  slos: oops\n")
    path = write(tmp_path, "a.yaml", shop, backup)
    with pytest.raises(SpecError) as caught:
        load_specs([path], {})
    assert problems(caught) == [f'{path}: document 2: spec.slos: must be a list, got "oops"']


def test_references_are_not_judged_when_a_file_is_unreadable(tmp_path: Path) -> None:
    shop = write(tmp_path, "shop.yaml", node_yaml("shop", spec="  fallbacks: [{node: backup}]\n"))
    broken = write(tmp_path, "backup.yaml", node_yaml("backup") + "  : [\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00kind")
    with pytest.raises(SpecError) as caught:
        load_specs([shop, broken, binary], {})
    lines = problems(caught)
    assert len(lines) == 2
    assert lines[0] == (
        f"{broken}: line 11, column 3: invalid YAML: expected <block end>, but found ':' "
        "(while parsing a block mapping at line 5, column 3)"
    )
    assert lines[1] == f"{binary}: cannot be read: not UTF-8 text"


def test_documents_before_a_syntax_error_are_still_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", node_yaml("Bad"), "key: [unclosed\n")
    with pytest.raises(SpecError) as caught:
        load_specs([path], {})
    lines = problems(caught)
    assert lines[0].startswith(f"{path}: document 1: metadata.name: must be lowercase")
    # line numbers count from the top of the file, not of the document
    assert lines[1] == (
        f"{path}: line 13, column 1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 12, column 6)"
    )


# --- ${VAR} in headers --------------------------------------------------------------------


def header_specs(tmp_path: Path, env: dict[str, str]) -> HttpCheck:
    probe = f"  probes:\n    - name: api\n{HEADERS}"
    text = node_yaml("api").split("  probes:")[0] + probe
    specs = load_specs([write(tmp_path, "a.yaml", text)], env)
    check = specs.node("api").probes[0].check
    assert isinstance(check, HttpCheck)
    return check


def test_header_variables_are_expanded_and_escapes_kept_literal(tmp_path: Path) -> None:
    check = header_specs(tmp_path, {"API_TOKEN": SECRET, "REGION": "eu"})
    assert dict(check.headers) == {
        "Authorization": f"Bearer {SECRET}",
        "X-Literal": "${NOT_EXPANDED} and $HOME",
        "X-Twice": f"{SECRET}/eu",
    }


def test_secret_header_values_never_show(tmp_path: Path) -> None:
    check = header_specs(tmp_path, {"API_TOKEN": SECRET, "REGION": "eu"})
    specs = load_specs(spec_paths([str(tmp_path)], {}), {"API_TOKEN": SECRET, "REGION": "eu"})
    assert SECRET in check.headers["Authorization"]
    assert SECRET not in repr(specs)
    assert SECRET not in repr(check)
    assert SECRET not in str(specs.nodes)


def test_missing_variables_name_the_variable_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        header_specs(tmp_path, {"REGION": SECRET})
    path = tmp_path / "a.yaml"
    assert problems(caught) == [
        f"{path}: document 1: spec.probes[0].http.headers.Authorization: environment variable "
        "API_TOKEN is not set (needed by header Authorization)",
        f"{path}: document 1: spec.probes[0].http.headers.X-Twice: environment variable "
        "API_TOKEN is not set (needed by header X-Twice)",
    ]
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.problems)
