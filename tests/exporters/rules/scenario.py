"""Building ``promtool test rules`` files for the generated rules: synthetic counters in
expanding notation, expected alerts with their rendered annotations, running promtool."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exporters.prometheus.rules import AlertingRule, SloRules
from tests.support.promtool import promtool

Segment = tuple[int, float]  # (minutes, events per minute)


def _value(number: float) -> str:
    return f"{number:.15g}"


def counter(segments: Sequence[Segment]) -> str:
    """A counter sampled every minute from 0, growing by ``per_minute`` for ``minutes`` in
    each segment, in promtool's expanding notation (``a+bxn`` is the n+1 values a, a+b, ...)."""
    parts = ["0"]
    value = 0.0
    for minutes, per_minute in segments:
        if minutes <= 0:
            continue
        first = value + per_minute
        step = f"+{_value(per_minute)}" if per_minute else ""
        parts.append(f"{_value(first)}{step}x{minutes - 1}")
        value += per_minute * minutes
    return " ".join(parts)


def traffic(
    node: str, slo: str, mode: str, segments: Sequence[tuple[int, float, float]]
) -> list[dict[str, str]]:
    """The agent's two SLI counters for ``segments`` of (minutes, events/min, bad/min)."""
    labels = f'{{mode="{mode}",node="{node}",slo="{slo}"}}'
    return [
        {
            "series": f"slo_agent_sli_events_total{labels}",
            "values": counter([(m, total) for m, total, _ in segments]),
        },
        {
            "series": f"slo_agent_sli_bad_events_total{labels}",
            "values": counter([(m, bad) for m, _, bad in segments]),
        },
    ]


def humanize(value: float) -> str:
    """Prometheus's ``humanize`` template function, for values of 1 and more."""
    assert value >= 1, "only values >= 1 are needed here"
    prefixes = ["", "k", "M", "G", "T"]
    index = 0
    while abs(value) >= 1000 and index < len(prefixes) - 1:
        value /= 1000
        index += 1
    return f"{value:.4g}{prefixes[index]}"


def humanize_percentage(value: float) -> str:
    """Prometheus's ``humanizePercentage`` template function."""
    return f"{value * 100:.4g}%"


def rendered(annotations: Mapping[str, str], value: float) -> dict[str, str]:
    """``annotations`` with ``$value`` rendered as Prometheus renders the generated templates."""
    out = {}
    for name, text in annotations.items():
        if "{{ $value | humanizePercentage }}" in text:
            text = text.replace("{{ $value | humanizePercentage }}", humanize_percentage(value))
        if "{{ $value | humanize }}" in text:
            text = text.replace("{{ $value | humanize }}", humanize(value))
        assert "{{" not in text, f"unrendered template in {name}: {text}"
        out[name] = text
    return out


def alerting_rules(rules: SloRules, alertname: str) -> list[AlertingRule]:
    return [
        rule
        for group in rules.groups
        for rule in group.rules
        if isinstance(rule, AlertingRule) and rule.alert == alertname
    ]


def burn_rule(rules: SloRules, long: str) -> AlertingRule:
    [rule] = [r for r in alerting_rules(rules, "ErrorBudgetBurn") if r.labels["long"] == long]
    return rule


def series(name: str, labels: Mapping[str, str]) -> str:
    """``name{a="1",b="2"}``, labels sorted, as promtool's ``exp_samples`` take them."""
    matchers = ",".join(f"{key}={json.dumps(value)}" for key, value in sorted(labels.items()))
    return f"{name}{{{matchers}}}"


def firing(alertname: str, labels: Mapping[str, str]) -> str:
    """The ``ALERTS`` series of a firing alert with ``labels`` (the rule's, without alertname)."""
    return series("ALERTS", {**labels, "alertname": alertname, "alertstate": "firing"})


def expect(rule: AlertingRule, labels: Mapping[str, str], value: float) -> dict[str, Any]:
    """One expected firing alert: ``labels`` written out by the test (the routing contract),
    annotations from the rule with ``value`` rendered into them."""
    return {"exp_labels": dict(labels), "exp_annotations": rendered(rule.annotations, value)}


@dataclass
class UnitTest:
    """One ``tests:`` entry of a promtool test file."""

    name: str
    input_series: list[dict[str, str]]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    exprs: list[dict[str, Any]] = field(default_factory=list)

    def alert_at(self, minutes: int, alertname: str, *expected: dict[str, Any]) -> None:
        """At ``minutes``, exactly ``expected`` alerts named ``alertname`` fire (none if empty)."""
        self.alerts.append(
            {"eval_time": f"{minutes}m", "alertname": alertname, "exp_alerts": list(expected)}
        )

    def expr_at(self, minutes: int, expr: str, labels: str, value: float) -> None:
        self.samples_at(minutes, expr, (labels, value))

    def samples_at(self, minutes: int, expr: str, *samples: tuple[str, float]) -> None:
        """At ``minutes``, ``expr`` returns exactly ``samples`` (labels, value); none if empty."""
        self.exprs.append(
            {
                "eval_time": f"{minutes}m",
                "expr": expr,
                "exp_samples": [{"labels": labels, "value": value} for labels, value in samples],
            }
        )

    def as_dict(self) -> dict[str, Any]:
        test: dict[str, Any] = {"name": self.name, "interval": "1m"}
        test["input_series"] = self.input_series
        if self.alerts:
            test["alert_rule_test"] = self.alerts
        if self.exprs:
            test["promql_expr_test"] = self.exprs
        return test


def run_unit_tests(
    directory: Path,
    rules_text: str,
    rules: SloRules,
    tests: Sequence[UnitTest],
    evaluation_interval: str = "1m",
) -> subprocess.CompletedProcess[str]:
    """Write the rules and a test file into ``directory`` and run ``promtool test rules``.

    promtool evaluates every rule at every ``evaluation_interval`` from 0 to the last
    ``eval_time``, and ``eval_time`` must be a multiple of it.
    """
    rule_path = directory / "rules.yaml"
    rule_path.write_text(rules_text)
    test_file = {
        "rule_files": [str(rule_path)],
        "evaluation_interval": evaluation_interval,
        # recordings first, so alerts read this minute's ratios (as in one Prometheus group)
        "group_eval_order": [group.name for group in rules.groups],
        "tests": [test.as_dict() for test in tests],
    }
    test_path = directory / "test.yaml"
    test_path.write_text(yaml.safe_dump(test_file, sort_keys=False, width=1_000_000))
    return subprocess.run(
        [promtool(), "test", "rules", str(test_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
