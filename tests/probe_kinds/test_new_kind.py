"""A new probe kind is its own module plus one registration line: the test-only ``banner`` kind
runs end to end — spec loading, scheduling, probing, the store and the SLO — with no other
file changed, and no file outside the probe kinds names every kind."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.probe_kinds import ProbeKind, ProbeKinds
from agent.probe_kinds.registry import KINDS
from agent.probe_kinds.tcp import KIND as TCP
from agent.probes.result import Reason
from tests.probe_kinds.banner_kind import KIND as BANNER

ROOT = Path(__file__).resolve().parents[2]


def test_a_kind_registered_in_one_line_runs_through_spec_schedule_and_store(
    tmp_path: Path,
) -> None:
    script = ROOT / "tests" / "probe_kinds" / "banner_agent.py"
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    # Every greeting the server sent was read by one probe, and every other one lacked
    # "ESMTP". Without timeouts the figures are exact; on a loaded machine a probe may time out
    # (reason "timeout") before or after its greeting was sent: each shifts a figure by one.
    greeted, by_reason = seen["greeted"], seen["by_reason"]
    timeouts = by_reason.get("timeout", 0)
    assert set(by_reason) <= {"assertion", "timeout"}
    assert greeted >= 20
    assert greeted - timeouts <= seen["total"] - timeouts <= greeted
    assert greeted // 2 - timeouts <= by_reason["assertion"] <= greeted // 2
    assert seen["failures"] == sum(by_reason.values())
    assert (seen["slo_total"], seen["slo_bad"]) == (seen["total"], seen["failures"])


def test_the_kinds_are_frozen_once_the_spec_is_built_from_them() -> None:
    import agent.spec.v1  # noqa: F401  (builds the probe model from the kinds)

    with pytest.raises(RuntimeError, match="registered after the kinds were first used"):
        KINDS.register(BANNER)


def test_a_kind_is_registered_once_and_never_lists_ok_as_a_failure() -> None:
    kinds = ProbeKinds((TCP,))
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(TCP)
    with pytest.raises(ValueError, match="lists ok"):
        ProbeKinds().register(_with_ok_reason())
    assert kinds.of(TCP.check("db", 5432)) is TCP
    assert kinds.reasons() == TCP.reasons


def _with_ok_reason() -> ProbeKind[Any, Any]:
    return replace(BANNER, reasons=BANNER.reasons | {Reason.OK})


def _names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        alias.asname or alias.name.rpartition(".")[2]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_only_a_kinds_own_modules_name_its_check_type() -> None:
    # HttpCheck is also the request of journey steps and drills, so it is left out here
    for kind in KINDS:
        if kind.name == "http":
            continue
        own = {f"agent/probe_kinds/{kind.name}.py", f"agent/probes/{kind.name}.py"}
        naming = {
            str(path.relative_to(ROOT))
            for package in ("agent", "exporters")
            for path in (ROOT / package).rglob("*.py")
            if kind.check.__name__ in _names_in(path)
        }
        assert naming <= own, kind.name


def test_only_the_registry_imports_every_kind_module() -> None:
    modules = {f"agent.probe_kinds.{kind.name}" for kind in KINDS}
    importers = []
    for package in ("agent", "exporters"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported = {
                f"{node.module}.{alias.name}" if node.module == "agent.probe_kinds" else node.module
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module
                for alias in node.names
            }
            if modules <= imported:
                importers.append(str(path.relative_to(ROOT)))
    assert importers == ["agent/probe_kinds/registry.py"]
