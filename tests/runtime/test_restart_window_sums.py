"""A clean stop of the running agent saves its evaluations' window sums, the next start takes
them (and deletes them: the running agent saves them again a minute later, see
test_crash_window_sums.py), and ``slo-agent report`` neither takes nor saves them."""

from __future__ import annotations

import io
import sqlite3
import time
from pathlib import Path

import httpx

from agent.app import running_agent
from agent.cli.report import report
from bench import history_store
from bench.scale import write_specs
from tests.support.agents import options
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target

NODES = 4


def _saved(path: Path) -> list[tuple[str, str]]:
    """(series, label) of every saved window sum."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT s.name, k.label FROM kept_sum AS k JOIN series AS s ON s.id = k.sid"
        ).fetchall()
    finally:
        conn.close()
    return sorted((str(series), str(label)) for series, label in rows)


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/readyz")).status_code == 200


async def test_a_restart_takes_the_sums_the_clean_stop_saved(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    history_store.write(store, NODES, 2, now=(time.time() // 3600) * 3600)
    specs = tmp_path / "specs"
    specs.mkdir()
    async with Target({"/health": Reply(200, b"ok")}) as target:
        write_specs(specs, NODES, target.url("/health"), "1s")
        async with running_agent(options(specs, store), {}) as running:
            await eventually(lambda: _ready(running.url), within=30)
        saved = _saved(store)
        series = {name for name, _ in saved}
        assert len(series) == 2 * NODES  # every SLO of every node
        assert not any("\x00" in label for _, label in saved)  # the advisor's replay: never

        out = io.StringIO()
        report([str(specs)], {}, store, as_json=True, now=time.time(), out=out)
        assert _saved(store) == saved  # a report neither takes nor replaces them

        async with running_agent(options(specs, store), {}) as running:
            assert _saved(store) == []  # taken at the start, saved again after a minute
            await eventually(lambda: _ready(running.url), within=30)
        assert {name for name, _ in _saved(store)} == series
