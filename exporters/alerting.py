"""Alert names and labels, shared by the generated Prometheus rules and the agent's own push to
Alertmanager, so one Alertmanager routing tree serves both paths."""

from __future__ import annotations

from agent.durations import format_duration, parse_duration
from agent.model import AlertTier, Node, Severity, Slo, SloOwner

BURN = "ErrorBudgetBurn"
EXHAUSTED = "ErrorBudgetExhausted"
ABSENT = "SLIMetricAbsent"
DECISION_REVIEW = "NodeDecisionReview"
CERTIFICATE_EXPIRING = "CertificateExpiringSoon"

SILENT_WINDOW = "1h"
"""An SLO without a single SLI event in this window raises ``SLIMetricAbsent``, on both paths."""
SILENT_SECONDS = parse_duration(SILENT_WINDOW).total_seconds()

# labels slo-agent sets itself; a spec's alerting.labels may not override them
RESERVED_LABELS = frozenset(
    {"alertname", "severity", "node", "slo", "mode", "long", "short", "burn_rate"}
)


def format_factor(factor: float) -> str:
    """A burn-rate factor as a label value: 14.4, 13.44, 0.9333 (4 significant digits)."""
    return f"{factor:.4g}"


def slo_labels(owner: SloOwner, slo: Slo) -> dict[str, str]:
    """The labels every alert about one SLO carries: the spec's own, then node/slo/mode (a
    journey's SLO: ``node`` is the journey's name, ``mode`` is ``journey``)."""
    return {**owner.alerting.labels, "node": owner.name, "slo": slo.name, "mode": owner.mode_label}


def burn_labels(owner: SloOwner, slo: Slo, tier: AlertTier, factor: float) -> dict[str, str]:
    """Labels of one ``ErrorBudgetBurn`` tier (without ``alertname``).

    ``burn_rate`` is ``factor``, the threshold the tier fires at on the path raising it: the
    tier's budget share x period / long. For a calendar-month SLO the generated rules take
    the period as a nominal 30 days (14.4 for 2% in 1h), the agent's push as the month's
    real length (13.44 to 14.88), so outside 30-day months the two labels differ.
    """
    return {
        **slo_labels(owner, slo),
        "severity": tier.severity.value,
        "long": format_duration(tier.long),
        "short": format_duration(tier.short),
        "burn_rate": format_factor(factor),
    }


def exhausted_labels(owner: SloOwner, slo: Slo) -> dict[str, str]:
    return {**slo_labels(owner, slo), "severity": "ticket"}


def absent_labels(owner: SloOwner, slo: Slo) -> dict[str, str]:
    return {**slo_labels(owner, slo), "severity": "ticket"}


def decision_labels(node: Node, recommendation: str) -> dict[str, str]:
    """Labels of a ``NodeDecisionReview`` alert (without ``alertname``)."""
    return {
        **node.alerting.labels,
        "node": node.name,
        "mode": node.mode.value,
        "recommendation": recommendation,
        "severity": "info",
    }


def certificate_labels(node: Node, probe: str) -> dict[str, str]:
    """Labels of a ``CertificateExpiringSoon`` alert (without ``alertname``): the spec's own,
    then node/probe/mode and ``severity=ticket``."""
    return {
        **node.alerting.labels,
        "node": node.name,
        "probe": probe,
        "mode": node.mode.value,
        "severity": Severity.TICKET.value,
    }
