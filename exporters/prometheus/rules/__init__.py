"""Prometheus recording and alerting rules for the SLOs of a spec set (``slo-agent rules``).

Sloth-compatible names and labels (so Sloth's dashboards and routing work unchanged), the
period SLI as a ratio of sums, one ``ErrorBudgetBurn`` rule per burn-rate tier of the node's
AlertWindows, ``ErrorBudgetExhausted`` and ``SLIMetricAbsent``::

    text = render(rule_set(specs), RuleFormat.OPERATOR)
"""

from __future__ import annotations

from exporters.prometheus.rules.groups import rule_set, slo_rules
from exporters.prometheus.rules.render import RuleFormat, prometheus_rule, render, rule_file
from exporters.prometheus.rules.rule import AlertingRule, RecordingRule, RuleGroup, SloRules

__all__ = [
    "AlertingRule",
    "RecordingRule",
    "RuleFormat",
    "RuleGroup",
    "SloRules",
    "prometheus_rule",
    "render",
    "rule_file",
    "rule_set",
    "slo_rules",
]
