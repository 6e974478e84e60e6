"""The real ``slo-agent run`` process: kill -9 durability, SIGTERM, SIGHUP reload."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

from agent.probes.result import Reason
from agent.store.sqlite import SqliteStore
from tests.support.agents import agent_process, node_spec, write_specs
from tests.support.targets import FailEvery, Reply, ThreadedTarget

FLUSH = 0.2  # seconds: the most a kill -9 may lose
RATE = 5.0  # probes per second (node_spec's interval 200ms)


def _wait(condition: object, timeout: float = 30.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _stored(store: Path) -> tuple[int, int]:
    """Stored results, and how many of them timed out (a timed-out probe may never have been
    counted by the target: its request can still sit unread when the client gives up)."""
    with SqliteStore(store) as s:
        counts = s.probe_totals("flaky")[("flaky", "health")]
        return counts.total, counts.failures_by_reason.get(Reason.TIMEOUT, 0)


def test_kill_9_loses_at_most_one_flush_interval(tmp_path: Path) -> None:
    with ThreadedTarget({"/health": FailEvery(10)}) as target:
        specs = write_specs(tmp_path / "specs", flaky=node_spec("flaky", target.url("/health")))
        store = tmp_path / "store.db"
        with agent_process(specs, store) as (proc, _):
            _wait(lambda: target.request_count >= 30)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            served = target.request_count
        stored, timeouts = _stored(store)
    lost = served - stored
    # what was flushed survives; at most one flush interval of results (plus the one probe
    # under way when the process died) is lost
    assert -timeouts <= lost <= RATE * FLUSH + 2, (served, stored, timeouts)


def test_sigterm_flushes_everything(tmp_path: Path) -> None:
    with ThreadedTarget({"/health": FailEvery(10)}) as target:
        specs = write_specs(tmp_path / "specs", flaky=node_spec("flaky", target.url("/health")))
        store = tmp_path / "store.db"
        with agent_process(specs, store) as (proc, _):
            _wait(lambda: target.request_count >= 15)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        served = target.request_count
        stored, timeouts = _stored(store)
    # a probe cancelled by the shutdown reached the target but has no result: at most one
    assert served - 1 <= stored <= served + timeouts


def _nodes(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/api/v1/status", timeout=5) as response:
        return [n["node"] for n in json.load(response)["nodes"]]


def test_sighup_reloads_specs(tmp_path: Path) -> None:
    with ThreadedTarget({"/a": Reply(200, b"ok"), "/b": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        with agent_process(specs, tmp_path / "s.db", "--watch-interval", "0s") as (proc, url):
            _wait(lambda: _ready(url))
            assert _nodes(url) == ["node-a"]
            write_specs(specs, b=node_spec("node-b", target.url("/b")))
            time.sleep(1.0)  # no watching: nothing changes without the signal
            assert _nodes(url) == ["node-a"]
            os.kill(proc.pid, signal.SIGHUP)
            _wait(lambda: _nodes(url) == ["node-a", "node-b"])
            assert proc.poll() is None


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
