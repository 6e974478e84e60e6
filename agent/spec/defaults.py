"""Built-in policies shipped as data in ``agent/policies/``, validated like any spec."""

from __future__ import annotations

from importlib import resources

from pydantic import ValidationError

from agent.advisor.policy import DecisionPolicy
from agent.errors import SpecError, SpecProblem
from agent.model import AlertWindows
from agent.spec.documents import parse_documents
from agent.spec.problems import translate
from agent.spec.v1 import AlertWindowsDocument, to_alert_windows

DEFAULT_ALERT_WINDOWS = "default-alert-windows.yaml"


def default_alert_windows() -> AlertWindows:
    """The SRE workbook's burn-rate tiers, named "default" (read from the installed package)."""
    label = f"agent/policies/{DEFAULT_ALERT_WINDOWS}"
    text = (resources.files("agent") / "policies" / DEFAULT_ALERT_WINDOWS).read_text("utf-8")
    documents, fault = parse_documents(text)
    data = [document for document in documents if document.data is not None]
    if fault is not None or len(data) != 1:
        message = str(fault) if fault else "must hold exactly one AlertWindows document"
        raise SpecError([SpecProblem(label, 0, "", message)])
    try:
        windows = to_alert_windows(AlertWindowsDocument.model_validate(data[0].data), {})
    except ValidationError as error:
        problems = translate(error, AlertWindowsDocument)
        raise SpecError([SpecProblem(label, 1, path, msg) for path, msg in problems]) from None
    if windows.name != "default":
        raise SpecError([SpecProblem(label, 1, "metadata.name", 'must be "default"')])
    return windows


DEFAULT_DECISION_POLICY = "default-decision-policy.yaml"


def default_decision_policy() -> DecisionPolicy:
    """The built-in advisor policy, named "default" (read from the installed package); it
    sets every value a DecisionPolicy document may override."""
    from agent.spec.v1_policy import DecisionPolicyDocument, policy_from

    label = f"agent/policies/{DEFAULT_DECISION_POLICY}"
    text = (resources.files("agent") / "policies" / DEFAULT_DECISION_POLICY).read_text("utf-8")
    documents, fault = parse_documents(text)
    data = [document for document in documents if document.data is not None]
    if fault is not None or len(data) != 1:
        message = str(fault) if fault else "must hold exactly one DecisionPolicy document"
        raise SpecError([SpecProblem(label, 0, "", message)])
    try:
        return policy_from(DecisionPolicyDocument.model_validate(data[0].data), None)
    except ValidationError as error:
        problems = translate(error, DecisionPolicyDocument)
        raise SpecError([SpecProblem(label, 1, path, msg) for path, msg in problems]) from None
