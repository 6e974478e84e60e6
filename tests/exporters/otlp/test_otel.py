"""OtelTracer's spans, read back through the SDK's in-memory exporter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent.model import (
    HttpCheck,
    Journey,
    JourneySli,
    JourneyStep,
    Mode,
    RollingWindow,
    Slo,
    StepFallback,
)
from agent.probe_kinds.tcp import TcpCheck
from agent.probes.result import Observation, Outcome, Reason
from exporters.otlp.tracer import OtelTracer
from tests.support.builders import node

OK = Observation(Outcome.SUCCESS, Reason.OK, 0.01, status=200)
FAILED_503 = Observation(
    Outcome.FAILURE, Reason.STATUS, 0.02, status=503, detail="expected status in [200-299], got 503"
)
TIMED_OUT = Observation(
    Outcome.FAILURE, Reason.TIMEOUT, 5.0, detail="timed out after 5s waiting for response headers"
)


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
def tracer(exported: InMemorySpanExporter) -> Iterator[OtelTracer]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    yield OtelTracer(provider)
    provider.shutdown()


def _journey() -> Journey:
    add = JourneyStep("add-to-cart", "storefront", HttpCheck("http://shop.example/cart", "POST"))
    pay = JourneyStep(
        "authorize",
        "acme-pay",
        HttpCheck("https://pay.example/v1/authorize?cart=42"),
        fallback=StepFallback("backup-pay", HttpCheck("https://backup.example/v1/authorize")),
    )
    slo = Slo("success", 0.995, RollingWindow(timedelta(days=28)), JourneySli())
    return Journey("checkout", timedelta(minutes=1), (add, pay), (slo,))


def test_a_probe_span_is_a_client_root_span_with_http_attributes(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    pay = node("acme-pay", url="https://pay.acme.example:8443/v1/health")
    check = pay.probes[0].check

    with tracer.probe_span(pay, "authorize", check) as span:
        span.record(OK)

    (finished,) = exported.get_finished_spans()
    assert finished.kind is SpanKind.CLIENT
    assert finished.parent is None
    assert finished.name == "GET acme-pay/authorize"
    assert dict(finished.attributes or {}) == {
        "http.request.method": "GET",
        "url.full": "https://pay.acme.example:8443/v1/health",
        "server.address": "pay.acme.example",
        "server.port": 8443,
        "service.peer.name": "acme-pay",
        "slo_agent.node.mode": "orchestrated",
        "slo_agent.partner": "Acme Pay",
        "slo_agent.probe": "authorize",
        "slo_agent.reason": "ok",
        "http.response.status_code": 200,
    }
    assert finished.status.status_code is StatusCode.UNSET
    assert finished.instrumentation_scope is not None
    assert finished.instrumentation_scope.name == "slo-agent"


def test_traceparent_and_trace_id_name_the_span(tracer: OtelTracer) -> None:
    shop = node("storefront", mode=Mode.OPERATED)

    with tracer.probe_span(shop, "authorize", shop.probes[0].check) as span:
        traceparent, trace_id = span.traceparent, span.trace_id

    assert trace_id is not None
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert traceparent is not None
    match = re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-([0-9a-f]{{2}})", traceparent)
    assert match is not None
    assert int(match[1], 16) & 1  # sampled


def test_every_probe_span_starts_its_own_trace(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    shop = node("storefront", mode=Mode.OPERATED)
    check = shop.probes[0].check

    with tracer.probe_span(shop, "authorize", check), tracer.probe_span(shop, "authorize", check):
        pass

    inner, outer = exported.get_finished_spans()
    assert inner.parent is None
    assert inner.context is not None
    assert outer.context is not None
    assert inner.context.trace_id != outer.context.trace_id


def test_an_operated_node_has_no_partner_attribute(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    shop = node("storefront", mode=Mode.OPERATED, url="http://shop.example/health")

    with tracer.probe_span(shop, "authorize", shop.probes[0].check):
        pass

    attributes = dict(exported.get_finished_spans()[0].attributes or {})
    assert attributes["slo_agent.node.mode"] == "operated"
    assert attributes["server.port"] == 80
    assert "slo_agent.partner" not in attributes


@pytest.mark.parametrize(
    ("observation", "error_type", "description"),
    [
        (FAILED_503, "503", "expected status in [200-299], got 503"),
        (TIMED_OUT, "timeout", "timed out after 5s waiting for response headers"),
    ],
)
def test_a_failed_probe_sets_error_status_with_the_detail(
    tracer: OtelTracer,
    exported: InMemorySpanExporter,
    observation: Observation,
    error_type: str,
    description: str,
) -> None:
    pay = node()

    with tracer.probe_span(pay, "authorize", pay.probes[0].check) as span:
        span.record(observation)

    (finished,) = exported.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == description
    attributes = dict(finished.attributes or {})
    assert attributes["error.type"] == error_type
    assert attributes["slo_agent.reason"] == observation.reason.value
    assert attributes.get("http.response.status_code") == observation.status


def test_an_exception_inside_the_span_marks_it_as_error(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    pay = node()

    with (
        pytest.raises(RuntimeError),
        tracer.probe_span(pay, "authorize", pay.probes[0].check),
    ):
        raise RuntimeError("bug")

    (finished,) = exported.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert [event.name for event in finished.events] == ["exception"]


def test_a_tcp_probe_span_names_host_port_and_transport(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    db = node("orders-db", mode=Mode.OPERATED)

    with tracer.probe_span(db, "connect", TcpCheck("db.internal", 5432)):
        pass

    (finished,) = exported.get_finished_spans()
    assert finished.name == "connect orders-db/connect"
    assert finished.kind is SpanKind.CLIENT
    attributes = dict(finished.attributes or {})
    assert (attributes["server.address"], attributes["server.port"]) == ("db.internal", 5432)
    assert attributes["network.transport"] == "tcp"
    assert "http.request.method" not in attributes


def test_credentials_never_reach_a_span(tracer: OtelTracer, exported: InMemorySpanExporter) -> None:
    check = HttpCheck(
        "https://user:hunter2@pay.example/v1?sig=s3cret&cart=42&api_key=k3y",
        headers={"Authorization": "Bearer t0ken-value"},
    )
    pay = node()

    with tracer.probe_span(pay, "authorize", check):
        pass

    attributes = dict(exported.get_finished_spans()[0].attributes or {})
    assert attributes["url.full"] == (
        "https://REDACTED:REDACTED@pay.example/v1?sig=REDACTED&cart=42&api_key=REDACTED"
    )
    assert attributes["server.address"] == "pay.example"
    shown = repr(attributes)
    for secret in ("hunter2", "s3cret", "k3y", "t0ken-value", "Authorization"):
        assert secret not in shown


def test_an_unknown_method_is_other_with_the_original_kept(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    pay = node()

    with tracer.probe_span(pay, "authorize", HttpCheck("http://pay.example/", "PURGE")):
        pass

    (finished,) = exported.get_finished_spans()
    attributes = dict(finished.attributes or {})
    assert attributes["http.request.method"] == "_OTHER"
    assert attributes["http.request.method_original"] == "PURGE"
    assert finished.name == "HTTP acme-pay/authorize"


def test_a_journey_run_is_one_trace_with_a_client_span_per_step(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    journey = _journey()
    add, pay = journey.steps
    assert pay.fallback is not None
    shop = node("storefront", mode=Mode.OPERATED)
    acme, backup = node("acme-pay"), node("backup-pay")

    with tracer.journey_span(journey) as run:
        with tracer.step_span(journey, add, shop, add.check, fallback=False) as step:
            step.record(OK)
            add_traceparent = step.traceparent
        with tracer.step_span(journey, pay, acme, pay.check, fallback=False) as step:
            step.record(FAILED_503)
        with tracer.step_span(journey, pay, backup, pay.fallback.check, fallback=True) as step:
            step.record(OK)
        run.record(OK)

    spans: list[ReadableSpan] = list(exported.get_finished_spans())
    by_name = {span.name: span for span in spans}
    root = by_name["journey checkout"]
    assert root.kind is SpanKind.INTERNAL
    assert root.parent is None
    assert root.context is not None
    assert {span.context.trace_id for span in spans if span.context} == {root.context.trace_id}
    steps = [span for span in spans if span is not root]
    assert [span.name for span in steps] == ["POST add-to-cart", "GET authorize", "GET authorize"]
    for span in steps:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == root.context.span_id
    first, failed, fallback = (dict(span.attributes or {}) for span in steps)
    assert first["slo_agent.journey"] == "checkout"
    assert first["slo_agent.step"] == "add-to-cart"
    assert first["service.peer.name"] == "storefront"
    assert first["slo_agent.fallback"] is False
    assert failed["service.peer.name"] == "acme-pay"
    assert failed["slo_agent.partner"] == "Acme Pay"
    assert steps[1].status.status_code is StatusCode.ERROR
    assert fallback["service.peer.name"] == "backup-pay"
    assert fallback["slo_agent.fallback"] is True
    assert fallback["url.full"] == "https://backup.example/v1/authorize"
    assert steps[2].status.status_code is StatusCode.UNSET
    first_context = steps[0].context
    assert first_context is not None
    assert add_traceparent == (
        f"00-{first_context.trace_id:032x}-{first_context.span_id:016x}"
        f"-{first_context.trace_flags:02x}"
    )
    assert dict(root.attributes or {})["slo_agent.journey.steps"] == 2


def test_separate_journey_runs_are_separate_traces(
    tracer: OtelTracer, exported: InMemorySpanExporter
) -> None:
    journey = _journey()

    for _ in range(2):
        with tracer.journey_span(journey):
            pass

    first, second = exported.get_finished_spans()
    assert first.context is not None
    assert second.context is not None
    assert first.context.trace_id != second.context.trace_id
    assert second.parent is None
