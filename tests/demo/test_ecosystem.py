"""The demo ecosystem serves every fault kind over real loopback HTTP, on schedule."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from agent.demo.ecosystem import FAULT_HEADER, Ecosystem
from agent.demo.faults import (
    DEMO_NODES,
    FaultKind,
    FaultSchedule,
    Slot,
    healthy,
    latency_spike,
)


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Records the delays the ecosystem asks for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def eco(clock: ManualClock, sleep: RecordingSleep) -> AsyncIterator[Ecosystem]:
    async with Ecosystem(clock=clock, sleep=sleep, traceparent_history=3) as ecosystem:
        yield ecosystem


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def statuses(client: httpx.AsyncClient, url: str, count: int) -> list[int]:
    return [(await client.get(url)).status_code for _ in range(count)]


def port_is_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_every_node_listens_on_its_own_loopback_port(eco: Ecosystem) -> None:
    assert set(eco.urls) == set(DEMO_NODES)
    assert len(set(eco.ports.values())) == len(DEMO_NODES)
    for node, url in eco.urls.items():
        assert url == f"http://127.0.0.1:{eco.ports[node]}"


@pytest.mark.parametrize(
    ("node", "path", "field", "value"),
    [
        ("storefront", "/health", "status", "ok"),
        ("inventory", "/health", "status", "ok"),
        ("acme-pay", "/v1/health", "status", "ok"),
        ("backup-pay", "/v1/health", "status", "ok"),
        ("fastship", "/quote", "currency", "EUR"),
        ("slowfreight", "/quote", "currency", "EUR"),
    ],
)
async def test_healthy_nodes_answer_their_contract(
    eco: Ecosystem, client: httpx.AsyncClient, node: str, path: str, field: str, value: str
) -> None:
    response = await client.get(eco.urls[node] + path)
    assert response.status_code == 200
    assert response.json()[field] == value
    assert response.headers[FAULT_HEADER] == "healthy"


async def test_storefront_serves_products_and_carts(
    eco: Ecosystem, client: httpx.AsyncClient
) -> None:
    products = await client.get(eco.urls["storefront"] + "/products")
    assert [p["sku"] for p in products.json()["products"]] == ["mug-01", "tee-02"]
    carts = [(await client.post(eco.urls["storefront"] + "/cart")).json()["id"] for _ in "ab"]
    assert carts == ["cart-1", "cart-2"]


async def test_health_is_compact_json_as_specs_expect(
    eco: Ecosystem, client: httpx.AsyncClient
) -> None:
    response = await client.get(eco.urls["acme-pay"] + "/v1/health")
    assert '"status":"ok"' in response.text


async def test_unknown_route_is_404(eco: Ecosystem, client: httpx.AsyncClient) -> None:
    response = await client.get(eco.urls["fastship"] + "/nowhere")
    assert response.status_code == 404
    assert eco.traffic("fastship").statuses == {404: 1}


async def test_outage_answers_every_request_with_503(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    clock.now += 90.0  # 1:30, acme-pay is down
    assert await statuses(client, eco.urls["acme-pay"] + "/v1/health", 6) == [503] * 6
    assert await statuses(client, eco.urls["backup-pay"] + "/v1/health", 2) == [200] * 2
    traffic = eco.traffic("acme-pay")
    assert traffic.faults == {FaultKind.OUTAGE: 6}
    assert traffic.errors == 6
    assert traffic.last_fault.kind is FaultKind.OUTAGE


async def test_storefront_burst_fails_exactly_one_request_in_five(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    clock.now += 130.0  # 2:10
    answers = await statuses(client, eco.urls["storefront"] + "/products", 20)
    assert [i for i, status in enumerate(answers) if status == 500] == [4, 9, 14, 19]
    traffic = eco.traffic("storefront")
    assert traffic.statuses == {200: 16, 500: 4}
    assert traffic.faults == {FaultKind.ERROR_BURST: 20}


async def test_inventory_burst_fails_exactly_three_in_ten(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    clock.now += 400.0  # 6:40
    answers = await statuses(client, eco.urls["inventory"] + "/health", 30)
    assert answers.count(500) == 9
    assert answers[:10].count(500) == 3


async def test_error_counts_are_per_route(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    clock.now += 130.0
    health, products = [], []
    for _ in range(10):
        health.append((await client.get(eco.urls["storefront"] + "/health")).status_code)
        products.append((await client.get(eco.urls["storefront"] + "/products")).status_code)
    assert health.count(500) == 2
    assert products.count(500) == 2


async def test_latency_spike_delays_fastship_past_its_threshold(
    eco: Ecosystem, clock: ManualClock, sleep: RecordingSleep, client: httpx.AsyncClient
) -> None:
    clock.now += 300.0  # 5:00
    answers = await statuses(client, eco.urls["fastship"] + "/quote", 10)
    assert answers == [200] * 10
    assert len(sleep.delays) == 10
    assert all(0.8 <= delay < 1.0 for delay in sleep.delays)
    assert eco.traffic("fastship").faults == {FaultKind.LATENCY_SPIKE: 10}


async def test_slowfreight_is_always_a_little_slow(
    eco: Ecosystem, clock: ManualClock, sleep: RecordingSleep, client: httpx.AsyncClient
) -> None:
    for moment in (0.0, 100.0, 250.0, 500.0):
        clock.now += moment
        assert (await client.get(eco.urls["slowfreight"] + "/quote")).status_code == 200
    assert len(sleep.delays) == 4
    assert all(0.3 <= delay < 0.5 for delay in sleep.delays)
    assert eco.traffic("slowfreight").faults == {FaultKind.HEALTHY: 4}


async def test_contract_break_answers_200_with_a_degraded_body(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    clock.now += 510.0  # 8:30
    response = await client.get(eco.urls["backup-pay"] + "/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}
    assert response.headers[FAULT_HEADER] == "contract_break"
    authorize = await client.post(eco.urls["backup-pay"] + "/v1/authorize")
    assert authorize.json()["status"] == "degraded"
    assert authorize.json()["authorization"] == "auth-1"


async def test_faults_follow_the_clock_and_the_cycle(
    eco: Ecosystem, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    url = eco.urls["acme-pay"] + "/v1/health"
    seen = []
    for moment in (59.0, 60.0, 209.0, 210.0, 660.0, 810.0):
        clock.now = 1000.0 + moment
        assert eco.elapsed() == moment
        seen.append((await client.get(url)).status_code)
    assert seen == [200, 503, 503, 200, 503, 200]


async def test_jump_to_and_time_offset_move_the_demo(
    clock: ManualClock, sleep: RecordingSleep, client: httpx.AsyncClient
) -> None:
    async with Ecosystem(clock=clock, sleep=sleep, time_offset=485.0) as eco:
        assert eco.faults_now()["backup-pay"].kind is FaultKind.CONTRACT_BREAK
        clock.now += 1.0
        eco.jump_to(65.0)
        assert eco.elapsed() == 65.0
        response = await client.get(eco.urls["acme-pay"] + "/v1/health")
        assert response.status_code == 503
        clock.now += 200.0
        assert eco.elapsed() == 265.0
        assert eco.faults_now()["fastship"].kind is FaultKind.LATENCY_SPIKE


async def test_traceparents_of_the_latest_requests_are_kept(
    eco: Ecosystem, client: httpx.AsyncClient
) -> None:
    url = eco.urls["storefront"] + "/health"
    for i in range(5):
        await client.get(url, headers={"traceparent": f"00-{i:032x}-{i:016x}-01"})
    await client.get(url)  # no header: nothing recorded
    traffic = eco.traffic("storefront")
    assert traffic.requests == 6
    assert traffic.traceparents == tuple(f"00-{i:032x}-{i:016x}-01" for i in (2, 3, 4))
    assert eco.traffic("inventory").traceparents == ()


async def test_traffic_is_a_snapshot(eco: Ecosystem, client: httpx.AsyncClient) -> None:
    before = eco.traffic("inventory")
    await client.get(eco.urls["inventory"] + "/health")
    assert before.requests == 0
    assert eco.traffic("inventory").requests == 1


async def test_stopping_frees_every_port_and_leaves_no_task(clock: ManualClock) -> None:
    async with Ecosystem(clock=clock) as eco, httpx.AsyncClient() as client:
        ports = dict(eco.ports)
        assert (await client.get(eco.urls["inventory"] + "/health")).status_code == 200
    assert all(port_is_closed(port) for port in ports.values())
    for port in ports.values():  # a new server could take the port at once
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(RuntimeError, match="not running"):
        eco.urls  # noqa: B018


async def test_stopping_answers_a_delayed_request_at_once(clock: ManualClock) -> None:
    stuck = FaultSchedule(
        nodes=("fastship",), cycle=600.0, slots=(Slot("fastship", 0, 600, latency_spike(300)),)
    )
    held = asyncio.Event()

    async def hold(seconds: float) -> None:
        held.set()
        await ecosystem.pause(seconds)  # the real, stoppable sleep

    ecosystem = Ecosystem(stuck, clock=clock, sleep=hold)
    async with httpx.AsyncClient(timeout=30.0) as client:
        await ecosystem.start()
        request = asyncio.create_task(client.get(ecosystem.urls["fastship"] + "/quote"))
        await held.wait()
        async with asyncio.timeout(20):  # far less than the 300 s delay
            await ecosystem.stop()
            response = await request
    assert response.status_code == 200
    assert response.headers[FAULT_HEADER] == "latency_spike"


async def test_ecosystem_can_start_again_after_stopping(clock: ManualClock) -> None:
    eco = Ecosystem(clock=clock)
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            async with eco:
                response = await client.get(eco.urls["storefront"] + "/health")
                assert response.status_code == 200
    assert eco.traffic("storefront").requests == 2


def test_a_schedule_naming_an_unserved_node_is_rejected() -> None:
    schedule = FaultSchedule(nodes=("warehouse",), cycle=60.0, baselines={"warehouse": healthy()})
    with pytest.raises(ValueError, match="no site serves: warehouse"):
        Ecosystem(schedule)
