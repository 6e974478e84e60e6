"""``slo-agent report`` names the fallback drills that failed over their node's SLO period:
how many of how many runs, when the last failed run started and why, whether the latest run
failed, from drill runs recorded in a real store (and by real drills against loopback
targets); runs stored before layout 8 have no reason; the table is bounded."""

from __future__ import annotations

import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from agent.cli.bounded import MAX_ROWS
from agent.cli.report import report
from agent.cli.report_drills import NO_REASONS
from agent.probes import Probers
from agent.probes.result import Reason
from agent.runtime.drills import DrillPipeline, drill_jobs_of
from agent.spec import load_specs, spec_paths
from agent.store.evidence import DrillKey, DrillRun
from agent.store.sqlite import SqliteStore
from tests.store.factories import to_layout_7
from tests.support.agents import node_spec, write_specs
from tests.support.tables import table_rows
from tests.support.targets import Reply, Target, json_reply

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86400.0
TITLE = "Failed fallback drills"


def drilled(name: str, http: str = '{url: "http://127.0.0.1:9/spare"}') -> str:
    """An operated node with an availability SLO over 3 days and a drilled fallback, spare,
    whose drill makes the request ``http`` (a flow-style mapping)."""
    drill = f"{{every: 10m, http: {http}}}"
    return (
        node_spec(name, "http://127.0.0.1:9/")
        + f"  fallbacks:\n    - {{node: spare, drill: {drill}}}\n"
    )


# a failed run's reason, by the node's name (the test's choice: each fails its own way)
REASONS = {"pay-a": Reason.CONNECT, "pay-b": Reason.TIMEOUT}


def record(store_path: Path, runs: dict[str, list[tuple[float, bool]]]) -> None:
    """Drill runs of each node's route to spare: (seconds before NOW, ok); a failed run's
    reason is its node's in :data:`REASONS` (status for the others)."""
    with SqliteStore(store_path) as store:
        for node, outcomes in runs.items():
            why = REASONS.get(node, Reason.STATUS)
            for ago, ok in outcomes:
                run = DrillRun(DrillKey(node, "spare"), NOW - ago, ok, 0.1, None if ok else why)
                store.record_drill(run)


def run_report(specs: Path, store_path: Path, *, as_json: bool) -> str:
    out = io.StringIO()
    assert report([str(specs)], {}, store_path, as_json=as_json, now=NOW, out=out) == 0
    return out.getvalue()


def three_nodes(tmp_path: Path) -> tuple[Path, Path]:
    """pay-a failed 2 of 5 in its 3 d period (and 3 more 4 days ago, outside it), its latest
    passed; pay-b failed its latest of 3; pay-c passed all 4."""
    specs = write_specs(
        tmp_path / "specs",
        a=drilled("pay-a"),
        b=drilled("pay-b"),
        c=drilled("pay-c"),
        spare=node_spec("spare", "http://127.0.0.1:9/"),
    )
    store_path = tmp_path / "s.db"
    record(
        store_path,
        {
            "pay-a": [(4 * DAY + 60 * i, False) for i in range(3)]
            + [(3000, False), (2400, True), (1800, False), (1200, True), (600, True)],
            "pay-b": [(900, True), (600, True), (300, False)],
            "pay-c": [(400 * i + 1, True) for i in range(4)],
        },
    )
    return specs, store_path


def test_the_table_lists_failed_drills_failing_ones_first(tmp_path: Path) -> None:
    specs, store_path = three_nodes(tmp_path)

    text = run_report(specs, store_path, as_json=False)

    assert table_rows(text, TITLE) == [
        ["pay-b", "spare", "3d", "1 of 3", "2023-11-14 22:08:20 UTC", "timeout", "failed"],
        ["pay-a", "spare", "3d", "2 of 5", "2023-11-14 21:43:20 UTC", "connect", "passed"],
    ]
    assert "before the store kept drill failure reasons" not in text  # every run has one
    assert "more failed drills" not in text


def test_json_has_each_nodes_failed_drills(tmp_path: Path) -> None:
    specs, store_path = three_nodes(tmp_path)

    body = json.loads(run_report(specs, store_path, as_json=True))

    nodes = {node["node"]: node["failed_drills"] for node in body["nodes"]}
    assert nodes["pay-a"] == [
        {
            "fallback": "spare",
            "period": "3d",
            "runs": 5,
            "failed_runs": 2,
            "failing": False,
            "last_failed_run_started_at": "2023-11-14T21:43:20.000Z",
            "last_failure_reason": "connect",
            "last_run_started_at": "2023-11-14T22:03:20.000Z",
        }
    ]
    assert [(d["failed_runs"], d["failing"], d["last_failure_reason"]) for d in nodes["pay-b"]] == [
        (1, True, "timeout")
    ]
    assert nodes["pay-c"] == nodes["spare"] == []


def test_the_table_is_bounded_and_says_how_many_more(tmp_path: Path) -> None:
    count = MAX_ROWS + 2
    files = {f"n{i:02d}": drilled(f"pay-{i:02d}") for i in range(count)}
    specs = write_specs(
        tmp_path / "specs", spare=node_spec("spare", "http://127.0.0.1:9/"), **files
    )
    store_path = tmp_path / "s.db"
    # pay-i failed i + 1 times: the most failures first
    record(
        store_path,
        {f"pay-{i:02d}": [(60.0 * k + 1, False) for k in range(i + 1)] for i in range(count)},
    )

    text = run_report(specs, store_path, as_json=False)
    body = json.loads(run_report(specs, store_path, as_json=True))

    shown = [row[0] for row in table_rows(text, TITLE)]
    assert shown == [f"pay-{i:02d}" for i in range(count - 1, 1, -1)]
    assert "and 2 more failed drills (report --json lists every one)" in text
    assert sum(len(node["failed_drills"]) for node in body["nodes"]) == count


async def test_a_real_drill_shows_why_it_failed(tmp_path: Path) -> None:
    """Two drills against a loopback target, each failing its own way (a 503 reply; a reply
    that fails its JSON assertion), then one passing: report names each last failure's
    reason, as the probe saw it."""
    declined = json_reply({"status": "declined"})
    routes = {"/down": Reply(503), "/declined": declined, "/ok": json_reply({"status": "ok"})}
    async with Target(routes) as target:
        url = target.base_url
        expect = '{json: {"$.status": "approved"}}'
        specs_dir = write_specs(
            tmp_path / "specs",
            a=drilled("pay-a", f'{{url: "{url}/down"}}'),
            b=drilled("pay-b", f'{{url: "{url}/declined", expect: {expect}}}'),
            spare=node_spec("spare", f"{url}/ok"),
        )
        specs = load_specs(spec_paths([str(specs_dir)], {}), {})
        store_path = tmp_path / "s.db"
        clock = Clock(NOW - 600)
        probers = Probers()
        try:
            with SqliteStore(store_path) as store:
                pipeline = DrillPipeline(probers, store, clock=clock)
                for job in drill_jobs_of(specs).values():
                    clock.now = NOW - 600
                    assert (await pipeline.run(job)) is not None
                    clock.now = NOW - 300
                    assert (await pipeline.run(job)) is not None
        finally:
            await probers.aclose()
    assert len(target.requests) == 4

    text = run_report(specs_dir, store_path, as_json=False)
    body = json.loads(run_report(specs_dir, store_path, as_json=True))

    rows = {row[0]: row for row in table_rows(text, TITLE)}
    assert {node: (row[3], row[5], row[6]) for node, row in rows.items()} == {
        "pay-a": ("2 of 2", "status", "failed"),
        "pay-b": ("2 of 2", "assertion", "failed"),
    }
    reasons = {
        node["node"]: [d["last_failure_reason"] for d in node["failed_drills"]]
        for node in body["nodes"]
    }
    assert reasons == {"pay-a": ["status"], "pay-b": ["assertion"], "spare": []}


def test_runs_stored_before_layout_8_have_no_reason_and_are_kept(tmp_path: Path) -> None:
    """A layout-7 file (its drill runs without reasons) migrates in place: every run stays,
    its tally is the same, the last failure has no reason (said under the table) until a
    newer failed run brings one."""
    specs, store_path = three_nodes(tmp_path)
    conn = sqlite3.connect(store_path, isolation_level=None)
    to_layout_7(conn)  # drops the reason column: the file is as layout 7 wrote it
    stored = conn.execute("SELECT * FROM drill_run ORDER BY id").fetchall()
    conn.close()

    text = run_report(specs, store_path, as_json=False)

    conn = sqlite3.connect(store_path)
    try:
        after = conn.execute(
            "SELECT id, node, fallback, started_at, ok, duration FROM drill_run ORDER BY id"
        ).fetchall()
        reasons = {r for (r,) in conn.execute("SELECT reason FROM drill_run")}
    finally:
        conn.close()
    assert after == stored
    assert reasons == {None}
    assert [row[3:] for row in table_rows(text, TITLE)] == [
        ["1 of 3", "2023-11-14 22:08:20 UTC", "-", "failed"],
        ["2 of 5", "2023-11-14 21:43:20 UTC", "-", "passed"],
    ]
    assert NO_REASONS in " ".join(text.split())

    record(store_path, {"pay-b": [(60, False)]})  # a failure recorded after the migration
    text = run_report(specs, store_path, as_json=False)
    assert [row[3:] for row in table_rows(text, TITLE)] == [
        ["2 of 4", "2023-11-14 22:12:20 UTC", "timeout", "failed"],
        ["2 of 5", "2023-11-14 21:43:20 UTC", "-", "passed"],
    ]


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now
