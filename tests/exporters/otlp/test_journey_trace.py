"""A real journey run (runner, HTTP prober, loopback partners) traced into a real OTLP receiver:
one trace per run, the step spans children of the journey span, and every partner saw the
trace in its ``traceparent``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from agent.journeys.runner import JourneyRunner
from agent.model import (
    HttpCheck,
    Journey,
    JourneySli,
    JourneyStep,
    Mode,
    Node,
    RollingWindow,
    Slo,
    StepFallback,
)
from agent.probes.http import HttpProber
from exporters.otlp.setup import TracingConfig, start_tracing
from tests.support.builders import node
from tests.support.fakes import RecordingTelemetry
from tests.support.otlp import OtlpHttpReceiver, ReceivedSpan
from tests.support.targets import Reply, Target, json_reply

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


@pytest.fixture
async def partners() -> AsyncIterator[dict[str, Target]]:
    shop = Target({"/cart": json_reply({"id": "c-42"})})
    pay = Target({"/v1/authorize": Reply(503, b"down")})
    backup = Target({"/v1/authorize": json_reply({"ok": True})})
    carrier = Target({"/quote": json_reply({"eur": 4.9})})
    started = {"storefront": shop, "acme-pay": pay, "backup-pay": backup, "fastship": carrier}
    for target in started.values():
        await target.start()
    try:
        yield started
    finally:
        for target in started.values():
            await target.stop()


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


def _checkout(partners: dict[str, Target], *, fallback: bool) -> Journey:
    pay, backup = partners["acme-pay"], partners["backup-pay"]
    steps = (
        JourneyStep(
            "add-to-cart",
            "storefront",
            HttpCheck(partners["storefront"].url("/cart"), "POST", body=b"{}"),
            capture={"cart": "$.id"},
        ),
        JourneyStep(
            "authorize",
            "acme-pay",
            HttpCheck(pay.url("/v1/authorize?cart=${cart}")),
            fallback=StepFallback("backup-pay", HttpCheck(backup.url("/v1/authorize?cart=${cart}")))
            if fallback
            else None,
        ),
        JourneyStep("quote", "fastship", HttpCheck(partners["fastship"].url("/quote"))),
    )
    slo = Slo("success", 0.995, RollingWindow(timedelta(days=28)), JourneySli())
    return Journey("checkout", timedelta(minutes=1), steps, (slo,))


def _nodes() -> dict[str, Node]:
    shop = node("storefront", mode=Mode.OPERATED)
    return {n.name: n for n in (shop, node("acme-pay"), node("backup-pay"), node("fastship"))}


def _seen(target: Target) -> list[tuple[str, str]]:
    """(trace id, parent span id) of every request the target received."""
    seen = []
    for request in target.requests:
        header = request.header("traceparent")
        assert header is not None, f"{request.target} came without traceparent"
        match = TRACEPARENT.fullmatch(header)
        assert match is not None
        seen.append((match[1], match[2]))
    return seen


async def test_a_journey_run_is_one_trace_that_every_partner_joined(
    receiver: OtlpHttpReceiver, partners: dict[str, Target], prober: HttpProber
) -> None:
    tracing = start_tracing(TracingConfig(endpoint=receiver.traces_url), RecordingTelemetry())
    try:
        result = await JourneyRunner(prober, tracing.tracer).run(
            _checkout(partners, fallback=True), _nodes()
        )
    finally:
        assert tracing.shutdown(5.0)

    assert result.ok  # the fallback saved the run
    spans = receiver.spans
    assert len(spans) == 5
    (root,) = [span for span in spans if span.parent_span_id == ""]
    assert {span.trace_id for span in spans} == {root.trace_id}
    assert result.trace_id == root.trace_id
    assert root.name == "journey checkout"
    assert root.kind == "INTERNAL"
    assert root.status == "UNSET"
    steps = sorted((s for s in spans if s is not root), key=lambda span: span.start_ns)
    assert [(s.attributes["slo_agent.step"], s.attributes["service.peer.name"]) for s in steps] == [
        ("add-to-cart", "storefront"),
        ("authorize", "acme-pay"),
        ("authorize", "backup-pay"),
        ("quote", "fastship"),
    ]
    for span in steps:
        assert span.kind == "CLIENT"
        assert span.parent_span_id == root.span_id
        assert span.attributes["slo_agent.journey"] == "checkout"
    add, failed, saved, quote = steps
    assert add.attributes["http.request.method"] == "POST"
    assert add.attributes["slo_agent.node.mode"] == "operated"
    assert failed.status == "ERROR"
    assert failed.status_message == "expected status in [200-299], got 503"
    assert failed.attributes["http.response.status_code"] == 503
    assert failed.attributes["slo_agent.partner"] == "Acme Pay"
    assert failed.attributes["slo_agent.fallback"] is False
    assert saved.attributes["slo_agent.fallback"] is True
    assert saved.status == "UNSET"
    # the captured cart id stays off the span: the step's URL is recorded as its template
    assert failed.attributes["url.template"] == partners["acme-pay"].url(
        "/v1/authorize?cart=${cart}"
    )
    assert "url.full" not in failed.attributes
    assert quote.attributes["url.full"] == partners["fastship"].url("/quote")
    assert quote.attributes["server.port"] == partners["fastship"].port
    # every partner saw this trace, with its own step span as the parent
    by_node = {span.attributes["service.peer.name"]: span for span in steps}
    for name, target in partners.items():
        assert _seen(target) == [(root.trace_id, by_node[name].span_id)]
    assert partners["acme-pay"].requests[0].target == "/v1/authorize?cart=c-42"


async def test_a_failed_run_marks_the_journey_span_as_error(
    receiver: OtlpHttpReceiver, partners: dict[str, Target], prober: HttpProber
) -> None:
    tracing = start_tracing(TracingConfig(endpoint=receiver.traces_url), RecordingTelemetry())
    try:
        result = await JourneyRunner(prober, tracing.tracer).run(
            _checkout(partners, fallback=False), _nodes()
        )
    finally:
        assert tracing.shutdown(5.0)

    assert not result.ok
    spans: list[ReceivedSpan] = receiver.spans
    (root,) = [span for span in spans if span.parent_span_id == ""]
    assert root.status == "ERROR"
    assert root.status_message.startswith('step "authorize" failed: ')
    assert sorted(span.attributes.get("slo_agent.step", "") for span in spans) == [
        "",
        "add-to-cart",
        "authorize",
    ]  # the run ended at the failed step: the carrier was never asked
    assert not partners["fastship"].requests
    assert {span.trace_id for span in spans} == {root.trace_id}
