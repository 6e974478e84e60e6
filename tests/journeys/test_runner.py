"""The journey runner against real loopback servers: steps in order, captures filled into the
next requests, failover, one trace per run with its traceparent on every request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from agent.journeys.runner import JourneyRunner
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from tests.journeys.support import NODES, FakeTracer, journey, step
from tests.support.targets import Reply, Target, json_reply

CART = json_reply({"id": "c-7", "items": 1})
APPROVED = json_reply({"status": "approved", "authorization": "a-1"})
QUOTE = json_reply({"price": 4.9, "currency": "EUR"})


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def prober() -> AsyncIterator[HttpProber]:
    http = HttpProber()
    try:
        yield http
    finally:
        await http.aclose()


@asynccontextmanager
async def targets(**routes: dict[str, Reply]) -> AsyncIterator[dict[str, Target]]:
    started: dict[str, Target] = {}
    try:
        for name, paths in routes.items():
            started[name] = await Target(paths).start()
        yield started
    finally:
        for target in started.values():
            await target.stop()


@pytest.fixture
def tracer() -> FakeTracer:
    return FakeTracer()


async def test_captured_values_reach_the_next_servers(
    prober: HttpProber, tracer: FakeTracer
) -> None:
    async with targets(
        shop={"/cart": CART}, pay={"/v1/authorize": APPROVED}, ship={"/quote/c-7": QUOTE}
    ) as t:
        checkout = journey(
            step(
                "add-to-cart",
                "storefront",
                t["shop"].url("/cart"),
                method="POST",
                body=b'{"sku": "mug-01"}',
                capture={"cart": "$.id", "items": "$.items"},
            ),
            step(
                "authorize",
                "acme-pay",
                t["pay"].url("/v1/authorize?cart=${cart}"),
                method="POST",
                headers={"X-Cart": "${cart}", "X-Items": "${items}"},
                body=b'{"cart": "${cart}"}',
                capture={"authorization": "$.authorization"},
            ),
            step("quote", "fastship", t["ship"].url("/quote/${cart}?auth=${authorization}")),
        )
        clock = Clock()
        result = await JourneyRunner(prober, tracer, clock=clock).run(checkout, NODES)

        assert result.ok
        assert result.started_at == clock.now
        assert [s.step for s in result.steps] == ["add-to-cart", "authorize", "quote"]
        assert [s.node for s in result.steps] == ["storefront", "acme-pay", "fastship"]
        assert result.duration >= sum(s.duration for s in result.steps)
        (paid,) = t["pay"].requests
        assert paid.method == "POST"
        assert paid.target == "/v1/authorize?cart=c-7"
        assert paid.header("x-cart") == "c-7"
        assert paid.header("x-items") == "1"
        assert json.loads(paid.body) == {"cart": "c-7"}
        (quoted,) = t["ship"].requests
        assert quoted.target == "/quote/c-7?auth=a-1"
        assert t["shop"].requests[0].body == b'{"sku": "mug-01"}'


async def test_every_request_carries_the_traceparent_of_its_step_span(
    prober: HttpProber, tracer: FakeTracer
) -> None:
    async with targets(shop={"/cart": CART}, pay={"/v1/authorize": APPROVED}) as t:
        checkout = journey(
            step("add-to-cart", "storefront", t["shop"].url("/cart"), capture={"cart": "$.id"}),
            step("authorize", "acme-pay", t["pay"].url("/v1/authorize?cart=${cart}")),
        )
        runner = JourneyRunner(prober, tracer)
        first = await runner.run(checkout, NODES)
        second = await runner.run(checkout, NODES)

        root_one, root_two = tracer.roots()
        assert (first.trace_id, second.trace_id) == (root_one.trace_id, root_two.trace_id)
        assert first.trace_id != second.trace_id
        steps = [span for span in tracer.spans if span.kind == "step"]
        assert [span.parent for span in steps] == [root_one, root_one, root_two, root_two]
        shop = [r.header("traceparent") for r in t["shop"].requests]
        pay = [r.header("traceparent") for r in t["pay"].requests]
        assert shop == [steps[0].traceparent, steps[2].traceparent]
        assert pay == [steps[1].traceparent, steps[3].traceparent]
        assert all(span.observations[-1].ok for span in steps)
        assert root_one.observations[-1].ok


async def test_a_failed_step_ends_the_run(prober: HttpProber, tracer: FakeTracer) -> None:
    async with targets(
        shop={"/cart": CART}, pay={"/v1/authorize": Reply(503, b"down")}, ship={"/quote": QUOTE}
    ) as t:
        checkout = journey(
            step("add-to-cart", "storefront", t["shop"].url("/cart")),
            step("authorize", "acme-pay", t["pay"].url("/v1/authorize")),
            step("quote", "fastship", t["ship"].url("/quote")),
        )
        result = await JourneyRunner(prober, tracer).run(checkout, NODES)

        assert not result.ok
        assert [s.step for s in result.steps] == ["add-to-cart", "authorize"]
        failed = result.failed_step
        assert failed is not None
        assert (failed.step, failed.observation.reason, failed.observation.status) == (
            "authorize",
            Reason.STATUS,
            503,
        )
        assert not failed.failed_over
        assert not t["ship"].requests  # the carrier was never asked
        (root,) = tracer.roots()
        assert not root.observations[-1].ok
        assert root.observations[-1].detail.startswith('step "authorize" failed: expected status')


async def test_the_fallback_saves_the_run_and_records_what_it_added(
    prober: HttpProber, tracer: FakeTracer
) -> None:
    async with targets(
        shop={"/cart": CART},
        pay={"/v1/authorize": Reply(503, b"down")},
        backup={"/v1/authorize": APPROVED},
        ship={"/quote": QUOTE},
    ) as t:
        checkout = journey(
            step("add-to-cart", "storefront", t["shop"].url("/cart"), capture={"cart": "$.id"}),
            step(
                "authorize",
                "acme-pay",
                t["pay"].url("/v1/authorize?cart=${cart}"),
                fallback=("backup-pay", t["backup"].url("/v1/authorize?cart=${cart}")),
                capture={"authorization": "$.authorization"},
            ),
            step("quote", "fastship", t["ship"].url("/quote?auth=${authorization}")),
        )
        result = await JourneyRunner(prober, tracer).run(checkout, NODES)

        assert result.ok
        authorize = result.steps[1]
        assert (authorize.failed_over, authorize.saved) == (True, True)
        assert authorize.fallback_node == "backup-pay"
        assert authorize.observation.reason is Reason.STATUS
        assert authorize.failover_seconds > 0
        assert authorize.duration == authorize.observation.duration + authorize.failover_seconds
        assert t["backup"].requests[0].target == "/v1/authorize?cart=c-7"
        # the capture came from the fallback's answer
        assert t["ship"].requests[0].target == "/quote?auth=a-1"
        pay_spans = [span for span in tracer.spans if span.name.startswith("authorize@")]
        assert [(span.name, span.fallback) for span in pay_spans] == [
            ("authorize@acme-pay", False),
            ("authorize@backup-pay", True),
        ]
        assert t["backup"].requests[0].header("traceparent") == pay_spans[1].traceparent


async def test_a_capture_that_finds_nothing_fails_its_step(
    prober: HttpProber, tracer: FakeTracer
) -> None:
    async with targets(shop={"/cart": json_reply({"cart": "no id here"})}) as t:
        checkout = journey(
            step("add-to-cart", "storefront", t["shop"].url("/cart"), capture={"cart": "$.id"}),
            step("authorize", "acme-pay", t["shop"].url("/never?cart=${cart}")),
        )
        result = await JourneyRunner(prober, tracer).run(checkout, NODES)

    assert not result.ok
    (only,) = result.steps
    assert only.observation.reason is Reason.ASSERTION
    assert only.observation.status == 200
    assert only.observation.detail == "cannot capture cart: $.id selected nothing"
    (span,) = [span for span in tracer.spans if span.kind == "step"]
    assert span.observations == [only.observation]
