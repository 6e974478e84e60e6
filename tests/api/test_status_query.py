"""``/api/v1/status`` filters, order and pages: exact nodes per query, the whole set's counts
whatever the filters, and one clear 400 line per bad parameter (over a real loopback server)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.model import Mode, Severity
from agent.slo.status import (
    AlertStatus,
    BudgetStatus,
    JourneyStatus,
    NodeStatus,
    SloStatus,
    Snapshot,
    WindowStatus,
)
from tests.support.fakes import StaticView

NOW = 1_700_000_000.0


def slo(owner: str, name: str, state: str) -> SloStatus:
    """An SLO in ``state``: a firing tier for page/ticket, a spent budget for exhausted, no
    events for no_data."""
    severity = {"page": Severity.PAGE, "ticket": Severity.TICKET}.get(state)
    alerts = (
        ()
        if severity is None
        else (AlertStatus(severity, "1h", "5m", 14.4, 20.0, 20.0, firing=True),)
    )
    remaining = {"exhausted": -0.5, "no_data": None}.get(state, 0.5)
    consumed = None if remaining is None else 1 - remaining
    total = 0.0 if state == "no_data" else 1000.0
    return SloStatus(
        node=owner,
        slo=name,
        mode="operated",
        objective=0.99,
        period="28d",
        windows=(WindowStatus("28d", total, 0.0, None if not total else 1.0, 0.0),),
        budget=BudgetStatus(10.0, 5.0, consumed, remaining, 403.2, None),
        alerts=alerts,
        exhaustion_seconds=None,
    )


def node(name: str, *states: str) -> NodeStatus:
    slos = tuple(slo(name, f"slo-{i}", state) for i, state in enumerate(states))
    return NodeStatus(name, Mode.OPERATED, "team", "cap", "", slos)


# node -> its SLOs' states; a node's state is its worst SLO's
NODES = {
    "alpha": ("ok",),
    "bravo": ("ok", "page"),  # page
    "charlie": ("no_data",),
    "delta": ("ticket", "ok"),  # ticket
    "echo": ("exhausted",),
    "foxtrot": ("ok",),
    "golf": ("page",),
    "hotel": ("exhausted", "ticket"),  # exhausted
}
SNAPSHOT = Snapshot(
    NOW,
    tuple(node(name, *states) for name, states in NODES.items()),
    journeys=(JourneyStatus("checkout", (slo("checkout", "success", "page"),)),),
)
URGENT_FIRST = ["bravo", "golf", "echo", "hotel", "delta", "charlie", "alpha", "foxtrot"]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The app on the agent's own server, on its own event loop in a thread (sync tests)."""
    app = create_app(StaticView(SNAPSHOT), lambda: b"", "text/plain")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = AppServer(app)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield http
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def names(body: dict[str, object]) -> list[str]:
    return [n["node"] for n in body["nodes"]]  # type: ignore[attr-defined]


def test_nodes_come_most_urgent_first_then_by_name(client: httpx.Client) -> None:
    body = client.get("/api/v1/status").json()
    assert names(body) == URGENT_FIRST
    assert [n["state"] for n in body["nodes"]] == [
        "page", "page", "exhausted", "exhausted", "ticket", "no_data", "ok", "ok",
    ]  # fmt: skip
    assert body["page"] == {"limit": 1000, "matched": 8, "returned": 8, "next_cursor": None}
    assert [j["journey"] for j in body["journeys"]] == ["checkout"]


def test_the_summary_counts_the_whole_set_whatever_the_filters(client: httpx.Client) -> None:
    whole = {
        "nodes": 8,
        "slos": 12,  # 11 of the nodes and the journey's
        "node_states": {"page": 2, "exhausted": 2, "ticket": 1, "no_data": 1, "ok": 2},
        "slo_states": {"page": 3, "exhausted": 2, "ticket": 2, "no_data": 1, "ok": 4},
    }
    assert client.get("/api/v1/status").json()["summary"] == whole
    filtered = client.get("/api/v1/status", params={"state": "ok", "limit": 1}).json()
    assert filtered["summary"] == whole
    assert names(filtered) == ["alpha"]


def test_state_and_node_filters_combine(client: httpx.Client) -> None:
    get = client.get
    assert names(get("/api/v1/status?state=exhausted&state=ticket").json()) == [
        "echo",
        "hotel",
        "delta",
    ]
    body = get("/api/v1/status?node=foxtrot&node=golf&node=nobody").json()
    assert names(body) == ["golf", "foxtrot"]
    assert body["journeys"] == []  # not named
    both = get("/api/v1/status?node=foxtrot&node=golf&state=ok").json()
    assert names(both) == ["foxtrot"]
    journeys = get("/api/v1/status?state=page").json()["journeys"]
    assert [j["journey"] for j in journeys] == ["checkout"]
    assert get("/api/v1/status?state=ok").json()["journeys"] == []
    assert names(get("/api/v1/status?node=checkout").json()) == []


def test_pages_follow_the_cursor_without_repeats_or_gaps(client: httpx.Client) -> None:
    seen: list[str] = []
    cursors: list[str | None] = []
    params: dict[str, str | int] = {"limit": 3}
    for _ in range(10):  # bounded: 3 pages expected
        body = client.get("/api/v1/status", params=params).json()
        seen += names(body)
        cursor = body["page"]["next_cursor"]
        cursors.append(cursor)
        assert body["page"]["matched"] == 8
        if cursor is None:
            break
        params = {"limit": 3, "cursor": cursor}
    assert seen == URGENT_FIRST
    assert cursors == ["exhausted:echo", "no_data:charlie", None]
    second = client.get("/api/v1/status", params={"limit": 3, "cursor": "exhausted:echo"})
    assert second.json()["journeys"] == []  # journeys come on the first page only


def test_a_cursor_for_a_node_gone_since_continues_after_its_place(client: httpx.Client) -> None:
    body = client.get("/api/v1/status", params={"cursor": "exhausted:foo", "limit": 2}).json()
    assert names(body) == ["hotel", "delta"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            "state=paging",
            "query parameter state: 'paging' is not one of page, exhausted, ticket, no_data, ok",
        ),
        ("limit=0", "query parameter limit: '0' is not a whole number from 1 to 5000"),
        ("limit=5001", "query parameter limit: '5001' is not a whole number from 1 to 5000"),
        ("limit=ten", "query parameter limit: 'ten' is not a whole number from 1 to 5000"),
        ("limit=%C2%B2", "query parameter limit: '\u00b2' is not a whole number from 1 to 5000"),
        ("limit=1&limit=2", "query parameter limit: give it once"),
        (
            "cursor=abc",
            "query parameter cursor: 'abc' is not state:node "
            "(use the next_cursor of the previous page)",
        ),
        (
            "node=Bad_Name",
            "query parameter node: 'Bad_Name' is not a node or journey name "
            "(lower-case letters, digits and '-', at most 63)",
        ),
        ("nodes=alpha", "query parameter 'nodes' is not known: use node, state, limit, cursor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client: httpx.Client, query: str, error: str) -> None:
    response = client.get(f"/api/v1/status?{query}")
    assert response.status_code == 400
    assert response.json() == {"error": error}
