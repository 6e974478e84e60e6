"""``NodeDecisionReview`` alerts (``severity=info``) from the advisor's latest review: one per
node whose operate-or-orchestrate decision is flagged. Pure: no I/O, no clock.

Pushed through the same :class:`~exporters.alertmanager.pusher.AlertmanagerPusher` as the burn
alerts when the agent runs with ``--decision-alerts``. The annotations quote the reasons.
"""

from __future__ import annotations

from agent.advisor.review import DecisionReport, NodeReview
from agent.model import Node, SpecSet
from exporters.alerting import DECISION_REVIEW, decision_labels
from exporters.alertmanager.payload import Alert, AlertKey


def decision_alerts(report: DecisionReport, specs: SpecSet) -> dict[AlertKey, Alert]:
    """The ``NodeDecisionReview`` alert of every flagged node of ``specs``, by identity."""
    nodes = {node.name: node for node in specs.nodes}
    alerts: dict[AlertKey, Alert] = {}
    for review in report.flagged:
        node = nodes.get(review.node)
        if node is None:
            continue
        alert = _alert(node, review)
        alerts[alert.key] = alert
    return alerts


def _alert(node: Node, review: NodeReview) -> Alert:
    what = review.recommendation
    if review.target is not None:
        what = f"{what} to {review.target}"
    summary = f"{review.node} ({review.mode.value}): {what}"
    reasons = "; ".join(reason.text for reason in review.advice.reasons)
    if review.advice.recommendation.value != review.recommendation:
        reasons = f"clearing: {reasons}"
    annotations = {
        "summary": summary,
        "description": f"The measurements say the decision should be revisited: {reasons}.",
        **node.alerting.annotations,
    }
    labels = {"alertname": DECISION_REVIEW, **decision_labels(node, review.recommendation)}
    return Alert(labels=labels, annotations=annotations)
