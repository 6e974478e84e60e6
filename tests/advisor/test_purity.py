"""The advisor does no I/O and never reads the clock: checked on its source, with the same
check as the SLO math; and it imports nothing that does (store, probes, runtime, exporters)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agent.advisor
from tests.slo.test_purity import violations

ADVISOR = Path(agent.advisor.__file__).parent
# the only agent modules the advisor may import: pure data and pure functions
ALLOWED = (
    "agent.advisor",
    "agent.model",
    "agent.durations",
    "agent.numbers",  # the one formatter of multiples for people
    "agent.probes.result",
    "agent.slo",
    "agent.probe_kinds",  # contracts and wire models: data; probers are imported when built
)
PURE_FROM_STORE = {  # minute arithmetic, ProbeCounts, the evidence records and histograms
    "agent.store.buckets",
    "agent.store.evidence",
    "agent.store.latency",
}


def modules() -> list[Path]:
    return sorted(ADVISOR.glob("*.py"))


def test_the_advisor_modules_are_all_checked() -> None:
    names = {path.stem for path in modules()}
    assert {"signals", "policy", "scores", "recommend", "hysteresis", "review"} <= names


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_advisor_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source) == []
    imported = [
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agent")
    ]
    for module in imported:
        assert module.startswith(ALLOWED) or module in PURE_FROM_STORE, module
