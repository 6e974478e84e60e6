"""``slo-agent run --shard``: bad values are usage errors (exit 2); ``auto/N`` takes the shard
from the trailing number of ``$HOSTNAME``, as a StatefulSet pod's name carries it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.schedule.shard import owner_of
from tests.support.agents import node_spec, write_specs
from tests.support.net import free_port, wait_for_port


@pytest.mark.parametrize(
    ("value", "hostname", "message"),
    [
        ("2", "", "is not INDEX/COUNT or auto/COUNT"),
        ("one/two", "", "is not INDEX/COUNT or auto/COUNT"),
        ("3/3", "", "the shard index must be between 0 and 2, got 3"),
        ("0/0", "", "the shard count must be between 1 and 1024"),
        ("auto/3", "laptop", "trailing -<number> of the host name"),
        ("auto/2", "slo-agent-5", "gives shard 5, but there are only 2 shards"),
    ],
)
def test_bad_shard_values_exit_2(value: str, hostname: str, message: str) -> None:
    done = CliRunner().invoke(
        app, ["run", "--shard", value, "--store", os.devnull], env={"HOSTNAME": hostname}
    )
    assert done.exit_code == 2, done.output
    assert message in " ".join(done.output.replace("│", " ").split())
    assert done.exception is None or isinstance(done.exception, SystemExit)


def _status(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/status", timeout=5) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except urllib.error.HTTPError:  # 503 until the first evaluation
        return None


def test_auto_takes_the_shard_from_the_statefulset_pod_name(tmp_path: Path) -> None:
    names = [f"node-{i}" for i in range(6)]
    specs = write_specs(
        tmp_path / "specs",
        **{name: node_spec(name, "http://127.0.0.1:9/", interval="1s") for name in names},
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # every node has capability "api": split, they are spread by node name
    cmd = [sys.executable, "-m", "agent", "run", str(specs), "--shard", "auto/3"]
    cmd += ["--shard-split", "api"]
    cmd += ["--store", str(tmp_path / "store.db"), "--listen", f"127.0.0.1:{port}"]
    cmd += ["--evaluation-interval", "200ms", "--log-level", "warning", "--no-tracing"]
    env = {**os.environ, "HOSTNAME": "slo-agent-2"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=30)
        deadline = time.monotonic() + 30
        body = _status(url)
        while body is None and time.monotonic() < deadline:
            time.sleep(0.05)
            body = _status(url)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert body is not None
    assert body["shard"] == {"index": 2, "count": 3, "shard": "2/3"}
    assert {n["node"] for n in body["nodes"]} == {n for n in names if owner_of(n, 3) == 2}
