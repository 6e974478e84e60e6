"""``kill -9`` of a real ``python -m agent run`` after it saved its window sums while running
(agent/store/periodic_saves.py): the next start resumes them, and its first evaluation serves
the budgets that ``slo-agent report`` sums afresh over the same file at the same moment."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from agent.cli.report import report
from bench import history_store
from bench.scale import agent_command, node_specs
from tests.support.cli import ROOT
from tests.support.fakes import eventually
from tests.support.net import free_port
from tests.support.targets import Hang, Reply, Target

NODES = 4
# ``python -m agent`` with its periodic saves every second (a test's hook, not an option)
EVERY_SECOND = (
    "-c",
    "import runpy, agent.store.periodic_saves as saves; saves.SAVE_EVERY = 1.0; "
    "runpy.run_module('agent', run_name='__main__', alter_sys=True)",
)
LIMIT = 60.0  # seconds any one wait may take


def _write_specs(directory: Path, url: str, interval: str, timeout: str) -> Path:
    directory.mkdir()
    docs = [
        doc.replace("expect:", f"timeout: {timeout}, expect:")
        for doc in node_specs(NODES, url, interval)
    ]
    (directory / "nodes.yaml").write_text("---\n".join(docs))
    return directory


def _saved_series(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(DISTINCT sid) FROM kept_sum").fetchone()[0])
    finally:
        conn.close()


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient() as client:
        try:
            return (await client.get(f"{url}/readyz")).status_code == 200
        except httpx.TransportError:
            return False


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """``command`` from the repository root, its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _image(store: Path, directory: Path) -> Path:
    """A copy of ``store`` as it is now (its write-ahead log included): what a kill left."""
    directory.mkdir()
    for part in store.parent.glob(f"{store.name}*"):
        shutil.copy(part, directory / part.name)
    return directory / store.name


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
    try:
        proc.wait(LIMIT)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(LIMIT)


def _budgets(body: dict[str, Any]) -> dict[tuple[str, str], object]:
    """Per SLO: its budget and the counts of its windows of an hour or more (shorter windows'
    edges lie on seconds: the status's millisecond timestamp may move them)."""
    return {
        (node["node"], slo["slo"]): (
            slo["budget"],
            {w: v for w, v in slo["windows"].items() if not w.endswith(("m", "s"))},
        )
        for node in body["nodes"]
        for slo in node["slos"]
    }


async def test_a_start_after_kill_9_resumes_the_sums_saved_while_running(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    history_store.write(store, NODES, 3, now=(time.time() // 3600) * 3600)
    log_path = tmp_path / "agent.log"
    async with Target({"/health": Reply(200, b"ok"), "/stuck": Hang()}) as target:
        live = _write_specs(tmp_path / "live", target.url("/health"), "1s", "1s")
        port = free_port()
        proc = _spawn(agent_command(live, store, port, launcher=EVERY_SECOND), log_path)
        try:
            await eventually(lambda: _saved_series(store) == 2 * NODES, within=LIMIT)
        finally:
            _stop(proc, signal.SIGKILL)  # no close: only the periodic saves are in the file
        assert proc.returncode == -signal.SIGKILL
        image = _image(store, tmp_path / "image")

        # the next start: its probes hang (no new results), so its first evaluation reads the
        # file exactly as the kill left it
        stuck = _write_specs(tmp_path / "stuck", target.url("/stuck"), "60s", "60s")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = _spawn(agent_command(stuck, store, port), log_path)
        try:
            await eventually(lambda: _ready(url), within=LIMIT)
            async with httpx.AsyncClient() as client:
                served = (await client.get(f"{url}/api/v1/status")).json()
        finally:
            _stop(proc, signal.SIGTERM)

    lines = [line for line in log_path.read_text().splitlines() if "resumed" in line]
    assert len(lines) == 1, lines
    assert "window sums" in lines[0]
    resumed = int(lines[0].split("resumed ")[1].split()[0])
    assert resumed >= 2 * NODES
    at = datetime.fromisoformat(served["evaluated_at"]).timestamp()
    out = io.StringIO()
    report([str(stuck)], {}, image, as_json=True, now=at, out=out)
    afresh = json.loads(out.getvalue())
    assert _budgets(served).keys() == _budgets(afresh).keys()
    assert len(_budgets(served)) == 2 * NODES
    assert _budgets(served) == _budgets(afresh)
