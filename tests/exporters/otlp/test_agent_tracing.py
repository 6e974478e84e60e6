"""The whole agent, in process, with tracing configured the standard way (OTEL_* variables):
spans reach a real OTLP receiver; with the collector down or hanging the agent keeps probing,
the export queue stays bounded and every loss shows in /metrics; tracing can be off."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from agent.app import RunningAgent, RunOptions, running_agent
from agent.errors import UserError
from tests.support.agents import node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.net import free_port
from tests.support.otlp import OtlpHttpReceiver
from tests.support.targets import Reply, Target

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_EXPORTER_OTLP_TIMEOUT": "300"}


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


def _options(tmp_path: Path, target: Target) -> RunOptions:
    specs = write_specs(tmp_path / "specs", shop=node_spec("shop", target.url("/health")))
    return options(specs, tmp_path / "store.db")


async def _metric(running: RunningAgent, name: str, **labels: str) -> float:
    samples = await scrape(running.url)
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_probe_spans_reach_the_collector_named_in_the_environment(
    tmp_path: Path, receiver: OtlpHttpReceiver
) -> None:
    env = {
        **FAST_EXPORT,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SERVICE_NAME": "edge",
    }
    async with Target({"/health": Reply(200, b"ok")}) as target:
        async with running_agent(_options(tmp_path, target), env) as running:
            assert running.tracing is not None
            async with asyncio.timeout(30):
                await target.wait_for_requests(3)
            await asyncio.to_thread(receiver.wait_for_spans, 3)
            exported = await _metric(running, "slo_agent_spans_exported_total")
            async with httpx.AsyncClient() as client:
                openmetrics = await client.get(
                    f"{running.url}/metrics", headers={"Accept": "application/openmetrics-text"}
                )
        requests = list(target.requests)

    spans = {span.span_id: span for span in receiver.spans}
    assert exported >= 3
    # the agent exported the spans of its last probes on the way out (a probe cut short by
    # the shutdown may end its span too late)
    assert len(spans) >= len(requests) - 1
    for request in requests:
        header = request.header("traceparent")
        assert header is not None
        match = TRACEPARENT.fullmatch(header)
        assert match is not None
        if match[2] not in spans:
            continue
        span = spans[match[2]]
        assert span.trace_id == match[1]
        assert span.name == "GET shop/health"
        assert span.kind == "CLIENT"
        assert span.resource["service.name"] == "edge"
        assert span.attributes["slo_agent.node.mode"] == "operated"
    # the probe duration histogram points at probe traces (exemplars, OpenMetrics only)
    exemplars = re.findall(
        r'^slo_agent_probe_duration_seconds_bucket\{.*\} \S+ # \{trace_id="([0-9a-f]{32})"\}',
        openmetrics.text,
        re.MULTILINE,
    )
    assert exemplars
    assert set(exemplars) <= {span.trace_id for span in spans.values()}


async def test_with_the_collector_down_probing_goes_on_and_failures_are_counted(
    tmp_path: Path,
) -> None:
    env = {
        **FAST_EXPORT,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",  # connection refused
        "OTEL_BSP_MAX_QUEUE_SIZE": "4",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2",
    }
    async with (
        Target({"/health": Reply(200, b"ok")}) as target,
        running_agent(_options(tmp_path, target), env) as running,
    ):
        tracing = running.tracing
        assert tracing is not None
        queued: list[int] = []

        async def failures_counted() -> bool:
            queued.append(tracing.processor.queued)
            return await _metric(running, "slo_agent_export_failures_total", exporter="otlp") >= 3

        await eventually(failures_counted, within=30)
        served = target.request_count
        async with asyncio.timeout(30):
            await target.wait_for_requests(served + 10)  # still probing
        dropped = await _metric(running, "slo_agent_spans_dropped_total", reason="export_failed")

    assert max(queued) <= 4
    assert dropped >= 3


async def test_with_the_collector_hanging_the_queue_stays_bounded_and_drops_are_counted(
    tmp_path: Path,
) -> None:
    env = {
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "500",
        "OTEL_BSP_MAX_QUEUE_SIZE": "2",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "1",
    }
    # a collector that accepts connections and never answers: each export waits its timeout
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with (
            Target({"/health": Reply(200, b"ok")}) as target,
            running_agent(_options(tmp_path, target), env) as running,
        ):
            tracing = running.tracing
            assert tracing is not None
            queued: list[int] = []

            async def drops_counted() -> bool:
                queued.append(tracing.processor.queued)
                return (
                    await _metric(running, "slo_agent_spans_dropped_total", reason="queue_full")
                    >= 3
                )

            await eventually(drops_counted, within=30)
            served = target.request_count
            async with asyncio.timeout(30):
                await target.wait_for_requests(served + 5)  # still probing
            listener.close()  # let the export in flight fail at once on the way out

    assert max(queued) <= 2


async def test_no_tracing_sends_no_spans_and_no_traceparent(
    tmp_path: Path, receiver: OtlpHttpReceiver
) -> None:
    env = {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    async with Target({"/health": Reply(200, b"ok")}) as target:
        run_options = replace(_options(tmp_path, target), tracing=False)
        async with running_agent(run_options, env) as running:
            assert running.tracing is None
            async with asyncio.timeout(30):
                await target.wait_for_requests(3)
        requests = list(target.requests)

    assert all(request.header("traceparent") is None for request in requests)
    assert receiver.requests == 0


async def test_without_an_endpoint_tracing_is_off(tmp_path: Path) -> None:
    async with Target({"/health": Reply(200, b"ok")}) as target:
        async with running_agent(_options(tmp_path, target), {"OTEL_SERVICE_NAME": "x"}) as running:
            assert running.tracing is None
            async with asyncio.timeout(30):
                await target.wait_for_requests(1)
        assert target.requests[0].header("traceparent") is None


async def test_bad_tracing_settings_fail_before_anything_starts(tmp_path: Path) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift",
    }
    async with Target({"/health": Reply(200, b"ok")}) as target:
        with pytest.raises(UserError, match="OTEL_EXPORTER_OTLP_PROTOCOL=thrift is not supported"):
            async with running_agent(_options(tmp_path, target), env):
                pass
        assert target.request_count == 0
    assert not (tmp_path / "store.db").exists()
