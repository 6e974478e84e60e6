"""The whole agent, in process, against a real loopback target that fails 1 request in 10."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from agent.app import running_agent
from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.promtool import check_metrics
from tests.support.targets import FailEvery, Target

SERIES = "flaky/availability"
LABELS = frozenset({("node", "flaky"), ("slo", "availability"), ("mode", "operated")})


def _recorded(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    return samples.get(("slo_agent_sli_events_total", LABELS), 0.0)


async def test_status_metrics_and_store_agree_with_what_the_target_served(tmp_path: Path) -> None:
    async with Target({"/health": FailEvery(10)}) as target:
        specs = write_specs(tmp_path / "specs", flaky=node_spec("flaky", target.url("/health")))
        async with running_agent(options(specs, tmp_path / "store.db"), {}) as running:
            async with asyncio.timeout(30):
                await target.wait_for_requests(40)
            running.agent.scheduler.pause()  # freeze the counts; probes under way finish
            seen: list[float] = []

            async def settled() -> bool:  # two scrapes 0.25 s apart agree: nothing in flight
                seen.append(_recorded(await scrape(running.url)))
                await asyncio.sleep(0.25)
                return len(seen) >= 2 and seen[-1] == seen[-2]

            await eventually(settled)
            await running.agent.flush()
            await running.agent.evaluate()
            async with httpx.AsyncClient() as client:
                status = (await client.get(f"{running.url}/api/v1/status")).json()
            samples = await scrape(running.url)
            async with httpx.AsyncClient() as client:
                exposition = (await client.get(f"{running.url}/metrics")).content
        served = target.request_count

    def results(reason: str) -> float:
        outcome = "success" if reason == "ok" else "failure"
        key = frozenset(
            {
                ("node", "flaky"),
                ("probe", "health"),
                ("mode", "operated"),
                ("outcome", outcome),
                ("reason", reason),
            }
        )
        return samples.get(("slo_agent_probe_results_total", key), 0.0)

    # FailEvery(10): requests 10, 20, 30, ... got a 503. On a loaded machine a probe may time
    # out (reason "timeout") before or after its request reached the target; without timeouts
    # every figure below is exact, and each timeout can shift a figure by at most one.
    timeouts = results("timeout")
    total = results("ok") + results("status") + timeouts
    bad = results("status") + timeouts
    assert served - timeouts <= total <= served + timeouts
    assert served // 10 - timeouts <= results("status") <= served // 10
    lint = check_metrics(exposition)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout == ""
    [node] = status["nodes"]
    [slo] = node["slos"]
    period = slo["windows"]["1h"]
    # the status API, the /metrics counters and the store agree exactly
    assert (period["total"], period["bad"]) == (total, bad)
    assert slo["windows"]["1h"]["sli"] == (total - bad) / total
    assert samples[("slo_agent_sli_events_total", LABELS)] == total
    assert samples[("slo_agent_sli_bad_events_total", LABELS)] == bad
    with SqliteStore(tmp_path / "store.db") as store:
        assert store.series_totals()[SERIES] == Counts(total, bad)


async def test_a_restarted_agent_continues_every_budget(tmp_path: Path) -> None:
    store_path = tmp_path / "store.db"
    async with Target({"/health": FailEvery(10)}) as target:
        specs = write_specs(tmp_path / "specs", flaky=node_spec("flaky", target.url("/health")))
        async with running_agent(options(specs, store_path), {}):
            async with asyncio.timeout(30):
                await target.wait_for_requests(20)
        first_run = target.request_count  # the agent flushed everything on its way out

        async with running_agent(options(specs, store_path), {}) as running:
            snapshot = await running.agent.evaluate()
            continued = snapshot.nodes[0].slos[0].window("1h")
            assert first_run <= continued.total <= target.request_count
            assert continued.bad >= first_run // 10
            async with asyncio.timeout(30):
                await target.wait_for_requests(first_run + 20)
        served = target.request_count

    with SqliteStore(store_path) as store:
        counts = store.series_totals()[SERIES]
        probes = store.probe_totals()
    # as above: a probe that timed out on a loaded machine may or may not have been served, and
    # each timeout shifts a figure by at most one; without timeouts both are exact
    timeouts = sum(c.failures_by_reason.get(Reason.TIMEOUT, 0) for c in probes.values())
    assert served - timeouts <= counts.total <= served + timeouts
    assert served // 10 - timeouts <= counts.bad - timeouts <= served // 10
