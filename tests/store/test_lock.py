"""One agent per store: a second ``slo-agent run`` on the same store file is refused, naming
the holder, while offline readers still read it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.store.lock import StoreLock, lock_path
from tests.support.agents import node_spec, write_specs
from tests.support.cli import slo_agent
from tests.support.net import free_port, wait_for_port


def _run(specs: Path, store: Path, port: int) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "agent", "run", str(specs), "--store", str(store)]
    cmd += ["--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_agent_on_one_store_exits_1_naming_the_holder(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", web=node_spec("web", "http://127.0.0.1:9/"))
    store = tmp_path / "store.db"
    port = free_port()
    first = _run(specs, store, port)
    try:
        wait_for_port(port, timeout=30)
        second = slo_agent(*_second_args(specs, store))
        assert second.returncode == 1, second.stderr
        assert second.stderr.strip() == (
            f"cannot open the store {store}: another agent is running on it (pid {first.pid} "
            f"on {socket.gethostname()} since {_since(store)}); stop it or give this one its "
            f"own --store (lock file {lock_path(store)})"
        )
        report = slo_agent("report", str(specs), "--store", str(store))
        assert report.returncode == 0, report.stderr  # readers need no lock
        assert "web" in report.stdout
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0
    # the first one gone, the store is free again: this one starts (and is stopped at once)
    port = free_port()
    third = _run(specs, store, port)
    try:
        wait_for_port(port, timeout=30)
        assert third.poll() is None
    finally:
        third.send_signal(signal.SIGTERM)
        third.communicate(timeout=30)
    assert third.returncode == 0


def test_the_lock_is_dropped_when_its_holder_is_killed(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", web=node_spec("web", "http://127.0.0.1:9/"))
    store = tmp_path / "store.db"
    port = free_port()
    first = _run(specs, store, port)
    try:
        wait_for_port(port, timeout=30)
    finally:
        first.kill()
        first.communicate(timeout=30)
    with StoreLock(store):  # kill -9 left the file, not the lock
        assert lock_path(store).read_text().startswith(f"pid {os.getpid()} on ")


def test_a_lock_in_this_process_refuses_another(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with (
        StoreLock(store, clock=0.0),
        pytest.raises(StoreError, match=r"another agent is running on it \(pid \d+ on "),
    ):
        StoreLock(store)
    with StoreLock(store):  # released
        pass


def _second_args(specs: Path, store: Path) -> list[str]:
    return ["run", str(specs), "--store", str(store), "--listen", f"127.0.0.1:{free_port()}"]


def _since(store: Path) -> str:
    line = lock_path(store).read_text().strip()
    return line.rsplit(" since ", 1)[1]


def test_since_is_an_utc_timestamp(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with StoreLock(store, clock=86400.0):
        assert _since(store) == "1970-01-02T00:00:00Z"
