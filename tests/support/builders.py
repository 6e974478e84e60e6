"""Small builders of model objects for tests."""

from __future__ import annotations

from datetime import timedelta

from agent.model import (
    AlertTier,
    AlertWindows,
    HttpCheck,
    Mode,
    Node,
    Partner,
    Probe,
    ProbeSli,
    RollingWindow,
    Severity,
    Slo,
    SpecSet,
)

WORKBOOK = AlertWindows(
    "default",
    (
        AlertTier(Severity.PAGE, 0.02, timedelta(hours=1), timedelta(minutes=5)),
        AlertTier(Severity.PAGE, 0.05, timedelta(hours=6), timedelta(minutes=30)),
        AlertTier(Severity.TICKET, 0.10, timedelta(days=1), timedelta(hours=2)),
        AlertTier(Severity.TICKET, 0.10, timedelta(days=3), timedelta(hours=6)),
    ),
)


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


def spec_set(*nodes: Node) -> SpecSet:
    return SpecSet(nodes=tuple(nodes), alert_windows={"default": WORKBOOK})
