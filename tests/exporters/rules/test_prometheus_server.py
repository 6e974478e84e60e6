"""The PrometheusServer test fixture: loopback only, rules reloadable, stopped by its PID."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from tests.support.prometheus import PrometheusServer

pytestmark = pytest.mark.integration


def test_serves_queries_reloads_rules_and_leaves_nothing_behind(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("groups: []\n")
    with PrometheusServer(tmp_path, rule_files=[rules]) as prometheus:
        assert prometheus.url.startswith("http://127.0.0.1:")
        listening = {c.laddr.ip for c in psutil.Process(prometheus.pid).net_connections("tcp")}
        assert listening == {"127.0.0.1"}
        assert prometheus.query("vector(2)")[0]["value"][1] == "2"
        assert prometheus.query("scalar(vector(3))")[0]["value"][1] == "3"
        with pytest.raises(RuntimeError, match="bad_data"):
            prometheus.query("rate(")
        assert prometheus.query_raw("rate(").status_code == 400

        rules.write_text("groups:\n- name: g\n  rules:\n  - record: answer\n    expr: vector(42)\n")
        prometheus.reload()
        deadline = time.monotonic() + 10  # the rule runs at the next 1s evaluation
        while not prometheus.query("answer") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert prometheus.query("answer")[0]["value"][1] == "42"
        pid = prometheus.pid
    assert not psutil.pid_exists(pid)
