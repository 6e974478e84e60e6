"""Small builders of model objects for tests."""

from __future__ import annotations

from datetime import timedelta

from agent.model import (
    HttpCheck,
    Journey,
    JourneySli,
    JourneyStep,
    Mode,
    Node,
    Partner,
    Probe,
    ProbeSli,
    RollingWindow,
    Slo,
    SpecSet,
)
from agent.spec.defaults import default_alert_windows

WORKBOOK = default_alert_windows()  # the shipped SRE-workbook tiers


def node(
    name: str = "acme-pay",
    *,
    url: str = "http://127.0.0.1:9/health",
    mode: Mode = Mode.ORCHESTRATED,
    objective: float = 0.999,
    latency_under: timedelta | None = None,
    interval: timedelta = timedelta(seconds=30),
) -> Node:
    probe = Probe("authorize", interval, HttpCheck(url=url))
    slos = [
        Slo("availability", objective, RollingWindow(timedelta(days=30)), ProbeSli("authorize"))
    ]
    if latency_under is not None:
        slos.append(
            Slo(
                "latency",
                0.99,
                RollingWindow(timedelta(days=30)),
                ProbeSli("authorize", latency_under),
            )
        )
    partner = Partner("Acme Pay") if mode is Mode.ORCHESTRATED else None
    return Node(
        name, mode, "checkout", "payments", probes=(probe,), slos=tuple(slos), partner=partner
    )


def journey(
    name: str = "checkout", *, objective: float = 0.999, steps_to: tuple[str, ...] = ("acme-pay",)
) -> Journey:
    """A journey with a ``success`` SLO over 30 days and one step per node in ``steps_to``."""
    steps = tuple(
        JourneyStep(f"step-{i}", node_name, HttpCheck(url=f"http://127.0.0.1:9/{node_name}"))
        for i, node_name in enumerate(steps_to)
    )
    slo = Slo("success", objective, RollingWindow(timedelta(days=30)), JourneySli())
    return Journey(name, timedelta(minutes=1), steps, (slo,))


def spec_set(*nodes: Node, journeys: tuple[Journey, ...] = ()) -> SpecSet:
    return SpecSet(nodes=tuple(nodes), alert_windows={"default": WORKBOOK}, journeys=journeys)


def probe_sli(slo: Slo) -> ProbeSli:
    """The SLO's probe SLI; fails the test if the SLO is measured some other way."""
    assert isinstance(slo.sli, ProbeSli), f"{slo.name} is not measured by a probe"
    return slo.sli
