"""``slo-agent rules``: stdout or ``-o FILE``, both formats, spec errors, usage errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from agent.cli.rules import rules
from agent.errors import SpecError
from exporters.prometheus.rules import RuleFormat
from tests.support.cli import slo_agent

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "rules"
BAD_SPEC = ROOT / "tests" / "testdata" / "specs" / "bad" / "objective-100.yaml"


def test_rules_prints_the_rule_file_on_stdout() -> None:
    done = slo_agent("rules", str(GOLDEN / "input" / "availability.yaml"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "availability.rules.yaml").read_text()
    assert done.stderr == ""


def test_rules_writes_a_prometheus_rule_with_output(tmp_path: Path) -> None:
    out = tmp_path / "slo-rules.yaml"
    spec = str(GOLDEN / "input" / "latency.yaml")
    done = slo_agent("rules", spec, "--format", "operator", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert out.read_text() == (GOLDEN / "latency.operator.yaml").read_text()
    assert yaml.safe_load(out.read_text())["kind"] == "PrometheusRule"


def test_rules_reads_slo_agent_specs_when_no_path_is_given() -> None:
    spec = str(GOLDEN / "input" / "seven-days.yaml")
    done = slo_agent("rules", env={"SLO_AGENT_SPECS": spec})
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "seven-days.rules.yaml").read_text()


def test_invalid_specs_exit_1_with_every_problem_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    done = slo_agent("rules", str(BAD_SPEC), "-o", str(out))
    assert done.returncode == 1
    assert "objective" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert not out.exists()


def test_an_unwritable_output_exits_1_naming_the_file(tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "rules.yaml"
    done = slo_agent("rules", str(GOLDEN / "input" / "latency.yaml"), "-o", str(out))
    assert done.returncode == 1
    assert str(out) in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_format_is_a_usage_error() -> None:
    done = slo_agent("rules", "--format", "sloth", str(GOLDEN / "input" / "latency.yaml"))
    assert done.returncode == 2
    assert "prometheus" in done.stderr
    assert "operator" in done.stderr


def test_help_lists_rules() -> None:
    done = slo_agent("--help")
    assert done.returncode == 0
    assert "rules" in done.stdout


def test_rules_function_raises_spec_error_before_writing() -> None:
    out = io.StringIO()
    with pytest.raises(SpecError) as caught:
        rules([str(BAD_SPEC)], {}, RuleFormat.PROMETHEUS, out)
    assert caught.value.problems
    assert out.getvalue() == ""
