"""``report`` shows why a probe fails: its last stored failure (reason and detail) in the
table of failing probes and in ``--json``, from results a real prober got from a real target."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from rich.console import Console

from agent.cli.report_failures import render_failures
from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import ProbeResult
from agent.slo.events import SliEvent
from agent.slo.failures import ProbeFailure
from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, write_specs
from tests.support.cli import slo_agent
from tests.support.targets import Reply, Target, json_reply


async def test_report_shows_the_last_failure_of_each_probe(tmp_path: Path) -> None:
    specs = write_specs(
        tmp_path / "specs",
        pay=node_spec("pay", "http://127.0.0.1:9/"),
        shop=node_spec("shop", "http://127.0.0.1:9/"),
    )
    store_path = tmp_path / "s.db"
    now = time.time()
    prober = HttpProber()
    try:
        async with Target() as target:
            target.route("/down", Reply(503, b"down"))
            target.route("/wrong", json_reply({"status": "degraded"}))
            target.route("/fine", json_reply({"status": "ok"}))
            plain = HttpCheck(target.url("/down"))
            contract = {"$.status": "ok"}
            runs = [  # (node, check), oldest first
                ("pay", HttpCheck(target.url("/down"))),
                ("pay", HttpCheck(target.url("/wrong"), json_equals=contract)),  # pay: last
                ("shop", plain),
                ("shop", HttpCheck(target.url("/fine"), json_equals=contract)),  # shop recovered
            ]
            with SqliteStore(store_path) as store:
                for index, (node, check) in enumerate(runs):
                    observation = await prober.observe(check)
                    result = ProbeResult(node, "health", now - 60 + index, observation)
                    store.record(result, [SliEvent(f"{node}/availability", result.ok)])
    finally:
        await prober.aclose()

    table = slo_agent("report", str(specs), "--store", str(store_path))
    as_json = slo_agent("report", str(specs), "--store", str(store_path), "--json")

    assert table.returncode == 0, table.stderr
    failing = table.stdout.split("Failing probes", 1)[1]
    assert "pay" in failing
    assert '$.status: expected "ok", got "degraded"' in failing
    assert "shop" not in failing  # its latest run passed
    nodes = {n["node"]: n for n in json.loads(as_json.stdout)["nodes"]}
    [pay] = nodes["pay"]["last_failures"]
    assert (pay["probe"], pay["failing"], pay["reason"]) == ("health", True, "assertion")
    assert pay["detail"] == '$.status: expected "ok", got "degraded"'
    assert pay["started_at"] == now - 60 + 1
    [shop] = nodes["shop"]["last_failures"]
    assert (shop["failing"], shop["reason"]) == (False, "status")
    assert shop["detail"] == "expected status in [200-299], got 503"


def test_a_detail_is_shown_as_text_never_as_markup() -> None:
    detail = "cannot call x: [field:hostname lookup error] [bold]not bold[/bold]"
    failure = ProbeFailure("pay", "health", 1.0, "dns", detail, None, failing=True)
    out = io.StringIO()

    render_failures((failure,), Console(file=out, width=200))

    assert detail in out.getvalue()
