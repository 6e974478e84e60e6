"""Spec version ``slo-agent/v1``: its kinds, each a wire model and a converter into the model.

A registry of its own, so that the modules of the kinds (:mod:`agent.spec.v1`,
:mod:`agent.spec.v1_journey`, :mod:`agent.spec.v1_policy`) import one another one way only.
"""

from __future__ import annotations

from typing import Any

from agent import model
from agent.advisor.policy import DecisionPolicy
from agent.spec.kinds import Kind
from agent.spec.v1 import API_VERSION, AlertWindowsDocument, NodeDocument
from agent.spec.v1_convert import to_alert_windows, to_node
from agent.spec.v1_journey import JourneyDocument, to_journey
from agent.spec.v1_policy import DecisionPolicyDocument, to_decision_policy

__all__ = ["API_VERSION", "KINDS"]

KINDS: dict[str, Kind[Any, model.Node | model.AlertWindows | model.Journey | DecisionPolicy]] = {
    "Node": Kind(NodeDocument, to_node),
    "AlertWindows": Kind(AlertWindowsDocument, to_alert_windows),
    "Journey": Kind(JourneyDocument, to_journey),
    "DecisionPolicy": Kind(DecisionPolicyDocument, to_decision_policy),
}
