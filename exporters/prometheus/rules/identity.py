"""Who a rule is about: the labels, selectors and period of one SLO in the generated rules.

Every series the rules record carries Sloth's identity labels (``sloth_id``, ``sloth_service``,
``sloth_slo``) so Sloth's dashboards work unchanged, plus ``node``, ``slo``, ``mode`` and the
spec's ``alerting.labels``. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from agent.durations import format_duration
from agent.model import CalendarWindow, RollingWindow, Slo, SloOwner
from agent.slo.burn import error_allowance
from exporters.alerting import slo_labels

NOMINAL_MONTH = timedelta(days=30)
"""The period the rules use for a calendar-month SLO (Prometheus cannot select "since the
1st of the month"): the month's nominal 30 days, as a rolling window."""

SPEC_LABEL = "slo-agent/v1"


def number(value: float) -> str:
    """A PromQL number literal: ``0.001`` rather than ``0.0010000000000000009``, ``30`` not
    ``30.0`` (12 significant digits, more than any objective or factor needs)."""
    return f"{value:.12g}"


def percent(ratio: float) -> str:
    """``0.999`` -> ``99.9`` (for texts and the ``sloth_objective`` label)."""
    return number(ratio * 100)


def quote(value: str) -> str:
    """A PromQL string literal (double-quoted, escaped)."""
    return json.dumps(value)


@dataclass(frozen=True, slots=True)
class RulePeriod:
    """The SLO period as the rules see it: a rolling window with a fixed length."""

    label: str  # "30d"; names the period's recording rule slo:sli_error:ratio_rate<label>
    length: timedelta
    calendar: bool  # True: a calendar month, approximated by NOMINAL_MONTH

    @property
    def days(self) -> float:
        return self.length / timedelta(days=1)


def rule_period(slo: Slo) -> RulePeriod:
    window = slo.window
    if isinstance(window, RollingWindow):
        return RulePeriod(format_duration(window.length), window.length, calendar=False)
    if isinstance(window, CalendarWindow):
        return RulePeriod(format_duration(NOMINAL_MONTH), NOMINAL_MONTH, calendar=True)
    raise TypeError(f"unknown SLO window {window!r}")


@dataclass(frozen=True, slots=True)
class SloIdentity:
    """One SLO of one node or journey, as named in rules, series and alerts."""

    node: SloOwner  # a journey is named like a node: node=<journey>, mode=journey
    slo: Slo

    @property
    def sloth_id(self) -> str:
        return f"{self.node.name}-{self.slo.name}"

    @property
    def objective(self) -> float:
        return self.slo.objective

    @property
    def error_budget(self) -> float:
        """``1 - objective``, rounded to what the user wrote (0.001, not 0.0010000000000000009)."""
        return error_allowance(self.slo.objective)

    @property
    def period(self) -> RulePeriod:
        return rule_period(self.slo)

    def sloth_labels(self) -> dict[str, str]:
        return {
            "sloth_id": self.sloth_id,
            "sloth_service": self.node.name,
            "sloth_slo": self.slo.name,
        }

    def labels(self) -> dict[str, str]:
        """The labels of every series recorded for this SLO (sorted by name)."""
        return dict(sorted({**slo_labels(self.node, self.slo), **self.sloth_labels()}.items()))

    def selector(self) -> str:
        """``{sloth_id="...", sloth_service="...", sloth_slo="..."}``: this SLO's recorded series
        (all three, so ``a-b``/``c`` and ``a``/``b-c`` never match each other)."""
        matchers = ", ".join(
            f"{name}={quote(value)}" for name, value in self.sloth_labels().items()
        )
        return "{" + matchers + "}"

    def event_selector(self) -> str:
        """``{node="...",slo="..."}``: this SLO's ``slo_agent_sli_*`` counters."""
        return f"{{node={quote(self.node.name)},slo={quote(self.slo.name)}}}"
