"""``/api/v1/journeys``: per journey its SLOs, who burned its budget, and its ceiling."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.journeys.views import JourneyView, journey_view
from agent.slo.evaluate import evaluate_slo
from agent.slo.events import Counts
from agent.slo.status import JourneyStatus, Snapshot
from agent.slo.windows import required_ranges
from agent.store.journeys import BlameCounts, BlamedRun, StepCounts
from tests.journeys.support import NODES, journey, step
from tests.support.builders import WORKBOOK
from tests.support.fakes import StaticView

NOW = 1_700_000_000.0
CHECKOUT = journey(
    step("add-to-cart", "storefront", "http://shop.invalid/cart"),
    step("authorize", "acme-pay", "http://pay.invalid/", fallback=("backup-pay", "http://b/")),
)


def _snapshot() -> Snapshot:
    (slo,) = CHECKOUT.slos
    counts = {label: Counts(40, 4) for label in required_ranges(slo, WORKBOOK, NOW)}
    status = evaluate_slo("checkout", "journey", slo, WORKBOOK, counts, NOW)
    return Snapshot(NOW, (), (JourneyStatus("checkout", (status,)),))


def _views(snapshot: Snapshot) -> tuple[JourneyView, ...]:
    view = journey_view(
        CHECKOUT,
        NODES,
        snapshot.journeys[0].slos,
        "28d",
        {"add-to-cart": StepCounts(40, 1), "authorize": StepCounts(39, 7, 7, 4)},
        {
            ("authorize", "acme-pay", "status"): BlameCounts(2, 2.0),
            ("authorize", "acme-pay", "timeout"): BlameCounts(1, 1.0),
            ("add-to-cart", "storefront", "status"): BlameCounts(1, 1.0),
        },
        [
            BlamedRun(NOW - 5, "checkout", "authorize", "acme-pay", "timeout", "t3"),
            BlamedRun(NOW - 9, "checkout", "authorize", "acme-pay", "status", "t2"),
            BlamedRun(NOW - 20, "checkout", "add-to-cart", "storefront", "status", "t1"),
        ],
        {"backup-pay": 0.5},
    )
    return (view,)


def _server(view: StaticView, views: Sequence[JourneyView]) -> AppServer:
    app = create_app(view, lambda: b"", "text/plain; version=0.0.4", journeys=lambda: views)
    return AppServer(app)


async def test_journeys_wait_for_the_first_evaluation() -> None:
    async with (
        _server(StaticView(), ()) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        response = await client.get("/api/v1/journeys")
    assert response.status_code == 503


async def test_journeys_show_slos_blame_shares_examples_and_ceiling() -> None:
    snapshot = _snapshot()
    async with (
        _server(StaticView(snapshot), _views(snapshot)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        body = (await client.get("/api/v1/journeys")).json()
        status = (await client.get("/api/v1/status")).json()
    assert body["evaluated_at"] == "2023-11-14T22:13:20.000Z"  # NOW, RFC 3339 in UTC
    (checkout,) = body["journeys"]
    assert (checkout["journey"], checkout["mode"], checkout["period"]) == (
        "checkout",
        "journey",
        "28d",
    )
    assert (checkout["runs"], checkout["bad_runs"]) == (40, 4.0)
    (slo,) = checkout["slos"]
    assert slo["windows"]["1h"] == {
        "total": 40,
        "bad": 4,
        "sli": 0.9,
        "burn_rate": pytest.approx(10),
    }
    pay, shop = checkout["blame"]["hops"]
    assert (pay["node"], pay["bad_runs"], pay["budget_fraction"]) == ("acme-pay", 3, 0.75)
    assert pay["reasons"] == {"status": 2, "timeout": 1}
    assert pay["trace_ids"] == ["t3", "t2"]
    assert (shop["node"], shop["mode"], shop["budget_fraction"]) == ("storefront", "operated", 0.25)
    assert shop["trace_ids"] == ["t1"]
    assert checkout["blame"]["partners"][0] == {
        "partner": "Acme Pay",
        "mode": "orchestrated",
        "nodes": ["acme-pay"],
        "blamed_runs": 3.0,
        "budget_fraction": 0.75,
    }
    ceiling = checkout["ceiling"]
    # 39/40 x (1 - (7/39) x (1 - 0.5 x 4/7)) = 0.975 x (1 - 7/39 x 5/7) = 0.975 x 34/39
    assert ceiling["availability"] == pytest.approx(0.975 * 34 / 39)
    assert ceiling["objectives_above"] == ["success"]
    assert ceiling["steps"][1]["failover_success"] == pytest.approx(4 / 7)
    # the status API lists the journey's SLOs too, under their own key
    assert status["journeys"][0]["journey"] == "checkout"
    assert status["journeys"][0]["slos"][0]["objective"] == 0.99


async def test_journeys_list_their_failing_steps_as_report_json_does() -> None:
    snapshot = _snapshot()
    async with (
        _server(StaticView(snapshot), _views(snapshot)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        body = (await client.get("/api/v1/journeys")).json()
    authorize, cart = body["journeys"][0]["failing_steps"]  # most failed runs first
    assert authorize == {
        "step": "authorize",
        "node": "acme-pay",
        "mode": "orchestrated",
        "partner": "Acme Pay",
        "runs": 39,
        "failed_runs": 7,
        "fallback": "backup-pay",
        "failovers": 7,
        "saved_by_fallback": 4,
        "blamed": [
            {"node": "acme-pay", "reason": "status", "bad_runs": 2},
            {"node": "acme-pay", "reason": "timeout", "bad_runs": 1},
        ],
    }
    assert (cart["step"], cart["node"], cart["runs"], cart["failed_runs"]) == (
        "add-to-cart",
        "storefront",
        40,
        1,
    )
    assert (cart["fallback"], cart["failovers"], cart["blamed"]) == (
        None,
        0,
        [{"node": "storefront", "reason": "status", "bad_runs": 1}],
    )
