"""Start-up order: a store's pruning and roll-up backlog waits for the first evaluation, so it
never delays ready (it competed with that evaluation's reads for the store and the interpreter)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.runtime.agent import Agent, AgentSettings
from agent.runtime.source import SpecSource
from agent.slo.events import Counts
from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, write_specs
from tests.support.fakes import RecordingTelemetry, eventually

PRUNE_AT_ONCE = AgentSettings(
    flush_interval=0.2, evaluation_interval=0.5, watch_interval=0.0, prune_interval=0.1
)


class OrderedStore(SqliteStore):
    """The real store, noting its window reads and prunes and whether the agent was ready
    when each prune began."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls: list[str] = []
        self.ready_at_prune: list[bool] = []
        self.ready: Callable[[], bool] = lambda: False

    def sums_many(
        self,
        requests: Mapping[str, Mapping[str, tuple[float, float]]],
        *,
        keep: bool = True,
        track: str = "",
    ) -> dict[str, dict[str, Counts]]:
        self.calls.append("read")
        return super().sums_many(requests, keep=keep, track=track)

    def upkeep(self, now: float, seconds: float) -> bool:
        """The agent's pruning and roll-up: slices after its flushes."""
        self.calls.append("prune")
        self.ready_at_prune.append(self.ready())
        return super().upkeep(now, seconds)


async def test_pruning_starts_after_the_first_evaluation(tmp_path: Path) -> None:
    # a closed port: the probe fails at once, which is all an evaluation needs
    specs_dir = write_specs(tmp_path / "specs", api=node_spec("api", "http://127.0.0.1:9/h"))
    source = SpecSource([str(specs_dir)], {})
    store = OrderedStore(tmp_path / "store.db")
    http = HttpProber()
    agent = Agent(
        source=source,
        specs=source.load(),
        store=store,
        probers=Probers(http=http),
        telemetry=RecordingTelemetry(),
        clock=time.time,
        settings=PRUNE_AT_ONCE,
    )
    store.ready = lambda: agent.ready
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await eventually(lambda: store.calls.count("prune") >= 2, within=30)
    finally:
        stop.set()
        await task
        store.close()
    assert store.ready_at_prune[:2] == [True, True]
    assert "read" in store.calls[: store.calls.index("prune")]
