"""``slo-agent report`` shows, per journey, its SLOs, the share of its burned budget each hop
and each partner caused with example trace ids, and its dependency ceiling, from the store."""

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

NOW = 1_700_000_000.0
OK = Observation(Outcome.SUCCESS, Reason.OK, 0.05, 200)
DOWN = Observation(Outcome.FAILURE, Reason.STATUS, 0.05, 503)


def run(i: int, *steps: StepResult) -> JourneyResult:
    return JourneyResult("checkout", NOW - 600 + i * 10, 0.2, steps, f"{i:032x}")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[list[str], Path]:
    """20 runs in the last 10 minutes: the shop failed 2, acme-pay 6 (its fallback too)."""
    specs_file = tmp_path / "specs" / "checkout.yaml"
    specs_file.parent.mkdir()
    specs_file.write_text(
        checkout_specs("http://shop:1", "http://pay:2", "http://backup:3", "http://ship:4")
    )
    specs: SpecSet = load_specs([specs_file], {})
    (checkout,) = specs.journeys
    nodes = {node.name: node for node in specs.nodes}
    store_path = tmp_path / "store.db"
    with SqliteStore(store_path) as store:
        for i in range(20):
            cart = StepResult("add-to-cart", "storefront", OK)
            if i in (3, 13):
                result = run(i, StepResult("add-to-cart", "storefront", DOWN))
            elif i % 3 == 0:  # 0 6 9 12 15 18
                failed = StepResult("authorize", "acme-pay", DOWN, "backup-pay", DOWN)
                result = run(i, cart, failed)
            else:
                paid = StepResult("authorize", "acme-pay", OK)
                result = run(i, cart, paid, StepResult("quote", "fastship", OK))
            events = journey_events(checkout, result)
            store.record_journey(result, events, blame_run(checkout, result, nodes))
    return [str(specs_file.parent)], store_path


def test_the_table_shows_blame_by_hop_and_partner_and_the_ceiling(
    setup: tuple[list[str], Path],
) -> None:
    paths, store_path = setup
    out = io.StringIO()
    assert report(paths, {}, store_path, as_json=False, now=NOW, out=out) == 0
    text = out.getvalue()
    (slo_row,) = [line for line in text.splitlines() if "60.000% (8/20 bad)" in line]
    assert slo_row.split()[1:6:2] == ["checkout", "journey", "success"]
    assert "Journey checkout: 8 bad runs of 20 over 1h" in text
    rows = [line for line in text.splitlines() if "acme-pay" in line or "storefront" in line]
    assert any("authorize" in row and "75.0%" in row and "status 6" in row for row in rows)
    assert any("add-to-cart" in row and "25.0%" in row and "operated" in row for row in rows)
    assert f"{18:032x}" in text  # the latest failed payment's trace
    assert "by partner: Acme Pay 75.0%; operated by the team 25.0%" in text
    assert "dependency ceiling: 60.000%; objective success 99.000% is above it" in text
    assert "untested fallback" not in text  # its failovers were tried (and failed)


def test_json_has_the_same_view_as_the_api(setup: tuple[list[str], Path]) -> None:
    paths, store_path = setup
    out = io.StringIO()
    report(paths, {}, store_path, as_json=True, now=NOW, out=out)
    (journey,) = json.loads(out.getvalue())["journeys"]
    assert (journey["journey"], journey["runs"], journey["bad_runs"]) == ("checkout", 20, 8)
    (slo,) = journey["slos"]
    assert (slo["slo"], slo["windows"]["1h"]["total"], slo["windows"]["1h"]["bad"]) == (
        "success",
        20,
        8,
    )
    pay, shop = journey["blame"]["hops"]
    assert pay == {
        "step": "authorize",
        "node": "acme-pay",
        "mode": "orchestrated",
        "partner": "Acme Pay",
        "bad_runs": 6,
        "blamed_runs": 6.0,
        "budget_fraction": 0.75,
        "reasons": {"status": 6},
        "trace_ids": [f"{i:032x}" for i in (18, 15, 12)],
    }
    assert (shop["node"], shop["budget_fraction"]) == ("storefront", 0.25)
    partners = [
        (p["partner"], p["mode"], p["budget_fraction"]) for p in journey["blame"]["partners"]
    ]
    assert partners == [("Acme Pay", "orchestrated", 0.75), ("", "operated", 0.25)]
    ceiling = journey["ceiling"]
    assert ceiling["availability"] == pytest.approx(0.6)  # 18/20 x 12/18 x 12/12
    assert ceiling["objectives_above"] == ["success"]
    authorize = ceiling["steps"][1]
    assert (authorize["failover_success"], authorize["untested_fallback"]) == (0.0, False)
