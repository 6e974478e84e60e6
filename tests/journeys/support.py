"""Builders of journeys over loopback targets, and a hand-written fake tracer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from agent.model import (
    Check,
    HttpCheck,
    Journey,
    JourneySli,
    JourneyStep,
    Mode,
    Node,
    Partner,
    Probe,
    RollingWindow,
    Slo,
    StepFallback,
)
from agent.probes.result import Observation
from agent.tracing.api import SpanHandle

WINDOW = RollingWindow(timedelta(days=28))


def _node(name: str, capability: str, partner: str | None) -> Node:
    probe = Probe("health", timedelta(seconds=30), HttpCheck(url=f"http://{name}.invalid/"))
    mode = Mode.OPERATED if partner is None else Mode.ORCHESTRATED
    return Node(
        name,
        mode,
        "checkout",
        capability,
        probes=(probe,),
        slos=(),
        partner=None if partner is None else Partner(partner),
    )


NODES: Mapping[str, Node] = {
    node.name: node
    for node in (
        _node("storefront", "storefront", None),
        _node("acme-pay", "payments", "Acme Pay"),
        _node("backup-pay", "payments", "Backup Pay"),
        _node("fastship", "shipping", "FastShip"),
    )
}


def check(url: str, **fields: object) -> HttpCheck:
    return HttpCheck(url=url, timeout=timedelta(seconds=5), **fields)  # type: ignore[arg-type]


def step(
    name: str,
    node: str,
    url: str,
    *,
    capture: Mapping[str, str] | None = None,
    fallback: tuple[str, str] | None = None,
    **fields: object,
) -> JourneyStep:
    """A step to ``node`` at ``url``; ``fallback`` is (node, url) with the same fields."""
    return JourneyStep(
        name,
        node,
        check(url, **fields),
        capture=dict(capture or {}),
        fallback=None
        if fallback is None
        else StepFallback(fallback[0], check(fallback[1], **fields)),
    )


def journey(
    *steps: JourneyStep, latency_under: timedelta | None = None, name: str = "checkout"
) -> Journey:
    slos = [Slo("success", 0.99, WINDOW, JourneySli())]
    if latency_under is not None:
        slos.append(Slo("latency", 0.95, WINDOW, JourneySli(latency_under)))
    return Journey(name, timedelta(minutes=1), tuple(steps), tuple(slos))


# --- a fake tracer ------------------------------------------------------------------------------


@dataclass
class FakeSpan:
    """A span of :class:`FakeTracer`: ids made up in order, outcome kept."""

    kind: str  # "journey", "step" or "probe"
    name: str
    trace_id: str
    span_id: str
    parent: FakeSpan | None = None
    fallback: bool = False
    observations: list[Observation] = field(default_factory=list)

    @property
    def traceparent(self) -> str | None:
        return f"00-{self.trace_id}-{self.span_id}-01"

    def record(self, observation: Observation) -> None:
        self.observations.append(observation)


class FakeTracer:
    """Implements the ``Tracer`` protocol: every journey run a new trace, its step spans the
    children of the run's span; every probe a trace of its own."""

    def __init__(self) -> None:
        self.spans: list[FakeSpan] = []
        self._current: FakeSpan | None = None
        self._ids = 0

    def _id(self, digits: int) -> str:
        self._ids += 1
        return f"{self._ids:0{digits}x}"

    @contextlib.contextmanager
    def _open(self, span: FakeSpan, current: bool) -> Iterator[SpanHandle]:
        self.spans.append(span)
        previous = self._current
        if current:
            self._current = span
        try:
            yield span
        finally:
            self._current = previous

    def probe_span(self, node: Node, probe: str, check: Check) -> ContextManager[SpanHandle]:
        span = FakeSpan("probe", f"{node.name}/{probe}", self._id(32), self._id(16))
        return self._open(span, current=False)

    def journey_span(self, journey: Journey) -> ContextManager[SpanHandle]:
        span = FakeSpan("journey", journey.name, self._id(32), self._id(16))
        return self._open(span, current=True)

    def step_span(
        self, journey: Journey, step: JourneyStep, node: Node, check: HttpCheck, *, fallback: bool
    ) -> ContextManager[SpanHandle]:
        parent = self._current
        assert parent is not None, "a step span outside a journey span"
        span = FakeSpan(
            "step", f"{step.name}@{node.name}", parent.trace_id, self._id(16), parent, fallback
        )
        return self._open(span, current=False)

    def roots(self) -> list[FakeSpan]:
        return [span for span in self.spans if span.kind == "journey"]


# --- spec files -------------------------------------------------------------------------------


def _node_yaml(name: str, capability: str, partner: str | None, url: str) -> str:
    mode = "operated" if partner is None else "orchestrated"
    partner_line = "" if partner is None else f"  partner: {{name: {partner}}}\n"
    return (
        "apiVersion: slo-agent/v1\n"
        "kind: Node\n"
        f"metadata: {{name: {name}}}\n"
        "spec:\n"
        f"  mode: {mode}\n"
        "  owner: checkout\n"
        f"  capability: {capability}\n"
        f"{partner_line}"
        "  probes:\n"
        f"    - {{name: health, interval: 1h, http: {{url: '{url}'}}}}\n"
    )


# a tier that fits the journey's 1h SLO window (the built-in tiers look back up to 3d)
HOURLY_WINDOWS = """\
apiVersion: slo-agent/v1
kind: AlertWindows
metadata: {name: hourly}
spec: {page: [{budget_percent: 2, long: 1h, short: 5m}]}
"""


def checkout_specs(
    shop: str,
    pay: str,
    backup: str,
    ship: str,
    *,
    interval: str = "1m",
    timeout: str = "1s",
    health: str = "",
) -> str:
    """Four nodes (probing ``health``) and a ``checkout`` journey over the given base URLs."""
    probe = health or "http://127.0.0.1:9/health"
    nodes = [
        _node_yaml("storefront", "storefront", None, probe),
        _node_yaml("acme-pay", "payments", "Acme Pay", probe),
        _node_yaml("backup-pay", "payments", "Backup Pay", probe),
        _node_yaml("fastship", "shipping", "FastShip", probe),
    ]
    journey_yaml = f"""\
apiVersion: slo-agent/v1
kind: Journey
metadata: {{name: checkout}}
spec:
  interval: {interval}
  steps:
    - name: add-to-cart
      node: storefront
      http: {{url: "{shop}/cart", method: POST, timeout: {timeout}}}
      capture: {{cart: "$.id"}}
    - name: authorize
      node: acme-pay
      http: {{url: "{pay}/pay?cart=${{cart}}", timeout: {timeout}}}
      fallback:
        node: backup-pay
        http: {{url: "{backup}/pay?cart=${{cart}}", timeout: {timeout}}}
    - name: quote
      node: fastship
      http: {{url: "{ship}/quote", timeout: {timeout}}}
  slos:
    - {{name: success, objective: 99, window: 1h}}
  alerting: {{windows: hourly}}
"""
    return "---\n".join([*nodes, journey_yaml, HOURLY_WINDOWS])
