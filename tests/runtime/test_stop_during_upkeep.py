"""Stopping the agent while its store rolls history up: the step under way finishes, the agent
stops cleanly, and the history counts what it counted before, neither doubled nor missing;
the next start goes on with the roll-up where it stopped."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from agent.app import running_agent
from agent.runtime.agent import AgentSettings
from agent.slo.events import Counts
from agent.store import tiers
from agent.store.sqlite import SqliteStore
from bench import history_store
from bench.scale import write_specs
from tests.support.agents import options, scrape
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

NODES = 20
# the flushes run one upkeep step each (the first always runs): a pass takes many ticks
SLICED = AgentSettings(
    flush_interval=0.2,
    evaluation_interval=0.5,
    watch_interval=0.0,
    prune_interval=3600,
    upkeep_budget=0.0,
)
ROLLUP = ("slo_agent_store_work_seconds_sum", frozenset({("part", "rollup")}))


def _history(path: Path, ended: float) -> dict[str, Counts]:
    with SqliteStore(path) as store:
        return {name: store.sums(name, {"h": (0.0, ended)})["h"] for name in store.series_totals()}


def _rolled_to(path: Path, now_minute: int) -> bool:
    """Whether every table is rolled into every tier as of ``now_minute``."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT tbl, grain, below, cursor FROM rollup").fetchall()
    finally:
        conn.close()
    goals = {t.grain: tiers.target(t, now_minute) for t in tiers.TIERS}
    return all(cursor is None and below >= goals[grain] - 60 for _, grain, below, cursor in rows)


async def test_a_stop_during_a_roll_up_finishes_the_step_and_loses_or_doubles_nothing(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.db"
    # four days of history that ended two hours ago, rolled as of then: two hours to roll
    ended = (time.time() // 3600 - 2) * 3600
    history_store.write(store, NODES, 4, now=ended)
    before = _history(store, ended)
    assert len(before) == 2 * NODES
    async with Target({"/health": Reply(200, b"ok")}) as target:
        (tmp_path / "specs").mkdir()
        write_specs(tmp_path / "specs", NODES, target.url("/health"), "1s")
        async with running_agent(options(tmp_path / "specs", store, SLICED), {}) as running:

            async def rolling() -> bool:
                return (await scrape(running.url)).get(ROLLUP, 0.0) > 0

            await eventually(rolling, within=60)
        # the agent has stopped (its last flush written, the store closed) mid-pass
    assert not _rolled_to(store, int(time.time() // 60))
    conn = sqlite3.connect(store)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    assert _history(store, ended) == before
    with SqliteStore(store) as reopened:  # a restart goes on with the pass to its end
        for _ in range(100_000):  # bounded
            if reopened.upkeep(time.time(), 0.0):
                break
    assert _rolled_to(store, int(time.time() // 60))
    assert _history(store, ended) == before
