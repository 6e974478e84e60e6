from __future__ import annotations

import httpx
import pytest

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.slo.evaluate import evaluate_node
from agent.slo.events import Counts
from agent.slo.status import Snapshot
from agent.slo.windows import required_ranges
from tests.support.builders import WORKBOOK, node
from tests.support.fakes import StaticView

NOW = 1_700_000_000.0


def _server(view: StaticView) -> AppServer:
    return AppServer(create_app(view, lambda: b"# metrics\n", "text/plain; version=0.0.4"))


def _snapshot() -> Snapshot:
    n = node()
    slo = n.slos[0]
    counts = {label: Counts(100, 1) for label in required_ranges(slo, WORKBOOK, NOW)}
    return Snapshot(NOW, (evaluate_node(n, WORKBOOK, {slo.name: counts}, NOW),))


async def test_not_ready_until_the_first_evaluation() -> None:
    view = StaticView()
    async with _server(view) as server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/api/v1/status")).status_code == 503
        view.snapshot = _snapshot()
        assert (await client.get("/readyz")).status_code == 200


async def test_status_lists_every_slo_with_windows_budget_burn_alerts() -> None:
    view = StaticView(_snapshot(), last_reload_error="specs/x.yaml: document 1: boom")
    async with _server(view) as server, httpx.AsyncClient(base_url=server.url) as client:
        body = (await client.get("/api/v1/status")).json()
    assert body["evaluated_at"] == "2023-11-14T22:13:20.000Z"  # NOW, RFC 3339 in UTC
    assert body["spec_reload_error"] == "specs/x.yaml: document 1: boom"
    [n] = body["nodes"]
    assert (n["node"], n["mode"], n["partner"]) == ("acme-pay", "orchestrated", "Acme Pay")
    [slo] = n["slos"]
    assert slo["objective"] == 0.999
    assert slo["period"] == "30d"
    assert list(slo["windows"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert slo["windows"]["1h"]["total"] == 100
    assert slo["windows"]["1h"]["bad"] == 1
    assert slo["windows"]["1h"]["sli"] == pytest.approx(0.99)
    assert slo["windows"]["1h"]["burn_rate"] == pytest.approx(10.0)
    assert slo["budget"]["consumed_events"] == 1
    assert [a["severity"] for a in slo["alerts"]] == ["page", "page", "ticket", "ticket"]
    # burn 10 is under the 1h tier's 14.4 but over the 6h/30m tier's 6: a page
    assert slo["alert_state"] == "page"
    assert slo["exhaustion_seconds"] == 0.0


async def test_metrics_endpoint_serves_the_exposition() -> None:
    async with _server(StaticView()) as server, httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.text == "# metrics\n"
    assert response.headers["content-type"].startswith("text/plain")
