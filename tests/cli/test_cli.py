"""The ``slo-agent`` command as users run it: exit codes, messages, never a traceback."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.events import SliEvent
from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, write_specs
from tests.support.cli import slo_agent

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_every_verb() -> None:
    done = slo_agent("--help")
    assert done.returncode == 0
    for verb in ("run", "validate", "report", "demo"):
        assert verb in done.stdout


def test_validate_examples_ok_and_bad_spec_exit_1_without_traceback() -> None:
    ok = slo_agent("validate", "slo_specs/examples", env={"ACME_TOKEN": "t0ken"})
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok: ")
    bad = slo_agent("validate", "tests/testdata/specs/bad/objective-100.yaml")
    assert bad.returncode == 1
    assert "objective" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_usage_errors_exit_2() -> None:
    done = slo_agent("run", "--listen", "nowhere")
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr
    assert slo_agent("run", "--flush-interval", "soon").returncode == 2
    assert slo_agent("no-such-verb").returncode == 2


def test_run_with_invalid_specs_exits_1_listing_problems(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, a=node_spec("a", "http://127.0.0.1:9/", objective=100))
    done = slo_agent(
        "run", str(specs), "--store", str(tmp_path / "s.db"), "--listen", "127.0.0.1:0"
    )
    assert done.returncode == 1
    assert f"{specs / 'a.yaml'}: document 1: spec.slos[0].objective" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_on_a_busy_port_exits_1(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, a=node_spec("a", "http://127.0.0.1:9/"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = slo_agent(
            "run", str(specs), "--store", str(tmp_path / "s.db"), "--listen", f"127.0.0.1:{port}"
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_without_a_store_says_where_it_looked(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", a=node_spec("a", "http://127.0.0.1:9/"))
    done = slo_agent("report", str(specs), "--store", str(tmp_path / "none.db"))
    assert done.returncode == 1
    assert "none.db: no store here" in done.stderr


def test_report_reads_budgets_from_the_store(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", a=node_spec("api-a", "http://127.0.0.1:9/"))
    store_path = tmp_path / "s.db"
    now = time.time()
    with SqliteStore(store_path) as store:
        for i in range(100):
            ok = i % 20 != 0  # 5 bad of 100
            obs = Observation(
                Outcome.SUCCESS if ok else Outcome.FAILURE, Reason.OK if ok else Reason.STATUS, 0.01
            )
            result = ProbeResult("api-a", "health", now - 600 + i, obs)
            store.record(result, [SliEvent("api-a/availability", ok)])
    table = slo_agent("report", str(specs), "--store", str(store_path))
    assert table.returncode == 0, table.stderr
    assert "api-a" in table.stdout
    assert "95.000% (5/100 bad)" in table.stdout
    assert "overspent 5\u00d7" in table.stdout  # not "-400.0%"
    as_json = slo_agent("report", str(specs), "--store", str(store_path), "--json")
    body = json.loads(as_json.stdout)
    [slo] = body["nodes"][0]["slos"]
    assert slo["windows"]["1h"]["total"] == 100
    assert slo["windows"]["1h"]["bad"] == 5
    # 5% errors against a 1% allowance: the budget is overspent five times
    assert slo["budget"]["remaining_ratio"] == pytest.approx(-4.0)


def test_warnings_exit_0_unless_strict_and_new_errors_have_no_traceback() -> None:
    ratio = "tests/testdata/specs/bad/objective-ratio.yaml"
    expected = (ROOT / ratio).with_suffix(".expected").read_text().splitlines()
    lenient = slo_agent("validate", ratio)
    assert lenient.returncode == 0, lenient.stderr
    assert lenient.stdout.endswith("from 1 file (2 warnings)\n")
    assert [
        line.replace(ratio, "objective-ratio.yaml") for line in lenient.stderr.splitlines()
    ] == (expected)
    strict = slo_agent("validate", "--strict", ratio)
    assert (strict.returncode, strict.stdout) == (1, "")
    assert strict.stderr.splitlines()[-1] == "2 warnings: errors under --strict"
    for name in ("alert-tier-longer-than-window", "prometheus-sli-grouped"):
        bad = slo_agent("validate", f"tests/testdata/specs/bad/{name}.yaml")
        assert bad.returncode == 1
        assert "Traceback" not in bad.stderr
        assert len(bad.stderr.splitlines()) == len(
            (ROOT / f"tests/testdata/specs/bad/{name}.expected").read_text().splitlines()
        )
