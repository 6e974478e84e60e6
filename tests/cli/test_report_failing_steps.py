"""``slo-agent report`` names the journey steps that failed over the journey's SLO period: how
many of the runs that reached each step failed on its node, how many its fallback saved, and
the hops the bad runs were blamed on, from journey runs recorded in a real store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from agent.cli.report import report
from agent.journeys.blame import blame_run
from agent.journeys.result import JourneyResult, StepResult, journey_events
from agent.model import SpecSet
from agent.probes.result import Observation, Outcome, Reason
from agent.spec.loader import load_specs
from agent.store import SqliteStore
from tests.journeys.support import checkout_specs
from tests.support.tables import table_rows

NOW = 1_700_000_000.0
OK = Observation(Outcome.SUCCESS, Reason.OK, 0.05, 200)
DOWN = Observation(Outcome.FAILURE, Reason.STATUS, 0.05, 503)
SLOW = Observation(Outcome.FAILURE, Reason.TIMEOUT, 2.0, None)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[list[str], Path]:
    """10 runs in the last 10 minutes: acme-pay failed 6 (backup-pay saved 4, then failed
    too after acme-pay's 503 and after its timeout), the shop failed 1; 3 runs 2 hours ago
    (outside the 1h period) all failed at the shop."""
    specs_file = tmp_path / "specs" / "checkout.yaml"
    specs_file.parent.mkdir()
    specs_file.write_text(
        checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    )
    specs: SpecSet = load_specs([specs_file], {})
    (checkout,) = specs.journeys
    nodes = {node.name: node for node in specs.nodes}
    cart = StepResult("add-to-cart", "storefront", OK)
    ship = StepResult("quote", "fastship", OK)
    runs: list[JourneyResult] = []
    steps: tuple[StepResult, ...]
    for i in range(3):
        steps = (StepResult("add-to-cart", "storefront", DOWN),)
        runs.append(JourneyResult("checkout", NOW - 7200 + i, 0.2, steps, f"{i:032x}"))
    for i in range(10):
        if i == 9:
            steps = (StepResult("add-to-cart", "storefront", DOWN),)
        elif i < 4:
            steps = (cart, StepResult("authorize", "acme-pay", DOWN, "backup-pay", OK), ship)
        elif i < 6:
            own = DOWN if i == 4 else SLOW
            steps = (cart, StepResult("authorize", "acme-pay", own, "backup-pay", DOWN))
        else:
            steps = (cart, StepResult("authorize", "acme-pay", OK), ship)
        runs.append(JourneyResult("checkout", NOW - 600 + i * 10, 0.2, steps, None))
    store_path = tmp_path / "store.db"
    with SqliteStore(store_path) as store:
        for result in runs:
            events = journey_events(checkout, result)
            store.record_journey(result, events, blame_run(checkout, result, nodes))
    return [str(specs_file.parent)], store_path


def test_the_table_names_each_failing_step_most_failures_first(
    setup: tuple[list[str], Path],
) -> None:
    paths, store_path = setup
    out = io.StringIO()

    assert report(paths, {}, store_path, as_json=False, now=NOW, out=out) == 0

    assert table_rows(out.getvalue(), "Failing journey steps") == [
        [
            "checkout",
            "1h",
            "authorize",
            "acme-pay",
            "Acme Pay",
            "6 of 9 (66.7%)",
            "backup-pay saved 4 of 6",
            "acme-pay: status 1, timeout 1",
        ],
        ["checkout", "1h", "add-to-cart", "storefront", "-", "1 of 10 (10.0%)", "-",
         "storefront: status 1"],
    ]  # fmt: skip
    assert "more failing steps" not in out.getvalue()


def test_json_lists_the_failing_steps_of_each_journey(setup: tuple[list[str], Path]) -> None:
    paths, store_path = setup
    out = io.StringIO()

    report(paths, {}, store_path, as_json=True, now=NOW, out=out)

    (journey,) = json.loads(out.getvalue())["journeys"]
    assert journey["period"] == "1h"
    assert journey["failing_steps"] == [
        {
            "step": "authorize",
            "node": "acme-pay",
            "mode": "orchestrated",
            "partner": "Acme Pay",
            "runs": 9,
            "failed_runs": 6,
            "fallback": "backup-pay",
            "failovers": 6,
            "saved_by_fallback": 4,
            "blamed": [
                {"node": "acme-pay", "reason": "status", "bad_runs": 1},
                {"node": "acme-pay", "reason": "timeout", "bad_runs": 1},
            ],
        },
        {
            "step": "add-to-cart",
            "node": "storefront",
            "mode": "operated",
            "partner": "",
            "runs": 10,
            "failed_runs": 1,
            "fallback": None,
            "failovers": 0,
            "saved_by_fallback": 0,
            "blamed": [{"node": "storefront", "reason": "status", "bad_runs": 1}],
        },
    ]


def test_no_table_when_no_step_failed(tmp_path: Path) -> None:
    specs_file = tmp_path / "specs" / "checkout.yaml"
    specs_file.parent.mkdir()
    specs_file.write_text(
        checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    )
    specs = load_specs([specs_file], {})
    (checkout,) = specs.journeys
    steps = (
        StepResult("add-to-cart", "storefront", OK),
        StepResult("authorize", "acme-pay", OK),
        StepResult("quote", "fastship", OK),
    )
    result = JourneyResult("checkout", NOW - 60, 0.2, steps, None)
    with SqliteStore(tmp_path / "store.db") as store:
        store.record_journey(result, journey_events(checkout, result), ())
    out = io.StringIO()

    report([str(specs_file.parent)], {}, tmp_path / "store.db", as_json=False, now=NOW, out=out)

    assert "Journey checkout: 0 bad runs of 1" in out.getvalue()
    assert "Failing journey steps" not in out.getvalue()
