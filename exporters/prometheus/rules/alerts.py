"""Alerting rules of one SLO: ``ErrorBudgetBurn`` per tier, ``ErrorBudgetExhausted``,
``SLIMetricAbsent``.

``ErrorBudgetBurn`` is one rule per tier of the node's AlertWindows (not one ``or`` of tiers
per severity, as Sloth does): each tier has its own ``long``, ``short`` and ``burn_rate``
labels. The agent's rules, on the same numbers (:mod:`agent.slo.alerts`):

- a window *has data* when it holds at least the SLO's ``min_events`` SLI events
  (``slo:sli_events:count<W>``); fewer is no data, never a burn;
- a tier starts firing when its long AND its short window have data and burn at least its
  factor, ``budget share * period / long`` (burn rate = error ratio / error budget);
- a firing tier stays firing while its short window has no data and its long window still has
  data and burns (traffic that thins out during an outage does not resolve a page); it
  resolves once the short window has data and burns below the factor, or the long window burns
  below it or has no data. "Firing" is read from Prometheus's own ``ALERTS`` series of the
  previous evaluation, so this needs an evaluation interval within the lookback delta (5m).

The alert's value is the long window's burn rate. The labels are exactly those of
:mod:`exporters.alerting` — the ones the agent pushes to Alertmanager itself — so both paths
raise the same alert (Alertmanager deduplicates them) and one routing tree serves both: the
expressions drop the ``sloth_*`` labels of the recorded series. ``ErrorBudgetExhausted`` too
needs the period to have data.

Annotations: ``summary`` and ``description`` quoting the numbers, then the spec's
``alerting.annotations`` (``runbook_url``, ...), which win over ours on the same name.

Pure: no I/O.
"""

from __future__ import annotations

from agent.durations import format_duration
from agent.model import AlertTier, AlertWindows, PrometheusSli
from agent.slo.alerts import burn_factor
from exporters.alerting import (
    ABSENT,
    BURN,
    EXHAUSTED,
    SILENT_WINDOW,
    absent_labels,
    burn_labels,
    exhausted_labels,
)
from exporters.prometheus.rules.identity import SloIdentity, number, percent, quote
from exporters.prometheus.rules.recording import PERIOD_REMAINING, sli_error, sli_events
from exporters.prometheus.rules.rule import AlertingRule
from exporters.prometheus.rules.sli import EVENTS_TOTAL, absent_expr

ABSENT_FOR = "10m"  # no SLI input this long before SLIMetricAbsent fires
IDENTITY_LABELS = "sloth_id, sloth_service, sloth_slo"
WINDOW_LABELS = f"{IDENTITY_LABELS}, sloth_window"
SLO_MATCH = "on (node, slo)"  # one SLO's series, whatever other labels each side carries


def _sorted(labels: dict[str, str]) -> dict[str, str]:
    return dict(sorted(labels.items()))


def _annotations(identity: SloIdentity, ours: dict[str, str]) -> dict[str, str]:
    return _sorted({**ours, **identity.node.alerting.annotations})


def _where(identity: SloIdentity) -> str:
    return f"{identity.node.name}/{identity.slo.name}"


def _objective(identity: SloIdentity) -> str:
    period = identity.period
    span = f"{period.label} (a calendar month, taken as 30d)" if period.calendar else period.label
    return f"SLO {percent(identity.objective)}% over {span}"


def _has_data(identity: SloIdentity, window: str) -> str:
    """True while ``window`` holds at least ``min_events`` events."""
    count = f"{sli_events(window)}{identity.selector()}"
    return f"max without ({WINDOW_LABELS}) ({count}) >= {identity.slo.min_events}"


def _burns(identity: SloIdentity, window: str, factor: str, indent: str) -> str:
    """The burn rate over ``window`` while it has data and is at least ``factor``."""
    ratio = f"{sli_error(window)}{identity.selector()}"
    return (
        f"{indent}max without ({WINDOW_LABELS}) ({ratio})\n"
        f"{indent}/ {number(identity.error_budget)} >= {factor}\n"
        f"{indent}and\n"
        f"{indent}{_has_data(identity, window)}"
    )


def _firing(identity: SloIdentity, tier: AlertTier) -> str:
    """This tier's own alert, firing at the previous evaluation (Prometheus's ``ALERTS``)."""
    matchers = {
        "alertname": BURN,
        "alertstate": "firing",
        "node": identity.node.name,
        "slo": identity.slo.name,
        "severity": tier.severity.value,
        "long": format_duration(tier.long),
        "short": format_duration(tier.short),
    }
    return "ALERTS{" + ", ".join(f"{k}={quote(v)}" for k, v in matchers.items()) + "}"


def burn_expr(identity: SloIdentity, tier: AlertTier) -> str:
    """Long window burns with data, and the short one too, or, while the tier fires, the
    short one has no data (see the module docstring)."""
    threshold = number(burn_factor(tier, identity.period.length))
    long, short = format_duration(tier.long), format_duration(tier.short)
    return (
        f"(\n{_burns(identity, long, threshold, '  ')}\n)\n"
        f"and {SLO_MATCH}\n"
        f"(\n"
        f"  (\n{_burns(identity, short, threshold, '    ')}\n  )\n"
        f"  or\n"
        f"  (\n"
        f"    {_firing(identity, tier)}\n"
        f"    unless {SLO_MATCH}\n"
        f"    {_has_data(identity, short)}\n"
        f"  )\n"
        f")"
    )


def burn_rule(identity: SloIdentity, tier: AlertTier) -> AlertingRule:
    factor = burn_factor(tier, identity.period.length)
    threshold = number(factor)
    long, short = format_duration(tier.long), format_duration(tier.short)
    expr = burn_expr(identity, tier)
    budget = percent(identity.error_budget)
    notes = {
        "summary": (
            f"{_where(identity)} burns its error budget at {{{{ $value | humanize }}}}x "
            f"over {long} (threshold {threshold}x)"
        ),
        "description": (
            f"{_objective(identity)}. The error ratio over {long} and over {short} is at "
            f"least {threshold}x the allowed {budget}% (now {{{{ $value | humanize }}}}x over "
            f"{long}): {percent(tier.budget_fraction)}% of the error budget would be spent "
            f"in {long}. Tier {tier.severity.value} {long}/{short}."
        ),
    }
    return AlertingRule(
        alert=BURN,
        expr=expr,
        labels=_sorted(burn_labels(identity.node, identity.slo, tier, factor)),
        annotations=_annotations(identity, notes),
    )


def exhausted_rule(identity: SloIdentity) -> AlertingRule:
    remaining = f"{PERIOD_REMAINING}{identity.selector()}"
    notes = {
        "summary": f"{_where(identity)} has used up its error budget",
        "description": (
            f"{_objective(identity)}. Error budget left over the last {identity.period.label}: "
            f"{{{{ $value | humanizePercentage }}}} (at most "
            f"{percent(identity.error_budget)}% of events may fail)."
        ),
    }
    return AlertingRule(
        alert=EXHAUSTED,
        expr=(
            f"max without ({IDENTITY_LABELS}) ({remaining}) <= 0\n"
            f"and\n{_has_data(identity, identity.period.label)}"
        ),
        labels=_sorted(exhausted_labels(identity.node, identity.slo)),
        annotations=_annotations(identity, notes),
    )


def absent_rule(identity: SloIdentity) -> AlertingRule:
    if isinstance(identity.slo.sli, PrometheusSli):
        missing = (
            f"For {ABSENT_FOR}, the SLI's total query has returned nothing or counted no "
            f"traffic in {SILENT_WINDOW}"
        )
        cause = "its metric is missing or renamed, its target is not scraped, or nothing is served"
    else:
        missing = (
            f"For {ABSENT_FOR}, {EVENTS_TOTAL}{identity.event_selector()} has been absent or "
            f"has not grown in {SILENT_WINDOW}"
        )
        cause = "the agent is not scraped, or the probes of this SLO do not run"
    notes = {
        "summary": f"{_where(identity)} has no SLI data",
        "description": f"{_objective(identity)}. {missing}: {cause}, so the SLO cannot be judged.",
    }
    return AlertingRule(
        alert=ABSENT,
        expr=absent_expr(identity),
        for_=ABSENT_FOR,
        labels=_sorted(absent_labels(identity.node, identity.slo)),
        annotations=_annotations(identity, notes),
    )


def alert_rules(identity: SloIdentity, windows: AlertWindows) -> tuple[AlertingRule, ...]:
    burns = tuple(burn_rule(identity, tier) for tier in windows.tiers)
    return (*burns, exhausted_rule(identity), absent_rule(identity))
