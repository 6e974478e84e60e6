"""From probe results to SLI events: the one place that decides what "good" means.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from agent.model import Node, ProbeSli
from agent.probes.result import Outcome, ProbeResult, Reason


@dataclass(frozen=True, slots=True)
class Counts:
    """Events in some time range: ``total`` of them, ``bad`` of which missed the SLI.

    Whole numbers when counted from probe results; estimates (rate x window length, so not
    whole) when read from the user's own metrics in Prometheus.
    """

    total: float = 0
    bad: float = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.total + other.total, self.bad + other.bad)

    @property
    def good(self) -> float:
        return self.total - self.bad


class SliEvent(NamedTuple):
    """One SLO's verdict on one run (a NamedTuple: one or more are built per run)."""

    series: str  # "<node>/<slo>", the store's key for this SLO's buckets
    good: bool


def series_key(node: str, slo: str) -> str:
    return f"{node}/{slo}"


def certificate_valid_for(result: ProbeResult, seconds: float) -> bool:
    """Whether the probe saw a peer certificate valid for at least ``seconds`` after it
    started (a run without a certificate, e.g. on a kept-alive connection, is not)."""
    expiry = result.observation.cert_not_after
    return expiry is not None and expiry - result.started_at >= seconds


def sli_events(node: Node, result: ProbeResult) -> list[SliEvent]:
    """One event per SLO of ``node`` that is measured by the probe that produced ``result``;
    none for an SLO with ``throttled: exclude`` when the target throttled the probe."""
    events: list[SliEvent] = []
    observation = result.observation
    throttled = observation.reason is Reason.THROTTLED
    ok = observation.outcome is Outcome.SUCCESS
    for slo in node.slos:
        sli = slo.sli
        if not isinstance(sli, ProbeSli) or sli.probe != result.probe:
            continue
        if throttled and sli.throttled == "exclude":
            continue
        good = ok
        if good and sli.latency_under is not None:
            good = observation.duration < sli.latency_under.total_seconds()
        if good and sli.cert_valid_for is not None:
            good = certificate_valid_for(result, sli.cert_valid_for.total_seconds())
        events.append(SliEvent(series_key(node.name, slo.name), good))
    return events
