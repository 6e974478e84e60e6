"""SIGTERM stops a real ``slo-agent run`` with many nodes: it exits 0 once the store holds
every result it had, while probes, evaluations and the advisor's start-up review are under way.
(How long that takes at 10,000 SLOs is measured in bench/scale.py; the bound here only keeps a
hung stop from hanging the suite.)"""

from __future__ import annotations

import signal
import time
import urllib.request
from pathlib import Path

from agent.store.sqlite import SqliteStore
from tests.support.agents import agent_process, node_spec, write_specs
from tests.support.targets import Reply, ThreadedTarget

NODES = 600
INTERVAL = "3s"  # 200 probes per second in all


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body


def _ready(url: str) -> bool:
    try:
        _get(f"{url}/readyz")
    except OSError:
        return False
    return True


def test_sigterm_with_many_nodes_exits_0_with_the_store_flushed(tmp_path: Path) -> None:
    with ThreadedTarget({"/health": Reply(200, b"ok")}) as target:
        specs = {
            f"n{i:04d}": node_spec(f"n{i:04d}", target.url("/health"), interval=INTERVAL)
            for i in range(NODES)
        }
        spec_dir = write_specs(tmp_path / "specs", **specs)
        store = tmp_path / "store.db"
        with agent_process(spec_dir, store, flush_interval="1s") as (proc, url):
            deadline = time.monotonic() + 120
            while not _ready(url) or target.request_count < 2 * NODES:
                assert proc.poll() is None, store.with_suffix(".log").read_text()[-2000:]
                assert time.monotonic() < deadline, "not ready and probing in time"
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=90) == 0, store.with_suffix(".log").read_text()[-2000:]
        served = target.request_count
    with SqliteStore(store) as stored_store:
        stored = sum(c.total for c in stored_store.series_totals().values())
    # every result the agent had is stored; a run cut short by the stop reached the target
    # without a result, at most one per node (a job never runs twice at once)
    assert served - NODES <= stored <= served
