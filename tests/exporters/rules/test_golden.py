"""Generated rules against golden files (byte for byte), and promtool's verdict on each.

Refresh the goldens after an intended change with ``pytest --update-golden`` and review the
diff. Inputs: ``tests/golden/rules/input/<case>.yaml``; outputs: ``<case>.rules.yaml`` (plain
rule file) and ``<case>.operator.yaml`` (PrometheusRule).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.spec.loader import load_specs
from exporters.prometheus.rules import RuleFormat, render, rule_set
from tests.exporters.rules.promtool_check import assert_valid, operator_groups_file

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "rules"
CASES = sorted(path.stem for path in (GOLDEN / "input").glob("*.yaml"))
SUFFIX = {RuleFormat.PROMETHEUS: "rules.yaml", RuleFormat.OPERATOR: "operator.yaml"}


def generated(case: str, fmt: RuleFormat) -> str:
    specs = load_specs([GOLDEN / "input" / f"{case}.yaml"], {})
    return render(rule_set(specs), fmt)


def test_the_cases_the_issue_asks_for_are_there() -> None:
    expected = {"availability", "latency", "custom-windows", "seven-days", "calendar-month"}
    assert expected | {"prometheus-sli"} <= set(CASES)


@pytest.mark.parametrize("fmt", list(RuleFormat))
@pytest.mark.parametrize("case", CASES)
def test_rules_match_golden(case: str, fmt: RuleFormat, update_golden: bool) -> None:
    golden = GOLDEN / f"{case}.{SUFFIX[fmt]}"
    text = generated(case, fmt)
    if update_golden:
        golden.write_text(text)
    assert golden.exists(), f"{golden} is missing: run pytest --update-golden"
    assert text == golden.read_text(), f"{golden.name} differs: review, then --update-golden"
    assert text == generated(case, fmt), "two runs must give the same bytes"


@pytest.mark.parametrize("case", CASES)
def test_promtool_accepts_every_golden(case: str, tmp_path: Path) -> None:
    plain = GOLDEN / f"{case}.{SUFFIX[RuleFormat.PROMETHEUS]}"
    operator = (GOLDEN / f"{case}.{SUFFIX[RuleFormat.OPERATOR]}").read_text()
    rules = assert_valid(plain)
    assert assert_valid(operator_groups_file(operator, tmp_path)) == rules
    document = yaml.safe_load(operator)
    assert (document["apiVersion"], document["kind"]) == (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
    )
    assert yaml.safe_load(plain.read_text())["groups"] == document["spec"]["groups"]
