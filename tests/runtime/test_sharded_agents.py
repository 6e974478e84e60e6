"""Two agents on one spec set, ``--shard 0/2`` and ``1/2``: they probe disjoint nodes and run
disjoint journeys, and together cover all of them; the nodes of a capability share a shard."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import httpx

from agent.app import RunningAgent, running_agent
from agent.schedule.shard import Shard, owner_of
from tests.support.agents import node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

NODES = [f"node-{i}" for i in range(10)]
CAPABILITY = {name: f"cap-{i // 2}" for i, name in enumerate(NODES)}  # alternatives in pairs
JOURNEYS = [f"journey-{i}" for i in range(4)]


def journey_spec(name: str, url: str) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Journey
metadata: {{name: {name}}}
spec:
  interval: 200ms
  steps:
    - {{name: first, node: node-0, http: {{url: "{url}", timeout: 200ms}}}}
    - {{name: second, node: node-1, http: {{url: "{url}", timeout: 200ms}}}}
  slos:
    - {{name: success, objective: 99, window: 3d}}
"""


def probed(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], mode: str) -> set[str]:
    """The nodes (or, for mode "journey", the journeys) whose SLI events this agent counted."""
    return {
        dict(labels)["node"]
        for name, labels in samples
        if name == "slo_agent_sli_events_total" and dict(labels)["mode"] == mode
    }


async def status(agent: RunningAgent) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        body: dict[str, Any] = (await client.get(f"{agent.url}/api/v1/status")).json()
        return body


async def test_two_shards_probe_disjoint_targets_that_together_cover_all(tmp_path: Path) -> None:
    owners = {name: owner_of(f"capability:{CAPABILITY[name]}", 2) for name in NODES}
    owners |= {name: owner_of(name, 2) for name in JOURNEYS}
    assert set(owners.values()) == {0, 1}  # both shards own something in this set
    async with Target(default=Reply(200, b"ok")) as target:
        specs = {
            name: node_spec(name, target.url(f"/{name}"), capability=CAPABILITY[name])
            for name in NODES
        }
        specs |= {name: journey_spec(name, target.url(f"/{name}")) for name in JOURNEYS}
        spec_dir = write_specs(tmp_path / "specs", **specs)
        agents = []
        async with contextlib.AsyncExitStack() as stack:
            for index in (0, 1):
                base = options(spec_dir, tmp_path / f"store-{index}.db")
                sharded = dataclasses.replace(base, shard=Shard(index, 2))
                agents.append(await stack.enter_async_context(running_agent(sharded, {})))

            paths = {f"/{name}" for name in NODES + JOURNEYS}

            async def all_measured() -> bool:
                if not paths <= {request.path for request in target.requests}:
                    return False
                counted: set[str] = set()
                for agent in agents:
                    scraped = await scrape(agent.url)
                    counted |= probed(scraped, "operated") | probed(scraped, "journey")
                return counted == set(NODES + JOURNEYS)

            await eventually(all_measured, within=30)
            for agent in agents:
                await agent.agent.evaluate()
            samples = [await scrape(agent.url) for agent in agents]
            statuses = [await status(agent) for agent in agents]
            scheduled = [set(agent.agent.scheduler.targets) for agent in agents]

    for index in (0, 1):
        mine = {name for name, owner in owners.items() if owner == index}
        assert statuses[index]["shard"] == {"index": index, "count": 2, "shard": f"{index}/2"}
        assert {n["node"] for n in statuses[index]["nodes"]} == mine & set(NODES)
        assert {j["journey"] for j in statuses[index]["journeys"]} == mine & set(JOURNEYS)
        # what it measured and exposes: its own nodes and journeys only
        assert probed(samples[index], "operated") <= mine & set(NODES)
        assert probed(samples[index], "journey") <= mine & set(JOURNEYS)
        info = {
            dict(labels)["node"] for name, labels in samples[index] if name == "slo_agent_node_info"
        }
        assert info == mine & set(NODES)
        # the whole spec set was loaded and validated, though
        assert {node.name for node in agents[index].agent.all_specs.nodes} == set(NODES)
    assert scheduled[0].isdisjoint(scheduled[1])
    assert probed(samples[0], "operated").isdisjoint(probed(samples[1], "operated"))
    assert probed(samples[0], "journey").isdisjoint(probed(samples[1], "journey"))
    assert probed(samples[0], "operated") | probed(samples[1], "operated") == set(NODES)
    assert probed(samples[0], "journey") | probed(samples[1], "journey") == set(JOURNEYS)


async def test_an_unsharded_agent_says_so(tmp_path: Path) -> None:
    async with Target(default=Reply(200, b"ok")) as target:
        spec_dir = write_specs(tmp_path / "specs", one=node_spec("one", target.url("/one")))
        async with running_agent(options(spec_dir, tmp_path / "store.db"), {}) as running:
            await asyncio.wait_for(running.agent.evaluated.wait(), 30)
            body = await status(running)
    assert body["shard"] == {"index": 0, "count": 1, "shard": "0/1"}
    assert [n["node"] for n in body["nodes"]] == ["one"]
