"""With tracing on, a probe's last failure in ``/api/v1/status`` and on the status page names
the trace of the failed run: the trace id its ``traceparent`` carried to the target."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.app import running_agent
from tests.support.agents import node_spec, options, write_specs
from tests.support.fakes import eventually
from tests.support.otlp import OtlpHttpReceiver
from tests.support.targets import Reply, Target

FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_EXPORTER_OTLP_TIMEOUT": "300"}
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


@pytest.fixture
def receiver() -> Iterator[OtlpHttpReceiver]:
    with OtlpHttpReceiver() as running:
        yield running


async def test_the_last_failure_names_the_trace_of_the_failed_run(
    tmp_path: Path, receiver: OtlpHttpReceiver
) -> None:
    env = {**FAST_EXPORT, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    async with Target({"/health": Reply(503, b"down")}) as target:
        specs = write_specs(tmp_path / "specs", shop=node_spec("shop", target.url("/health")))
        async with running_agent(options(specs, tmp_path / "store.db"), env) as running:
            assert running.tracing is not None
            await eventually(lambda: target.request_count >= 3, within=30)
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                status = (await client.get(f"{running.url}/api/v1/status")).json()
                page = (await client.get(f"{running.url}/")).text
        sent = set()
        for request in target.requests:
            match = TRACEPARENT.fullmatch(request.header("traceparent") or "")
            assert match is not None
            sent.add(match[1])

    [failure] = status["nodes"][0]["last_failures"]
    assert failure["reason"] == "status"
    assert failure["detail"] == "expected status in [200-299], got 503"
    assert failure["trace_id"] in sent
    shown = re.search(r"last run [0-9:]+ UTC · trace ([0-9a-f]{32})</small>", page)
    assert shown is not None
    assert shown[1] in sent  # the page may come from a later evaluation: a later failed run
