"""``/api/v1/history`` and the node and journey pages, over a real store holding results
recorded at known times: every figure is checked against the recorded events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.api.app import create_app
from agent.api.history_read import HistorySource
from agent.api.server import AppServer
from agent.probes.result import Reason
from agent.runtime.evaluator import evaluate
from agent.slo.events import SliEvent, series_key
from agent.store.latency import bucket_of, bucket_range
from agent.store.sqlite import SqliteStore
from tests.store.factories import BASE, probe_result
from tests.support.builders import journey, node, spec_set
from tests.support.fakes import StaticView

NOW = BASE + 3 * 3600.0  # a minute start
SERIES = series_key("acme-pay", "availability")
FAILING = range(20, 50)  # minutes before NOW whose run failed (status 503)
TIMED_OUT = range(50, 55)  # and these timed out


def _runs() -> list[tuple[float, Reason]]:
    """One run per minute over the last three hours (started 5 s into the minute)."""
    runs = []
    for k in range(1, 181):
        reason = Reason.STATUS if k in FAILING else Reason.TIMEOUT if k in TIMED_OUT else Reason.OK
        runs.append((NOW - k * 60 + 5, reason))
    return sorted(runs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "s.db", raw_success_every=timedelta(0), clock=lambda: NOW) as s:
        for at, reason in _runs():
            result = probe_result(
                at,
                node="acme-pay",
                probe="authorize",
                reason=reason,
                duration=0.25,
                detail="expected status in [200], got 503" if reason is Reason.STATUS else "",
            )
            s.record(result, [SliEvent(SERIES, reason is Reason.OK)])
        s.flush()
        yield s


SPECS = spec_set(node(), journeys=(journey(),))


async def _get(store: SqliteStore, path: str) -> httpx.Response:
    view = StaticView(evaluate(SPECS, store, NOW))
    app = create_app(
        view,
        lambda: b"",
        "text/plain",
        history_source=HistorySource(lambda: SPECS, store),
        trace_url_template="http://jaeger.invalid/trace/{trace_id}",
    )
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        return await client.get(path)


def _unix(text: str) -> float:
    """An RFC 3339 time of the API (UTC, ending in Z) in unix seconds."""
    assert text.endswith("Z")
    return datetime.fromisoformat(text.removesuffix("Z") + "+00:00").timestamp()


def _at(point: dict[str, Any]) -> float:
    return _unix(point["at"])


def _expected(lo: float, hi: float) -> tuple[int, int]:
    inside = [reason for at, reason in _runs() if lo <= at < hi]
    return len(inside), sum(1 for r in inside if r is not Reason.OK)


async def test_sli_budget_and_burn_match_the_recorded_events(store: SqliteStore) -> None:
    response = await _get(store, "/api/v1/history?node=acme-pay&slo=availability&range=3h&step=30m")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert (_unix(body["start_at"]), _unix(body["end_at"])) == (NOW - 3 * 3600, NOW)
    assert body["step_seconds"] == 1800.0
    assert body["end_at"] == "2023-11-15T01:14:00.000Z"  # BASE 22:14 UTC + 3 h, as RFC 3339
    sli = body["series"]["sli"]
    assert [_at(p) for p in sli] == [NOW - 3 * 3600 + (i + 1) * 1800 for i in range(6)]
    for point in sli:
        total, bad = _expected(_at(point) - 1800, _at(point))
        assert (point["total"], point["bad"]) == (total, bad)
        assert point["sli"] == pytest.approx(1 - bad / total)
    assert sum(p["bad"] for p in sli) == len(FAILING) + len(TIMED_OUT)
    # the budget over the 30-day period at each point: every run before it counts
    for point in body["series"]["budget"]:
        total, bad = _expected(0, _at(point))
        assert point["remaining_ratio"] == pytest.approx(1 - bad / (0.001 * total))
    # the last point is the snapshot's own figure
    status = evaluate(SPECS, store, NOW).nodes[0].slos[0]
    assert body["series"]["budget"][-1]["remaining_ratio"] == pytest.approx(
        status.budget.remaining_ratio
    )
    # burn per tier over its long and short window at each point, with its threshold
    tiers = body["series"]["burn"]
    assert (tiers[0]["severity"], tiers[0]["long"], tiers[0]["short"]) == ("page", "1h", "5m")
    assert tiers[0]["factor"] == pytest.approx(14.4)
    for tier in tiers:
        long = timedelta(hours=int(tier["long"][:-1])) if tier["long"].endswith("h") else None
        if long is None:
            continue
        for point in tier["points"]:
            total, bad = _expected(_at(point) - long.total_seconds(), _at(point))
            expected = (bad / total) / 0.001 if total >= 3 else None
            assert point["long_burn"] == pytest.approx(expected)
    firing = [p["above"] for p in tiers[0]["points"]]
    assert firing[-2] is True  # failing 20-55 min ago
    assert firing[-1] is False  # fine since


async def test_outcomes_by_reason_and_latency_percentiles_per_step(store: SqliteStore) -> None:
    response = await _get(
        store, "/api/v1/history?node=acme-pay&series=outcomes,latency&range=1h&step=10m"
    )
    assert response.status_code == 200
    series = response.json()["series"]
    assert set(series) == {"outcomes", "latency"}
    for point in series["outcomes"]:
        inside = [r for at, r in _runs() if _at(point) - 600 <= at < _at(point)]
        assert point["total"] == len(inside)
        expected = {str(r): inside.count(r) for r in (Reason.STATUS, Reason.TIMEOUT) if r in inside}
        assert point["by_reason"] == expected
    quoted = bucket_range(bucket_of(0.25))
    ok_steps = [p for p in series["latency"] if p["runs"]]
    assert ok_steps, series["latency"]
    for point in ok_steps:
        assert point["p99"] == {"lower": quoted.lower, "upper": quoted.upper}
    # successful runs only: the step 20-30 min ago had none
    assert series["latency"][-3]["runs"] == 0
    assert series["latency"][-3]["p50"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("slo=availability", "exactly one of the query parameters 'node' and 'journey'"),
        ("node=acme-pay&journey=checkout&slo=x", "exactly one"),
        ("node=acme-pay&slo=availability&series=sli,pie", "'pie' is not one of"),
        ("journey=checkout&slo=success&series=latency", "'latency' is not one of sli, budget"),
        ("node=acme-pay&series=sli", "'slo' is required"),
        ("node=acme-pay&slo=availability&range=soon", "'soon' is not a duration"),
        ("node=acme-pay&slo=availability&range=30s", "between 1m and 400d"),
        ("node=acme-pay&slo=availability&range=30d&step=1m", "must give 1 to 200 points"),
        ("node=acme-pay&slo=availability&colour=red", "unknown query parameter 'colour'"),
        ("node=acme-pay&node=shop&slo=availability", "give it once, not 2 times"),
    ],
)
async def test_bad_queries_get_a_400_saying_what_is_allowed(
    store: SqliteStore, query: str, message: str
) -> None:
    response = await _get(store, f"/api/v1/history?{query}")
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("node=nope&slo=availability", "no node named 'nope'"),
        ("node=acme-pay&slo=speed", "acme-pay has no SLO named 'speed'"),
        ("journey=acme-pay&slo=availability", "no journey named 'acme-pay'"),
    ],
)
async def test_unknown_names_get_a_404(store: SqliteStore, query: str, message: str) -> None:
    response = await _get(store, f"/api/v1/history?{query}")
    assert response.status_code == 404
    assert response.json()["error"] == message


async def test_the_node_page_shows_charts_tiers_and_the_incident_timeline(
    store: SqliteStore,
) -> None:
    response = await _get(store, "/nodes/acme-pay")
    assert response.status_code == 200
    page = response.text
    assert 'data-points="0"' not in page.split('id="charts"')[1].split("</section>")[0]
    assert page.count('<figure class="chart"') == 2 + 4 + 2  # budget, SLI, 4 tiers, probes
    # the last hour holds 35 failed runs of 60 (a burn of 583x), the last 5 minutes none
    assert _expected(NOW - 3600, NOW) == (60, 35)
    assert (
        "fires when the burn over 1h ≥ 14.4\u00d7 and over 5m ≥ 14.4\u00d7; "
        "now 583\u00d7 and 0\u00d7 (not firing)" in page
    )
    incidents = page.split('id="incidents"')[1]
    assert incidents.count('<tr class="incident">') == 1  # 35 failed runs in a row
    assert "timeout, status" in incidents  # oldest first
    assert "35 failed runs" in incidents
    assert "<script" not in page


@pytest.mark.parametrize("path", ["/nodes/nope", "/nodes/Bad_Name", "/journeys/acme-pay"])
async def test_unknown_or_malformed_names_get_a_404_page(store: SqliteStore, path: str) -> None:
    response = await _get(store, path)
    assert response.status_code == 404
    assert "Not found" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_journey_page_shows_its_slo_and_blame_section(store: SqliteStore) -> None:
    response = await _get(store, "/journeys/checkout")
    assert response.status_code == 200
    assert 'id="blame"' in response.text
    assert "fires when the burn over 1h" in response.text
