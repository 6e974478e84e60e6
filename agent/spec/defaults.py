"""Built-in policies shipped as data in ``agent/policies/``, validated like any spec."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agent.advisor.policy import DecisionPolicy
from agent.errors import SpecError, SpecProblem
from agent.model import AlertWindows
from agent.spec.documents import parse_documents
from agent.spec.problems import translate
from agent.spec.v1 import AlertWindowsDocument
from agent.spec.v1_convert import to_alert_windows

DEFAULT_ALERT_WINDOWS = "default-alert-windows.yaml"
DEFAULT_DECISION_POLICY = "default-decision-policy.yaml"

D = TypeVar("D", bound=BaseModel)
T = TypeVar("T")


def _packaged(filename: str, document: type[D], kind: str, convert: Callable[[D], T]) -> T:
    """The one ``kind`` document of ``agent/policies/<filename>``, validated and converted."""
    label = f"agent/policies/{filename}"
    text = (resources.files("agent") / "policies" / filename).read_text("utf-8")
    documents, fault = parse_documents(text)
    data: list[Any] = [doc.data for doc in documents if doc.data is not None]
    if fault is not None or len(data) != 1:
        message = str(fault) if fault else f"must hold exactly one {kind} document"
        raise SpecError([SpecProblem(label, 0, "", message)])
    try:
        return convert(document.model_validate(data[0]))
    except ValidationError as error:
        problems = translate(error, document)
        raise SpecError([SpecProblem(label, 1, path, msg) for path, msg in problems]) from None


def default_alert_windows() -> AlertWindows:
    """The SRE workbook's burn-rate tiers, named "default" (read from the installed package)."""
    windows = _packaged(
        DEFAULT_ALERT_WINDOWS,
        AlertWindowsDocument,
        "AlertWindows",
        lambda doc: to_alert_windows(doc, {}),
    )
    if windows.name != "default":
        label = f"agent/policies/{DEFAULT_ALERT_WINDOWS}"
        raise SpecError([SpecProblem(label, 1, "metadata.name", 'must be "default"')])
    return windows


def default_decision_policy() -> DecisionPolicy:
    """The built-in advisor policy, named "default" (read from the installed package); it
    sets every value a DecisionPolicy document may override."""
    from agent.spec.v1_policy import DecisionPolicyDocument, policy_from

    return _packaged(
        DEFAULT_DECISION_POLICY,
        DecisionPolicyDocument,
        "DecisionPolicy",
        lambda doc: policy_from(doc, None),
    )
