"""Prometheus rules as plain data, in the order and shape of a rule file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RecordingRule:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"record": self.record, "expr": self.expr, "labels": dict(self.labels)}


@dataclass(frozen=True, slots=True)
class AlertingRule:
    alert: str
    expr: str
    for_: str | None = None  # a Prometheus duration, e.g. "10m"
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_ is not None:
            rule["for"] = self.for_
        rule["labels"] = dict(self.labels)
        rule["annotations"] = dict(self.annotations)
        return rule


Rule = RecordingRule | AlertingRule


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rules": [rule.as_dict() for rule in self.rules]}


@dataclass(frozen=True, slots=True)
class SloRules:
    """The rule groups of one SLO and what a reader should know about them; ``slo`` is empty
    for a node's ``certificates`` group (:mod:`exporters.prometheus.rules.certificates`)."""

    node: str
    slo: str
    groups: tuple[RuleGroup, ...]
    notes: tuple[str, ...] = ()  # rendered as YAML comments at the top of the file
