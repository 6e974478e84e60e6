"""Objectives that load but are almost certainly not what was meant: warnings, not errors.

Objectives are percents. One below 1 (``objective: 0.999``) reads as "0.999 % of events must be
good", an SLO that nearly every outage meets; it is far more likely a ratio written where a
percent belongs (99.9). ``slo-agent validate`` prints such warnings and still exits 0;
``--strict`` makes them errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from agent.errors import SpecProblem
from agent.model import Journey, Node
from agent.spec.references import Entry

RATIO_LIKE_BELOW = 0.01  # as a ratio: an objective under 1 percent


def objective_warnings(entries: Sequence[Entry]) -> list[SpecProblem]:
    """A warning for every objective below 1 percent of the valid nodes and journeys."""
    warnings: list[SpecProblem] = []
    for entry in entries:
        owner = entry.value
        if not isinstance(owner, Node | Journey):
            continue
        for index, slo in enumerate(owner.slos):
            if slo.objective >= RATIO_LIKE_BELOW:
                continue
            percent = Decimal(repr(slo.objective)) * 100  # exactly what the spec says
            written, meant = _spelled(percent), _spelled(percent * 100)
            message = (
                f"objective {written} is a percent, so it means {written}% of events must be "
                f"good; if the ratio {written} was meant, write {meant} (objectives are percents)"
            )
            path = f"spec.slos[{index}].objective"
            warnings.append(SpecProblem(entry.file, entry.document, path, message))
    return warnings


def _spelled(number: Decimal) -> str:
    """``Decimal("99.900")`` -> ``"99.9"``."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
