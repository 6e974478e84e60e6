"""Attribution against scripted scenarios where the culprit is known: journeys run through the
pipeline against real loopback partners, blame counted exactly, in the store and the metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from agent.journeys.pipeline import JourneyPipeline
from agent.journeys.runner import JourneyRunner
from agent.journeys.views import JourneyView, journey_view
from agent.model import Journey
from agent.probes.http import HttpProber
from agent.schedule.scheduler import JourneyJob
from agent.slo.events import Counts
from agent.store import SqliteStore
from agent.store.journeys import BlameCounts
from tests.journeys.support import NODES, FakeTracer, journey, step
from tests.support.fakes import RecordingTelemetry
from tests.support.targets import Behaviour, Exchange, FailEvery, Reply, Target, json_reply

CART = json_reply({"id": "c-7", "items": 1})
APPROVED = json_reply({"status": "approved"})
QUOTE = json_reply({"price": 4.9, "currency": "EUR"})
DOWN = Reply(503, b"down")
ALL_TIME = (0.0, 4_000_000_000.0)


@dataclass(frozen=True, slots=True)
class SlowEvery:
    """Every ``n``-th request on the path waits ``delay`` seconds before ``reply``."""

    n: int
    delay: float
    reply: Behaviour

    async def serve(self, exchange: Exchange) -> bool:
        if exchange.hit % self.n == 0 and not await exchange.pause(self.delay):
            return False
        return await self.reply.serve(exchange)


@dataclass
class World:
    shop: Target
    pay: Target
    backup: Target
    ship: Target
    store: SqliteStore
    telemetry: RecordingTelemetry
    tracer: FakeTracer
    pipeline: JourneyPipeline

    def checkout(self, latency_under: timedelta | None = None) -> Journey:
        return journey(
            step("add-to-cart", "storefront", self.shop.url("/cart"), capture={"cart": "$.id"}),
            step(
                "authorize",
                "acme-pay",
                self.pay.url("/pay?cart=${cart}"),
                fallback=("backup-pay", self.backup.url("/pay?cart=${cart}")),
            ),
            step("quote", "fastship", self.ship.url("/quote")),
            latency_under=latency_under,
        )

    async def run(self, checkout: Journey, times: int) -> None:
        job = JourneyJob(checkout, NODES)
        for _ in range(times):
            assert await self.pipeline.run(job) is not None

    def blame(self) -> dict[tuple[str, str, str], BlameCounts]:
        return self.store.journey_blame_counts("checkout", *ALL_TIME)

    def view(self, checkout: Journey) -> JourneyView:
        return journey_view(
            checkout,
            NODES,
            (),
            "28d",
            self.store.journey_step_counts("checkout", *ALL_TIME),
            self.blame(),
            self.store.journey_blamed_runs("checkout", per_hop=2),
            {"backup-pay": 1.0},
            min_attempts=1,
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    shop, pay = Target({"/cart": CART}), Target({"/pay": APPROVED})
    backup, ship = Target({"/pay": APPROVED}), Target({"/quote": QUOTE})
    targets = [shop, pay, backup, ship]
    prober = HttpProber()
    store = SqliteStore(tmp_path / "store.db")
    try:
        for target in targets:
            await target.start()
        telemetry, tracer = RecordingTelemetry(), FakeTracer()
        # min_baseline above the runs of any test: the latency budget is split evenly
        runner = JourneyRunner(prober, tracer)
        pipeline = JourneyPipeline(runner, store, telemetry, min_baseline=100)
        yield World(shop, pay, backup, ship, store, telemetry, tracer, pipeline)
    finally:
        store.close()
        await prober.aclose()
        for target in targets:
            await target.stop()


def sli(store: SqliteStore) -> dict[str, Counts]:
    return store.series_totals()


async def test_a_partner_5xx_is_blamed_on_the_partner(world: World) -> None:
    world.pay.route("/pay", FailEvery(3, DOWN, APPROVED))
    world.backup.route("/pay", DOWN)  # the fallback is down too
    await world.run(world.checkout(), 6)

    assert world.blame() == {("authorize", "acme-pay", "status"): BlameCounts(2, 2.0)}
    assert [(b.node, b.mode, b.partner) for b in world.telemetry.blames] == [
        ("acme-pay", "orchestrated", "Acme Pay")
    ] * 2
    assert sli(world.store) == {"checkout/success": Counts(6, 2)}
    assert world.ship.request_count == 4  # the failed runs ended at the payment step
    steps = world.store.journey_step_counts("checkout", *ALL_TIME)
    assert steps["authorize"].failures == steps["authorize"].failovers == 2
    assert steps["authorize"].failovers_ok == 0


async def test_a_slow_partner_is_blamed_for_latency(world: World) -> None:
    # 600 ms for three steps: 200 ms each; every second quote takes 700 ms
    world.ship.route("/quote", SlowEvery(2, 0.7, QUOTE))
    checkout = world.checkout(latency_under=timedelta(milliseconds=600))
    await world.run(checkout, 4)

    assert world.blame() == {("quote", "fastship", "latency"): BlameCounts(2, 2.0)}
    assert sli(world.store) == {"checkout/success": Counts(4, 0), "checkout/latency": Counts(4, 2)}


async def test_an_operated_node_failing_is_blamed_on_the_team(world: World) -> None:
    world.shop.route("/cart", FailEvery(2, Reply(500, b"oops"), CART))
    await world.run(world.checkout(), 4)

    assert world.blame() == {("add-to-cart", "storefront", "status"): BlameCounts(2, 2.0)}
    assert [(b.mode, b.partner) for b in world.telemetry.blames] == [("operated", "")] * 2
    assert (world.pay.request_count, world.ship.request_count) == (2, 2)


async def test_a_fallback_that_saves_the_run_is_not_blamed(world: World) -> None:
    world.pay.route("/pay", DOWN)
    await world.run(world.checkout(), 3)

    assert world.blame() == {}
    assert world.telemetry.blames == []
    assert sli(world.store) == {"checkout/success": Counts(3, 0)}
    steps = world.store.journey_step_counts("checkout", *ALL_TIME)
    authorize = steps["authorize"]
    assert (authorize.attempts, authorize.failures) == (3, 3)
    assert (authorize.failovers, authorize.failovers_ok) == (3, 3)
    assert authorize.failover_seconds > 0
    assert world.backup.requests[0].target == "/pay?cart=c-7"
    # the path holds: acme-pay never answered, the fallback (measured up) always saved it
    ceiling = world.view(world.checkout()).ceiling
    assert ceiling.availability == 1.0
    assert [hop.availability for hop in ceiling.hops] == [1.0, 0.0, 1.0]
    assert ceiling.hops[1].failover_success == 1.0


async def test_the_view_splits_the_burned_budget_by_hop_and_partner(world: World) -> None:
    world.shop.route("/cart", FailEvery(4, Reply(500, b"oops"), CART))
    world.pay.route("/pay", FailEvery(2, DOWN, APPROVED))
    world.backup.route("/pay", DOWN)
    await world.run(world.checkout(), 4)
    world.store.flush()  # half the data on disk, half in memory
    await world.run(world.checkout(), 4)

    # the shop fails runs 4 and 8; payments see runs 1 2 3 5 6 7 and fail their 2nd, 4th and
    # 6th request: runs 2, 5 and 7. Bad runs: 5, three of them the partner's.
    checkout = world.checkout()
    view = world.view(checkout)
    assert view.runs == 8
    assert view.bad_runs == 5
    assert [(h.step, h.node, h.bad_runs, h.fraction) for h in view.hops] == [
        ("authorize", "acme-pay", 3, 0.6),
        ("add-to-cart", "storefront", 2, 0.4),
    ]
    assert view.hops[0].reasons == {"status": 3}
    assert [(p.partner, p.mode, p.nodes, p.fraction) for p in view.partners] == [
        ("Acme Pay", "orchestrated", ("acme-pay",), 0.6),
        ("", "operated", ("storefront",), 0.4),
    ]
    bad_traces = [r.trace_id for r in world.telemetry.journeys if not r.ok]
    roots = [span.trace_id for span in world.tracer.roots()]
    assert set(bad_traces) <= set(roots)
    # examples: the latest two per hop, newest first
    failed_pay = [
        r.trace_id
        for r in world.telemetry.journeys
        if r.failed_step is not None and r.failed_step.node == "acme-pay"
    ]
    assert view.hops[0].trace_ids == (failed_pay[-1], failed_pay[-2])
    # a = 6/8 for the shop; payments failed 3 of 6 and no failover worked; 0.75 x 0.5 x 1
    ceiling = view.ceiling
    assert [hop.availability for hop in ceiling.hops] == [0.75, 0.5, 1.0]
    assert ceiling.hops[1].failover_success == 0.0
    assert ceiling.availability == pytest.approx(0.375)
    assert ceiling.above == ("success",)
    quote = world.store.journey_step_counts("checkout", *ALL_TIME)["quote"]
    assert (quote.attempts, quote.failures, quote.failovers) == (3, 0, 0)
