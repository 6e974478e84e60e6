"""``slo-agent report`` names the fallback drills that failed over their node's SLO period:
how many of how many runs, when the last failed run started, whether the latest run failed,
from drill runs recorded in a real store; the table is bounded."""

from __future__ import annotations

import io
import json
from pathlib import Path

from agent.cli.bounded import MAX_ROWS
from agent.cli.report import report
from agent.store.evidence import DrillKey, DrillRun
from agent.store.sqlite import SqliteStore
from tests.support.agents import node_spec, write_specs
from tests.support.tables import table_rows

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86400.0
TITLE = "Failed fallback drills"


def drilled(name: str) -> str:
    """An operated node with an availability SLO over 3 days and a drilled fallback, spare."""
    drill = '{every: 10m, http: {url: "http://127.0.0.1:9/spare"}}'
    return (
        node_spec(name, "http://127.0.0.1:9/")
        + f"  fallbacks:\n    - {{node: spare, drill: {drill}}}\n"
    )


def record(store_path: Path, runs: dict[str, list[tuple[float, bool]]]) -> None:
    """Drill runs of each node's route to spare: (seconds before NOW, ok)."""
    with SqliteStore(store_path) as store:
        for node, outcomes in runs.items():
            for ago, ok in outcomes:
                store.record_drill(DrillRun(DrillKey(node, "spare"), NOW - ago, ok, 0.1))


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
        ["pay-b", "spare", "3d", "1 of 3", "2023-11-14 22:08:20 UTC", "failed"],
        ["pay-a", "spare", "3d", "2 of 5", "2023-11-14 21:43:20 UTC", "passed"],
    ]
    assert "the store keeps no drill failure reasons" in text
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
            "last_run_started_at": "2023-11-14T22:03:20.000Z",
        }
    ]
    assert [(d["failed_runs"], d["failing"]) for d in nodes["pay-b"]] == [(1, True)]
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
