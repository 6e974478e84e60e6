"""Spans exported over real OTLP receivers (HTTP and gRPC), and what happens when the
collector fails, hangs or is gone: the queue stays bounded and every span is accounted for."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.model import Mode
from agent.probes.result import Observation, Outcome, Reason
from exporters.otlp.setup import OtlpTracing, TracingConfig, start_tracing
from exporters.prometheus.metrics import AgentMetrics
from tests.support.builders import node
from tests.support.fakes import RecordingTelemetry
from tests.support.otlp import OtlpGrpcReceiver, OtlpHttpReceiver

OK = Observation(Outcome.SUCCESS, Reason.OK, 0.01, status=200)
# exports happen when a batch fills up or at shutdown, never on a timer during a test
QUIET = TracingConfig(endpoint="", schedule_delay=60.0, max_export_batch_size=1)


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


def _spans(tracing: OtlpTracing, count: int) -> None:
    shop = node("storefront", mode=Mode.OPERATED, url="http://shop.example/health")
    for _ in range(count):
        with tracing.tracer.probe_span(shop, "health", shop.probes[0].check) as span:
            span.record(OK)


def _dropped(metrics: AgentMetrics) -> dict[str, float]:
    text = metrics.exposition().decode()
    return {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "slo_agent_spans_dropped_total"
    }


def _sample(metrics: AgentMetrics, name: str, labels: dict[str, str] | None = None) -> float:
    text = metrics.exposition().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return sample.value
    return 0.0


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_spans_reach_an_otlp_http_receiver(receiver: OtlpHttpReceiver, compression: str) -> None:
    telemetry = RecordingTelemetry()
    config = replace(
        QUIET,
        endpoint=receiver.traces_url,
        compression="gzip" if compression == "gzip" else "none",
        service_name="edge-agent",
        headers={"x-tenant": "shop"},
        resource={"deployment.environment": "test"},
    )
    tracing = start_tracing(config, telemetry)
    try:
        _spans(tracing, 2)
        (first, second) = receiver.wait_for_spans(2)
    finally:
        assert tracing.shutdown(5.0)

    assert first.name == second.name == "GET storefront/health"
    assert first.kind == "CLIENT"
    assert first.attributes["service.peer.name"] == "storefront"
    assert first.scope == "slo-agent"
    assert first.resource["service.name"] == "edge-agent"
    assert first.resource["deployment.environment"] == "test"
    assert first.trace_id != second.trace_id
    assert receiver.headers[0]["x-tenant"] == "shop"
    assert receiver.headers[0]["content-type"] == "application/x-protobuf"
    assert receiver.received.encodings[0] == ("gzip" if compression == "gzip" else "")
    assert telemetry.spans_exported == 2
    assert telemetry.export_failures == {}


def test_spans_reach_an_otlp_grpc_receiver() -> None:
    telemetry = RecordingTelemetry()
    with OtlpGrpcReceiver() as receiver:
        config = replace(QUIET, endpoint=receiver.endpoint, protocol="grpc")
        tracing = start_tracing(config, telemetry)
        try:
            _spans(tracing, 1)
            (span,) = receiver.wait_for_spans(1)
        finally:
            assert tracing.shutdown(5.0)

    assert span.name == "GET storefront/health"
    assert span.kind == "CLIENT"
    assert span.attributes["slo_agent.reason"] == "ok"
    assert telemetry.spans_exported == 1


def test_shutdown_exports_what_is_still_queued(receiver: OtlpHttpReceiver) -> None:
    telemetry = RecordingTelemetry()
    tracing = start_tracing(
        replace(QUIET, endpoint=receiver.traces_url, max_export_batch_size=100), telemetry
    )

    _spans(tracing, 3)
    assert receiver.spans == []  # still queued: the batch is not full and the timer is far

    assert tracing.shutdown(5.0)
    assert len(receiver.spans) == 3
    assert telemetry.spans_exported == 3
    assert tracing.processor.queued == 0


def test_a_failing_collector_is_counted_not_raised(receiver: OtlpHttpReceiver) -> None:
    receiver.status = 500
    metrics = AgentMetrics()
    tracing = start_tracing(replace(QUIET, endpoint=receiver.traces_url), metrics)
    try:
        _spans(tracing, 3)
        receiver.wait_for_requests(3)
    finally:
        tracing.shutdown(5.0)

    assert _sample(metrics, "slo_agent_export_failures_total", {"exporter": "otlp"}) == 3
    assert _dropped(metrics) == {"export_failed": 3}
    assert _sample(metrics, "slo_agent_spans_exported_total") == 0


def test_a_hanging_collector_keeps_the_queue_bounded_and_every_span_counted() -> None:
    metrics = AgentMetrics()
    # a listener that never accepts: the export request connects and then waits for an answer
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        config = replace(
            QUIET,
            endpoint=f"http://127.0.0.1:{port}/v1/traces",
            timeout=30.0,
            max_queue_size=8,
            max_export_batch_size=4,
        )
        tracing = start_tracing(config, metrics)
        seen: list[int] = []
        shop = node("storefront", mode=Mode.OPERATED)
        for _ in range(100):
            with tracing.tracer.probe_span(shop, "health", shop.probes[0].check):
                pass
            seen.append(tracing.processor.queued)
        assert max(seen) <= 8
        assert not tracing.shutdown(0.2)  # the export in flight cannot finish: give up on it
    # the listener is closed: the hanging request is reset, and the export thread ends
    assert tracing.stopped.wait(10)

    dropped = _dropped(metrics)
    # at most one batch of 4 left the queue for the hanging export; at most 8 were queued
    assert dropped["queue_full"] >= 100 - 8 - 4
    assert sum(dropped.values()) == 100  # nothing reached a collector, and nothing is unaccounted
    assert _sample(metrics, "slo_agent_spans_exported_total") == 0


def test_spans_ended_after_shutdown_are_counted_as_dropped(receiver: OtlpHttpReceiver) -> None:
    telemetry = RecordingTelemetry()
    tracing = start_tracing(replace(QUIET, endpoint=receiver.traces_url), telemetry)
    assert tracing.shutdown(5.0)

    _spans(tracing, 2)

    assert telemetry.spans_dropped == {"shutdown": 2}
    assert receiver.spans == []
