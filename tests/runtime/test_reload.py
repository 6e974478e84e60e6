"""Hot reload: a broken spec is rejected and the last good set keeps running."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx

from agent.app import running_agent
from agent.model import RollingWindow
from tests.support.agents import FAST, node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

RELOAD_OK: tuple[str, frozenset[tuple[str, str]]] = ("slo_agent_spec_reload_success", frozenset())


async def _requests_grow(target: Target, by: int) -> None:
    async with asyncio.timeout(20):
        await target.wait_for_requests(target.request_count + by)


async def test_broken_spec_keeps_the_old_set_and_a_fixed_one_is_applied(tmp_path: Path) -> None:
    ok = Reply(200, b"ok")
    async with Target({"/a": ok, "/b": ok}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        watching = options(specs, tmp_path / "s.db", replace(FAST, watch_interval=0.1))
        async with running_agent(watching, {}) as running:
            await _requests_grow(target, 5)

            (specs / "a.yaml").write_text(node_spec("node-a", target.url("/a"), objective=100))
            await eventually(lambda: running.agent.last_reload_error is not None)
            assert running.agent.last_reload_error is not None
            assert "a.yaml: document 1: spec.slos[0].objective" in running.agent.last_reload_error
            assert (await scrape(running.url))[RELOAD_OK] == 0
            before = sum(1 for r in target.requests if r.path == "/a")
            await _requests_grow(target, 5)  # the old node-a is still probed
            assert sum(1 for r in target.requests if r.path == "/a") > before
            async with httpx.AsyncClient() as client:
                status = (await client.get(f"{running.url}/api/v1/status")).json()
            assert "objective" in status["spec_reload_error"]
            assert [n["node"] for n in status["nodes"]] == ["node-a"]

            write_specs(
                specs,
                a=node_spec("node-a", target.url("/a")),
                b=node_spec("node-b", target.url("/b")),
            )
            await eventually(lambda: any(r.path == "/b" for r in target.requests), within=20)
            assert running.agent.last_reload_error is None
            assert (await scrape(running.url))[RELOAD_OK] == 1
            assert [n.name for n in running.agent.specs.nodes] == ["node-a", "node-b"]


async def test_reload_applies_a_removed_node_at_once(tmp_path: Path) -> None:
    ok = Reply(200, b"ok")
    async with Target({"/a": ok, "/b": ok}) as target:
        specs = write_specs(
            tmp_path / "specs",
            a=node_spec("node-a", target.url("/a")),
            b=node_spec("node-b", target.url("/b")),
        )
        async with running_agent(options(specs, tmp_path / "s.db"), {}) as running:
            await _requests_grow(target, 6)
            (specs / "b.yaml").unlink()
            assert await running.agent.reload()
            assert set(running.agent.scheduler.targets) == {"node-a/health"}
            snapshot = running.agent.snapshot
            assert snapshot is not None
            assert [n.node for n in snapshot.nodes] == ["node-a"]


async def test_a_reload_whose_tiers_cannot_work_keeps_the_last_good_set(tmp_path: Path) -> None:
    async with Target({"/a": Reply(200, b"ok")}) as target:
        good = node_spec("node-a", target.url("/a"))
        specs = write_specs(tmp_path / "specs", a=good)
        async with running_agent(options(specs, tmp_path / "s.db"), {}) as running:
            # a 1d SLO window cannot hold the built-in 3d ticket tier
            write_specs(specs, a=good.replace("window: 3d", "window: 1d"))
            assert not await running.agent.reload()
            error = running.agent.last_reload_error
            assert error is not None
            assert "a.yaml: document 1: spec.slos[0].window: " in error
            assert "tier ticket[1] (3d)" in error
            [slo] = running.agent.specs.nodes[0].slos
            assert slo.window == RollingWindow(timedelta(days=3))  # the last good one
