"""The demo's checkout journey: storefront -> acme-pay (falling back to backup-pay) -> fastship,
run against the demo ecosystem, whose servers record the traceparent of each step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from agent.demo.ecosystem import Ecosystem
from agent.demo.templates import render_demo_specs
from agent.journeys.pipeline import journey_jobs_of
from agent.journeys.runner import JourneyRunner
from agent.model import JourneySli, SpecSet
from agent.probes.http import HttpProber
from agent.spec.loader import load_specs
from tests.journeys.support import FakeTracer


async def no_wait(_: float) -> None:
    return None


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_demo_has_a_checkout_journey_across_operated_and_partner_nodes(
    demo_specs: SpecSet,
) -> None:
    (checkout,) = demo_specs.journeys
    assert checkout.name == "checkout"
    assert checkout.interval == timedelta(seconds=2)
    assert [(s.name, s.node) for s in checkout.steps] == [
        ("add-to-cart", "storefront"),
        ("authorize", "acme-pay"),
        ("quote", "fastship"),
    ]
    authorize = checkout.steps[1]
    assert authorize.fallback is not None
    assert authorize.fallback.node == "backup-pay"
    assert checkout.steps[0].capture == {"cart": "$.id"}
    assert [slo.sli for slo in checkout.slos] == [
        JourneySli(),
        JourneySli(timedelta(milliseconds=750)),
    ]
    assert checkout.alerting.windows == "demo-fast"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Ecosystem, SpecSet, HttpProber]]:
    prober = HttpProber()
    async with Ecosystem(clock=ManualClock(), sleep=no_wait) as eco:
        try:
            yield eco, load_specs(render_demo_specs(eco.urls, eco.ports, tmp_path), {}), prober
        finally:
            await prober.aclose()


async def test_a_healthy_run_reaches_every_node_with_its_step_traceparent(
    running: tuple[Ecosystem, SpecSet, HttpProber],
) -> None:
    eco, specs, prober = running
    (job,) = journey_jobs_of(specs).values()
    tracer = FakeTracer()
    result = await JourneyRunner(prober, tracer).run(job.journey, job.nodes)

    assert result.ok
    steps = [span for span in tracer.spans if span.kind == "step"]
    assert [span.name for span in steps] == [
        "add-to-cart@storefront",
        "authorize@acme-pay",
        "quote@fastship",
    ]
    for span, node in zip(steps, ("storefront", "acme-pay", "fastship"), strict=True):
        assert eco.traffic(node).traceparents == (span.traceparent,)
        assert span.trace_id == result.trace_id
    assert eco.traffic("backup-pay").requests == 0


async def test_during_the_acme_pay_outage_backup_pay_saves_the_checkout(
    running: tuple[Ecosystem, SpecSet, HttpProber],
) -> None:
    eco, specs, prober = running
    eco.jump_to(90.0)  # 1:30, inside acme-pay's outage
    (job,) = journey_jobs_of(specs).values()
    tracer = FakeTracer()
    result = await JourneyRunner(prober, tracer).run(job.journey, job.nodes)

    assert result.ok
    authorize = result.steps[1]
    assert (authorize.saved, authorize.observation.status) == (True, 503)
    assert eco.traffic("acme-pay").statuses == {503: 1}
    assert eco.traffic("backup-pay").statuses == {200: 1}
    (fallback_span,) = [span for span in tracer.spans if span.fallback]
    assert eco.traffic("backup-pay").traceparents == (fallback_span.traceparent,)
