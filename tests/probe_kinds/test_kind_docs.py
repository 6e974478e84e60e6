"""Every registered probe kind is documented in slo_specs/README.md with what it measures and
exactly the failure reasons it declares."""

from __future__ import annotations

from pathlib import Path

from agent.probe_kinds.registry import KINDS
from agent.probes.result import Reason

README = Path(__file__).resolve().parents[2] / "slo_specs" / "README.md"


def _documented() -> dict[str, tuple[str, set[str]]]:
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[2].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], set(cells[2].strip("`").split()))
    return rows


def test_each_kind_is_documented_with_what_it_measures_and_its_reasons() -> None:
    documented = _documented()
    for kind in KINDS:
        assert documented[kind.name] == (kind.measures, {r.value for r in kind.reasons})


def test_every_reason_but_ok_is_one_some_kind_can_produce() -> None:
    assert KINDS.reasons() == set(Reason) - {Reason.OK}
