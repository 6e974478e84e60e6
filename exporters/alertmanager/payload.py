"""Which alerts a status snapshot fires, and their Alertmanager API v2 JSON. Pure: no I/O, no clock.

The alerts carry the same names and labels as the generated Prometheus rules
(:mod:`exporters.alerting`), so one Alertmanager routing tree serves both paths:

- ``ErrorBudgetBurn``, one per firing tier of the node's AlertWindows (``severity``, ``long``,
  ``short``, ``burn_rate`` labels);
- ``ErrorBudgetExhausted`` while the period's remaining budget is zero or less, with data
  (:attr:`agent.slo.status.BudgetStatus.exhausted`, the test behind the SLO state
  ``exhausted``: the status page, ``/api/v1/status`` and ``report`` say ``exhausted``
  whenever this alert is pushed, unless a page tier also fires and the state says ``page``);
- ``SLIMetricAbsent`` while an SLO has recorded no event at all in the last hour although the
  agent has been evaluating it for at least that hour (so a fresh start or a newly added SLO
  does not raise it before its first probes had a chance to run). The generated rules check the
  same hour without events, and also an event counter absent from Prometheus.

Every alert also carries ``alertname`` and the spec's ``alerting.labels``; ``burn_rate`` is the
factor the tier fires at (:attr:`agent.slo.status.AlertStatus.factor`). For a rolling period
that is the rules' factor too. For a calendar month the agent judges by the month's real length
(13.44 for the 1h page tier in a 28-day February, 14.88 in a 31-day month), while the rules,
which cannot select "since the 1st", use a nominal 30 days (14.4): in months that are not 30
days long the two paths fire at different thresholds, and their alerts carry different
``burn_rate`` labels, each naming the threshold it fired at. A journey's SLOs alert like a
node's, with ``node`` = the journey's name and ``mode`` = ``journey``, as in the rules.
Annotations are ``summary`` and ``description`` quoting the numbers, then the spec's
``alerting.annotations`` (``runbook_url``, ...), which win over ours on the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.model import AlertTier, Slo, SloOwner, SpecSet
from agent.slo.status import AlertStatus, SloStatus, Snapshot, multiple
from exporters.alerting import (
    ABSENT,
    BURN,
    EXHAUSTED,
    SILENT_SECONDS,
    SILENT_WINDOW,
    absent_labels,
    burn_labels,
    exhausted_labels,
    format_factor,
)

AlertKey = tuple[tuple[str, str], ...]
"""An alert's identity: its labels, sorted (Alertmanager tells alerts apart the same way)."""

SloKey = tuple[str, str]  # (node, slo)


@dataclass(frozen=True, slots=True)
class Alert:
    labels: Mapping[str, str]  # including alertname
    annotations: Mapping[str, str]

    @property
    def key(self) -> AlertKey:
        return tuple(sorted(self.labels.items()))

    @property
    def name(self) -> str:
        return self.labels["alertname"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One alert as sent: firing while ``ends_at`` lies ahead, resolved once it has passed."""

    alert: Alert
    starts_at: float  # unix seconds
    ends_at: float  # unix seconds


# --- which alerts fire --------------------------------------------------------------------


def firing_alerts(
    snapshot: Snapshot, specs: SpecSet, watched_since: Mapping[SloKey, float]
) -> dict[AlertKey, Alert]:
    """Every alert ``snapshot`` fires, by identity.

    ``watched_since`` holds, per (node, slo), when the agent first evaluated that SLO; an SLO
    missing from it counts as watched since ``snapshot.evaluated_at``. SLOs of nodes or
    journeys that ``specs`` does not hold are skipped.
    """
    owners = {owner.name: owner for owner in specs.owners()}
    alerts: dict[AlertKey, Alert] = {}
    for status in snapshot.slos():
        owner = owners.get(status.node)
        slo = _slo(owner, status.slo) if owner is not None else None
        if owner is None or slo is None:
            continue
        watched = snapshot.evaluated_at - watched_since.get(
            (status.node, status.slo), snapshot.evaluated_at
        )
        for alert in slo_alerts(owner, slo, specs.windows_for(owner).tiers, status, watched):
            alerts[alert.key] = alert
    return alerts


def slo_alerts(
    node: SloOwner, slo: Slo, tiers: tuple[AlertTier, ...], status: SloStatus, watched: float
) -> list[Alert]:
    """The alerts one SLO fires; ``watched`` is how long (seconds) the agent has evaluated it.

    ``status.alerts`` is in the order of ``tiers`` (the node's AlertWindows).
    """
    alerts: list[Alert] = []
    if len(tiers) == len(status.alerts):
        for tier, tier_state in zip(tiers, status.alerts, strict=True):
            if tier_state.firing:
                labels = burn_labels(node, slo, tier, tier_state.factor)
                notes = _burn_notes(status, tier, tier_state)
                alerts.append(_alert(BURN, labels, notes, node))
    if status.budget.exhausted:
        labels = exhausted_labels(node, slo)
        alerts.append(_alert(EXHAUSTED, labels, _exhausted_notes(status), node))
    if status.window(SILENT_WINDOW).total == 0 and watched >= SILENT_SECONDS:
        labels = absent_labels(node, slo)
        alerts.append(_alert(ABSENT, labels, _absent_notes(status), node))
    return alerts


def _slo(node: SloOwner, name: str) -> Slo | None:
    return next((slo for slo in node.slos if slo.name == name), None)


def _alert(name: str, labels: Mapping[str, str], notes: dict[str, str], node: SloOwner) -> Alert:
    return Alert(
        labels={"alertname": name, **labels},
        annotations={**notes, **node.alerting.annotations},
    )


# --- annotations --------------------------------------------------------------------------


def _percent(ratio: float, digits: int = 6) -> str:
    return f"{ratio * 100:.{digits}g}%"


def _burn(value: float | None) -> str:
    return "no data" if value is None else f"{multiple(value)}x"


def _budget_left(status: SloStatus) -> str:
    budget = status.budget
    if budget.remaining_ratio is None:
        return "no data"
    left = _percent(budget.remaining_ratio, 3)
    if budget.remaining_minutes is None:
        return left
    minutes = f"{multiple(budget.remaining_minutes)} of {multiple(budget.budget_minutes)} minutes"
    return f"{left} ({minutes})"  # never an exponent: 40,320 minutes, not 4.03e+04


def _objective(status: SloStatus) -> str:
    return f"SLO {_percent(status.objective)} over {status.period}"


def _burn_notes(status: SloStatus, tier: AlertTier, state: AlertStatus) -> dict[str, str]:
    where = f"{status.node}/{status.slo}"
    threshold = format_factor(state.factor)
    return {
        "summary": (
            f"{where} burns its error budget at {_burn(state.long_burn)} over {state.long} "
            f"and {_burn(state.short_burn)} over {state.short} (threshold {threshold}x)"
        ),
        "description": (
            f"{_objective(status)}. Burn rate {_burn(state.long_burn)} over {state.long} and "
            f"{_burn(state.short_burn)} over {state.short}, at or above {threshold}x: "
            f"{_percent(tier.budget_fraction)} of the error budget would be spent in "
            f"{state.long}. Error budget left: {_budget_left(status)}."
        ),
    }


def _exhausted_notes(status: SloStatus) -> dict[str, str]:
    budget = status.budget
    return {
        "summary": f"{status.node}/{status.slo} has used up its error budget",
        "description": (
            f"{_objective(status)}. {budget.consumed_events:.0f} bad events so far in the period, "
            f"{budget.allowed_bad_events:.4g} allowed. Error budget left: {_budget_left(status)}."
        ),
    }


def _absent_notes(status: SloStatus) -> dict[str, str]:
    return {
        "summary": f"{status.node}/{status.slo} has recorded no events in {SILENT_WINDOW}",
        "description": (
            f"{_objective(status)}. The agent recorded no events for this SLO in the last "
            f"{SILENT_WINDOW} while it was running: its probes do not run or its SLI source "
            "returns nothing, so the SLO cannot be judged."
        ),
    }


# --- wire format --------------------------------------------------------------------------


def timestamp(seconds: float) -> str:
    """RFC 3339 in UTC with milliseconds: ``2024-05-01T12:00:00.000Z``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_json(notice: Notice, generator_url: str | None) -> dict[str, Any]:
    """One element of the ``POST /api/v2/alerts`` body."""
    body: dict[str, Any] = {
        "labels": dict(sorted(notice.alert.labels.items())),
        "annotations": dict(sorted(notice.alert.annotations.items())),
        "startsAt": timestamp(notice.starts_at),
        "endsAt": timestamp(notice.ends_at),
    }
    if generator_url:
        body["generatorURL"] = generator_url
    return body


def payload(notices: Iterable[Notice], generator_url: str | None) -> list[dict[str, Any]]:
    """The ``POST /api/v2/alerts`` body, sorted by labels (deterministic)."""
    ordered = sorted(notices, key=lambda notice: notice.alert.key)
    return [alert_json(notice, generator_url) for notice in ordered]
