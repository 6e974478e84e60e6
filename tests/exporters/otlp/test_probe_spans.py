"""Single-node probes through the real pipeline: a span per probe, its ``traceparent`` sent to
the target, the span exported to a real OTLP receiver, and the trace id passed on for exemplars."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import sampling

from agent.model import HttpCheck, Mode, Node, Probe
from agent.probe_kinds.tcp import TcpCheck
from agent.probes import Probers
from agent.runtime.pipeline import ProbePipeline
from agent.schedule.scheduler import Target as ProbeTarget
from agent.store.sqlite import SqliteStore
from agent.tracing.api import NO_TRACING, Tracer
from exporters.otlp.setup import OtlpTracing, TracingConfig, start_tracing
from tests.support.builders import node
from tests.support.fakes import RecordingTelemetry
from tests.support.otlp import OtlpHttpReceiver, ReceivedSpan
from tests.support.targets import Reply, Target

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with Target({"/health": Reply(200, b"ok"), "/down": Reply(503, b"down")}) as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


def _tracing(
    receiver: OtlpHttpReceiver, sampler: sampling.Sampler = sampling.ALWAYS_ON
) -> OtlpTracing:
    config = TracingConfig(endpoint=receiver.traces_url, max_export_batch_size=1, sampler=sampler)
    return start_tracing(config, RecordingTelemetry())


async def _probe(
    tracer: Tracer, probed: Node, store: SqliteStore, telemetry: RecordingTelemetry
) -> None:
    probers = Probers()
    pipeline = ProbePipeline(probers, store, telemetry, clock=time.time, tracer=tracer)
    try:
        for probe in probed.probes:
            assert await pipeline.run(ProbeTarget(probed, probe)) is not None
    finally:
        await probers.aclose()


def _by_probe(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {span.attributes["slo_agent.probe"]: span for span in spans}


async def test_a_probe_span_carries_the_trace_the_target_saw(
    receiver: OtlpHttpReceiver, target: Target, store: SqliteStore
) -> None:
    base = node("acme-pay", url=target.url("/health"))
    down = Probe("down", timedelta(seconds=30), HttpCheck(target.url("/down")))
    probed = Node(
        base.name,
        base.mode,
        base.owner,
        base.capability,
        (*base.probes, down),
        base.slos,
        partner=base.partner,
    )
    telemetry = RecordingTelemetry()
    tracing = _tracing(receiver)
    try:
        await _probe(tracing.tracer, probed, store, telemetry)
        spans = _by_probe(receiver.wait_for_spans(2))
    finally:
        assert tracing.shutdown(5.0)

    health, failed = spans["authorize"], spans["down"]
    sent = {request.path: request.header("traceparent") for request in target.requests}
    for span, path in ((health, "/health"), (failed, "/down")):
        header = sent[path]
        assert header is not None
        match = TRACEPARENT.fullmatch(header)
        assert match is not None
        assert (match[1], match[2]) == (span.trace_id, span.span_id)
        assert span.parent_span_id == ""
        assert span.kind == "CLIENT"
    assert health.attributes == {
        "http.request.method": "GET",
        "url.full": target.url("/health"),
        "server.address": "127.0.0.1",
        "server.port": target.port,
        "service.peer.name": "acme-pay",
        "slo_agent.node.mode": "orchestrated",
        "slo_agent.partner": "Acme Pay",
        "slo_agent.probe": "authorize",
        "slo_agent.reason": "ok",
        "http.response.status_code": 200,
    }
    assert health.status == "UNSET"
    assert failed.status == "ERROR"
    assert failed.status_message == "expected status in [200-299], got 503"
    assert failed.attributes["error.type"] == "503"
    assert failed.attributes["http.response.status_code"] == 503
    assert telemetry.trace_ids == [health.trace_id, failed.trace_id]


async def test_without_tracing_no_traceparent_is_sent(target: Target, store: SqliteStore) -> None:
    telemetry = RecordingTelemetry()

    await _probe(NO_TRACING, node("acme-pay", url=target.url("/health")), store, telemetry)

    (request,) = target.requests
    assert request.header("traceparent") is None
    assert telemetry.trace_ids == [None]
    assert [result.ok for result in telemetry.results] == [True]


async def test_an_unsampled_probe_propagates_but_gives_no_trace_id(
    receiver: OtlpHttpReceiver, target: Target, store: SqliteStore
) -> None:
    telemetry = RecordingTelemetry()
    tracing = _tracing(receiver, sampler=sampling.ALWAYS_OFF)
    try:
        await _probe(tracing.tracer, node("acme-pay", url=target.url("/health")), store, telemetry)
    finally:
        assert tracing.shutdown(5.0)

    header = target.requests[0].header("traceparent")
    assert header is not None
    match = TRACEPARENT.fullmatch(header)
    assert match is not None
    assert int(match[3], 16) & 1 == 0  # not sampled: a partner need not record it either
    assert telemetry.trace_ids == [None]  # no exemplar pointing at a trace nobody kept
    assert receiver.spans == []


async def test_a_tcp_probe_gets_a_span_too(
    receiver: OtlpHttpReceiver, target: Target, store: SqliteStore
) -> None:
    db = Node(
        "orders-db",
        Mode.OPERATED,
        "sre",
        "database",
        (Probe("connect", timedelta(seconds=30), TcpCheck("127.0.0.1", target.port)),),
        (),
    )
    telemetry = RecordingTelemetry()
    tracing = _tracing(receiver)
    try:
        await _probe(tracing.tracer, db, store, telemetry)
        (span,) = receiver.wait_for_spans(1)
    finally:
        assert tracing.shutdown(5.0)

    assert span.name == "connect orders-db/connect"
    assert span.kind == "CLIENT"
    assert span.attributes["server.port"] == target.port
    assert span.attributes["slo_agent.reason"] == "ok"
    assert telemetry.trace_ids == [span.trace_id]
