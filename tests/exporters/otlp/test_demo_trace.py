"""The demo ecosystem's checkout journey, run by the real agent with tracing configured the
standard way: each run is one trace in a real OTLP receiver, and the demo partners saw that
trace in the ``traceparent`` of their step."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.app import running_agent
from agent.demo.ecosystem import Ecosystem
from agent.demo.templates import render_demo_specs
from tests.support.agents import options
from tests.support.otlp import OtlpHttpReceiver, ReceivedSpan

STEPS = ("add-to-cart", "authorize", "quote")


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


def _complete_runs(spans: list[ReceivedSpan]) -> list[tuple[ReceivedSpan, list[ReceivedSpan]]]:
    """(root, steps in order) of every journey run whose spans all arrived."""
    runs = []
    for root in spans:
        if root.name != "journey checkout":
            continue
        steps = sorted(
            (span for span in spans if span.parent_span_id == root.span_id),
            key=lambda span: span.start_ns,
        )
        if tuple(span.attributes["slo_agent.step"] for span in steps) == STEPS:
            runs.append((root, steps))
    return runs


async def test_a_demo_checkout_run_is_one_trace_the_partners_joined(
    tmp_path: Path, receiver: OtlpHttpReceiver
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    async with Ecosystem() as ecosystem:  # the first minute of the demo: every node healthy
        spec_dir = tmp_path / "specs"
        render_demo_specs(ecosystem.urls, ecosystem.ports, spec_dir)
        async with running_agent(options(spec_dir, tmp_path / "store.db"), env):
            spans = await asyncio.to_thread(
                receiver.wait_for, lambda got: bool(_complete_runs(got)), 30.0
            )
        seen = {
            node: ecosystem.traffic(node).traceparents
            for node in ("storefront", "acme-pay", "fastship")
        }

    root, steps = _complete_runs(spans)[0]
    assert root.kind == "INTERNAL"
    assert root.parent_span_id == ""
    assert root.status == "UNSET"
    assert {span.trace_id for span in steps} == {root.trace_id}
    for span, node in zip(steps, ("storefront", "acme-pay", "fastship"), strict=True):
        assert span.kind == "CLIENT"
        assert span.attributes["service.peer.name"] == node
        assert span.attributes["slo_agent.journey"] == "checkout"
        assert span.status == "UNSET"
        traceparents = {header[:-3] for header in seen[node]}
        assert f"00-{root.trace_id}-{span.span_id}" in traceparents
    assert steps[0].attributes["slo_agent.node.mode"] == "operated"
    assert steps[1].attributes["slo_agent.node.mode"] == "orchestrated"
    assert steps[1].attributes["slo_agent.partner"]
