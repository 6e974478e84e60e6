"""``slo-agent run --no-metrics-window-gauges``: the real process exposes no per-window SLI or
burn gauges (and every other SLO gauge), gzipped when asked; by default it exposes them."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest

from tests.support.agents import agent_process, metric_samples, node_spec, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target


@pytest.mark.parametrize("window_gauges", [True, False])
async def test_window_gauges_follow_the_option(tmp_path: Path, window_gauges: bool) -> None:
    extra = () if window_gauges else ("--no-metrics-window-gauges",)
    async with Target(default=Reply(200, b"ok")) as target:
        specs = write_specs(tmp_path / "specs", one=node_spec("one", target.url("/one")))
        with agent_process(specs, tmp_path / "store.db", *extra) as (_, url):
            names: set[str] = set()
            async with httpx.AsyncClient(base_url=url) as client:

                async def burn_budget_shown() -> bool:
                    nonlocal names
                    response = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
                    assert response.headers["content-encoding"] == "gzip"
                    names = {name for name, _ in metric_samples(response.text)}
                    # the 5m window has data once 3 probes ran (min_events)
                    return "slo_agent_error_budget_remaining_ratio" in names

                await eventually(burn_budget_shown, within=30)
                async with client.stream(
                    "GET", "/metrics", headers={"Accept-Encoding": "gzip"}
                ) as raw:
                    wire = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert b"slo_agent_objective_ratio{" in gzip.decompress(wire)
    assert "slo_agent_objective_ratio" in names
    assert ("slo_agent_burn_rate" in names) is window_gauges
    assert ("slo_agent_sli_ratio" in names) is window_gauges
