"""Journey metrics: SLI events with mode="journey", hop blame, the run duration histogram, and
trace-id exemplars in the OpenMetrics exposition (never in the Prometheus text format)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.journeys.blame import Blame
from agent.journeys.pipeline import JourneyPipeline
from agent.journeys.result import JourneyResult, StepResult, journey_events
from agent.journeys.runner import JourneyRunner
from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.probes.result import Observation, Outcome, Reason
from agent.runtime.pipeline import ProbePipeline
from agent.schedule.scheduler import JourneyJob, Target
from agent.store import SqliteStore
from exporters.otlp.tracer import OtelTracer
from exporters.prometheus.metrics import AgentMetrics
from tests.journeys.support import NODES, FakeTracer, journey, step
from tests.support.builders import node
from tests.support.promtool import check_metrics
from tests.support.targets import Reply, json_reply
from tests.support.targets import Target as Server

NOW = 1_700_000_000.0
CHECKOUT = journey(
    step("cart", "storefront", "http://shop.invalid/"),
    step("pay", "acme-pay", "http://pay.invalid/"),
)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def text_samples(metrics: AgentMetrics) -> list[Sample]:
    text = metrics.exposition().decode()
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def openmetrics_samples(metrics: AgentMetrics) -> list[Sample]:
    text = metrics.openmetrics_exposition().decode()
    families = parse_openmetrics(text)  # type: ignore[no-untyped-call]
    return [s for family in families for s in family.samples]


def failed_run(trace_id: str | None) -> JourneyResult:
    down = Observation(Outcome.FAILURE, Reason.STATUS, 0.3, 503)
    ok = Observation(Outcome.SUCCESS, Reason.OK, 0.1, 200)
    steps = (StepResult("cart", "storefront", ok), StepResult("pay", "acme-pay", down))
    return JourneyResult("checkout", NOW, 0.42, steps, trace_id)


def test_a_journey_run_counts_events_blame_and_duration() -> None:
    metrics = AgentMetrics()
    result = failed_run(TRACE)
    blames = [
        Blame("checkout", "pay", "acme-pay", "orchestrated", "Acme Pay", "status", 1.0),
        Blame("checkout", "cart", "storefront", "operated", "", "latency", 0.5),
    ]
    metrics.observe_journey(CHECKOUT, result, journey_events(CHECKOUT, result), blames)
    metrics.observe_journey(CHECKOUT, result, journey_events(CHECKOUT, result), blames[1:])
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in text_samples(metrics)}
    events = (("mode", "journey"), ("node", "checkout"), ("slo", "success"))
    assert samples[("slo_agent_sli_events_total", events)] == 2
    assert samples[("slo_agent_sli_bad_events_total", events)] == 2
    blame = ("slo_agent_journey_hop_blame_total", (("journey", "checkout"),))
    assert (
        samples[
            (
                blame[0],
                (*blame[1], ("mode", "orchestrated"), ("node", "acme-pay"), ("reason", "status")),
            )
        ]
        == 1.0
    )
    assert (
        samples[
            (
                blame[0],
                (*blame[1], ("mode", "operated"), ("node", "storefront"), ("reason", "latency")),
            )
        ]
        == 1.0
    )
    assert samples[("slo_agent_journey_duration_seconds_count", (("journey", "checkout"),))] == 2
    assert samples[
        ("slo_agent_journey_duration_seconds_sum", (("journey", "checkout"),))
    ] == pytest.approx(0.84)
    done = check_metrics(metrics.exposition())
    assert (done.returncode, done.stdout.strip(), done.stderr.strip()) == (0, "", "")


def test_exemplars_carry_the_trace_id_in_openmetrics_only() -> None:
    metrics = AgentMetrics()
    metrics.observe_journey(CHECKOUT, failed_run(TRACE), [], [])
    metrics.observe_journey(CHECKOUT, failed_run(None), [], [])  # not traced: no exemplar
    assert b"trace_id" not in metrics.exposition()
    exemplars = [
        s.exemplar
        for s in openmetrics_samples(metrics)
        if s.name == "slo_agent_journey_duration_seconds_bucket" and s.exemplar is not None
    ]
    assert [(e.labels, e.value) for e in exemplars] == [({"trace_id": TRACE}, 0.42)]
    assert metrics.openmetrics_exposition().endswith(b"# EOF\n")


# --- with real spans ------------------------------------------------------------------------


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


async def test_the_exemplars_are_the_trace_ids_of_real_spans(
    prober: HttpProber, tmp_path: Path
) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = OtelTracer(provider)
    metrics = AgentMetrics()
    async with Server({"/cart": json_reply({"id": "c-1"}), "/pay": Reply(200, b"ok")}) as site:
        checkout = journey(
            step("cart", "storefront", site.url("/cart"), capture={"cart": "$.id"}),
            step("pay", "acme-pay", site.url("/pay?cart=${cart}")),
        )
        with SqliteStore(tmp_path / "store.db") as store:
            pipeline = JourneyPipeline(JourneyRunner(prober, tracer), store, metrics)
            result = await pipeline.run(JourneyJob(checkout, NODES))
            shop = node("storefront", url=site.url("/pay"))
            probes = ProbePipeline(
                Probers(http=prober), store, metrics, clock=lambda: NOW, tracer=tracer
            )
            probed = await probes.run(Target(shop, shop.probes[0]))
    provider.shutdown()
    assert result is not None
    assert result.ok
    assert probed is not None
    assert probed.ok
    finished = spans.get_finished_spans()
    root = next(span for span in finished if span.name == "journey checkout")
    journey_trace = format(root.context.trace_id, "032x")
    assert result.trace_id == journey_trace
    probe_span = next(span for span in finished if "slo_agent.probe" in (span.attributes or {}))
    probe_trace = format(probe_span.context.trace_id, "032x")
    assert probe_trace != journey_trace
    exemplars = {
        s.name: s.exemplar.labels["trace_id"]
        for s in openmetrics_samples(metrics)
        if s.exemplar is not None
    }
    assert exemplars == {
        "slo_agent_journey_duration_seconds_bucket": journey_trace,
        "slo_agent_probe_duration_seconds_bucket": probe_trace,
    }


async def test_the_metrics_endpoint_answers_openmetrics_to_who_asks() -> None:
    metrics = AgentMetrics()
    tracer = FakeTracer()
    with tracer.journey_span(CHECKOUT) as span:
        trace_id = span.trace_id
    metrics.observe_journey(CHECKOUT, failed_run(trace_id), [], [])

    class View:
        snapshot = None
        ready = False
        last_reload_error = None

    app = create_app(
        View(),
        metrics.exposition,
        metrics.content_type,
        openmetrics=metrics.openmetrics_exposition,
    )
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        plain = await client.get("/metrics")
        wanted = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        rich = await client.get("/metrics", headers={"Accept": wanted})
    assert plain.headers["content-type"].startswith("text/plain")
    assert "trace_id" not in plain.text
    assert rich.headers["content-type"].startswith("application/openmetrics-text")
    assert f'# {{trace_id="{trace_id}"}} 0.42' in rich.text
