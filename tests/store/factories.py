"""Probe results and SLI events for store tests."""

from __future__ import annotations

from agent.probes.result import Observation, Outcome, Phases, ProbeResult, Reason
from agent.slo.events import SliEvent

BASE = 1_700_000_040.0  # a minute start: 1_700_000_040 / 60 = 28_333_334


def probe_result(
    at: float,
    *,
    node: str = "shop",
    probe: str = "home",
    reason: Reason = Reason.OK,
    duration: float = 0.25,
    status: int | None = 200,
    phases: Phases | None = None,
    detail: str = "",
) -> ProbeResult:
    outcome = Outcome.SUCCESS if reason is Reason.OK else Outcome.FAILURE
    observation = Observation(outcome, reason, duration, status, phases or Phases(), detail)
    return ProbeResult(node=node, probe=probe, started_at=at, observation=observation)


def events(*pairs: tuple[str, bool]) -> list[SliEvent]:
    return [SliEvent(series, good) for series, good in pairs]
