"""Certificate expiry per probe: how long each probe's peer certificate has left, and when that
is too little. Pure: no I/O, no clock (time is an argument).

Journey steps and drills record theirs too, under a ``probe`` of their own (``journey:<journey>/
<step>``, ``drill:<fallback>``) with the default threshold. A probe's warning threshold is the
largest ``cert_valid_for`` of the SLOs it measures (the SLO
starts counting bad events from then on), else :data:`DEFAULT_WARNING`. The agent's
``CertificateExpiringSoon`` alert, the generated rule of the same name and the status page all
take it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from agent.model import Node, ProbeSli, SpecSet

DEFAULT_WARNING = timedelta(days=14)
DAY = 86400.0

ProbeKey = tuple[str, str]  # (node, probe)


def step_probe(journey: str, step: str) -> str:
    """The ``probe`` of a journey step's certificate (``:`` is in no probe name)."""
    return f"journey:{journey}/{step}"


def drill_probe(fallback: str) -> str:
    """The ``probe`` of the certificate a node's drill of ``fallback`` saw."""
    return f"drill:{fallback}"


def _request_keys(specs: SpecSet) -> list[ProbeKey]:
    """The certificate keys of the journey steps (on their node and their fallback's) and the
    drills of ``specs``, in spec order."""
    keys: list[ProbeKey] = []
    for journey in specs.journeys:
        for step in journey.steps:
            keys.append((step.node, step_probe(journey.name, step.name)))
            if step.fallback is not None:
                keys.append((step.fallback.node, step_probe(journey.name, step.name)))
    for node in specs.nodes:
        keys += [(node.name, drill_probe(f.node)) for f in node.fallbacks if f.drill is not None]
    return keys


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """The peer certificate a probe saw last."""

    node: str
    probe: str
    not_after: float  # unix seconds
    warning: float  # seconds: CertificateExpiringSoon fires with less than this left

    def left(self, at: float) -> float:
        """Seconds of validity left at ``at`` (negative once expired)."""
        return self.not_after - at

    def days_left(self, at: float) -> float:
        return self.left(at) / DAY

    def expiring(self, at: float) -> bool:
        return self.left(at) < self.warning


def warning_for(node: Node, probe: str) -> timedelta:
    """The largest ``cert_valid_for`` of ``node``'s SLOs measured by ``probe``, else the
    default (14 days)."""
    thresholds = [
        slo.sli.cert_valid_for
        for slo in node.slos
        if isinstance(slo.sli, ProbeSli)
        and slo.sli.probe == probe
        and slo.sli.cert_valid_for is not None
    ]
    return max(thresholds, default=DEFAULT_WARNING)


def certificate_statuses(
    specs: SpecSet, expiries: Mapping[ProbeKey, float]
) -> tuple[CertificateStatus, ...]:
    """One status per probe of ``specs`` with a recorded certificate, in spec order, then one per
    journey step and drill (:func:`step_probe`, :func:`drill_probe`; the default warning)."""
    statuses: list[CertificateStatus] = []
    for node in specs.nodes:
        for probe in node.probes:
            not_after = expiries.get((node.name, probe.name))
            if not_after is not None:
                warning = warning_for(node, probe.name).total_seconds()
                statuses.append(CertificateStatus(node.name, probe.name, not_after, warning))
    default = DEFAULT_WARNING.total_seconds()
    for node_name, probe_name in dict.fromkeys(_request_keys(specs)):
        not_after = expiries.get((node_name, probe_name))
        if not_after is not None:
            statuses.append(CertificateStatus(node_name, probe_name, not_after, default))
    return tuple(statuses)
