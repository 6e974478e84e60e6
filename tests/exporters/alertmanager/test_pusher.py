"""The push state machine against a real loopback receiver: what is sent when."""

from __future__ import annotations

from exporters.alerting import BURN, EXHAUSTED
from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher
from exporters.alertmanager.payload import timestamp
from tests.exporters.alertmanager.conftest import ALERTS, QUICK, STATUS_URL, Clock, Pushing
from tests.exporters.alertmanager.statuses import (
    BURNING,
    CLEAN,
    NOW,
    TICKET_ONLY,
    snapshot,
    specs,
)
from tests.support.targets import Reply, Target

PAGE = f"{BURN}/1h"
TICKET = f"{BURN}/1d"
OUT = f"{EXHAUSTED}/"


async def test_a_first_firing_alert_is_sent_at_once(pushing: Pushing) -> None:
    set_ = specs()

    ok = await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)

    assert ok
    [request] = pushing.receiver.requests
    assert (request.method, request.path) == ("POST", ALERTS)
    assert request.header("content-type") == "application/json"
    sent = pushing.last()
    assert set(sent) == {PAGE, TICKET, OUT}
    assert {a["startsAt"] for a in sent.values()} == {timestamp(NOW)}
    assert {a["endsAt"] for a in sent.values()} == {timestamp(NOW + 240)}  # 4 x 1m
    assert {a["generatorURL"] for a in sent.values()} == {STATUS_URL}


async def test_unchanged_alerts_are_resent_only_after_the_resend_interval(
    pushing: Pushing,
) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)

    at = pushing.clock.advance(59)
    assert await pushing.pusher.export(snapshot(set_, {"availability": BURNING}, at), set_)
    assert len(pushing.posts()) == 1

    at = pushing.clock.advance(1)
    assert await pushing.pusher.export(snapshot(set_, {"availability": BURNING}, at), set_)
    assert len(pushing.posts()) == 2
    sent = pushing.last()
    assert set(sent) == {PAGE, TICKET, OUT}
    assert {a["startsAt"] for a in sent.values()} == {timestamp(NOW)}  # first seen firing
    assert {a["endsAt"] for a in sent.values()} == {timestamp(NOW + 60 + 240)}


async def test_a_resolved_alert_is_sent_once_with_its_end(pushing: Pushing) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)

    resolved_at = pushing.clock.advance(10)
    await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, resolved_at), set_)

    sent = pushing.last()
    assert set(sent) == {PAGE, TICKET, OUT}
    assert {a["startsAt"] for a in sent.values()} == {timestamp(NOW)}
    assert {a["endsAt"] for a in sent.values()} == {timestamp(resolved_at)}
    assert pushing.pusher.firing == ()
    assert pushing.pusher.pending_resolutions == ()
    for _ in range(3):
        at = pushing.clock.advance(60)
        assert await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, at), set_)
    assert len(pushing.posts()) == 2  # nothing firing, nothing to resolve: silence


async def test_a_new_tier_firing_is_sent_at_once(pushing: Pushing) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": TICKET_ONLY}), set_)
    assert set(pushing.last()) == {TICKET, OUT}

    at = pushing.clock.advance(10)  # well within the resend interval
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}, at), set_)

    sent = pushing.last()
    assert set(sent) == {PAGE, TICKET, OUT}
    assert sent[PAGE]["startsAt"] == timestamp(at)
    assert sent[TICKET]["startsAt"] == timestamp(NOW)


async def test_a_tier_that_stops_is_resolved_while_the_others_keep_firing(
    pushing: Pushing,
) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)

    at = pushing.clock.advance(10)
    await pushing.pusher.export(snapshot(set_, {"availability": TICKET_ONLY}, at), set_)

    sent = pushing.last()
    assert sent[PAGE]["endsAt"] == timestamp(at)  # resolved
    assert sent[TICKET]["endsAt"] == timestamp(at + 240)  # still firing
    assert sent[OUT]["endsAt"] == timestamp(at + 240)


async def test_a_failed_delivery_is_retried_on_the_next_export(pushing: Pushing) -> None:
    set_ = specs()
    pushing.receiver.route(ALERTS, Reply(503, b"overloaded"))

    assert not await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)
    assert len(pushing.posts()) == 2  # QUICK: two attempts

    pushing.receiver.route(ALERTS, Reply(200))
    at = pushing.clock.advance(10)
    assert await pushing.pusher.export(snapshot(set_, {"availability": BURNING}, at), set_)
    assert len(pushing.posts()) == 3
    assert pushing.last()[PAGE]["startsAt"] == timestamp(NOW)


async def test_a_bad_request_is_not_retried(pushing: Pushing) -> None:
    set_ = specs()
    pushing.receiver.route(ALERTS, Reply(400, b"bad alert"))

    assert not await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)

    assert len(pushing.posts()) == 1


async def test_a_resolution_is_retried_until_delivered(pushing: Pushing) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)
    pushing.receiver.route(ALERTS, Reply(503))

    at = pushing.clock.advance(10)
    assert not await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, at), set_)
    assert len(pushing.pusher.pending_resolutions) == 3

    pushing.receiver.route(ALERTS, Reply(200))
    later = pushing.clock.advance(10)
    assert await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, later), set_)
    assert {a["endsAt"] for a in pushing.last().values()} == {timestamp(at)}
    assert not pushing.pusher.pending_resolutions


async def test_a_resolution_is_dropped_once_alertmanager_has_resolved_it_by_itself(
    pushing: Pushing,
) -> None:
    set_ = specs()
    await pushing.pusher.export(snapshot(set_, {"availability": BURNING}), set_)  # valid 240s
    pushing.receiver.route(ALERTS, Reply(503))
    at = pushing.clock.advance(10)
    await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, at), set_)
    posts = len(pushing.posts())

    pushing.receiver.route(ALERTS, Reply(200))
    at = pushing.clock.advance(230)  # NOW + 240: the endsAt last announced has passed
    assert await pushing.pusher.export(snapshot(set_, {"availability": CLEAN}, at), set_)

    assert pushing.pusher.pending_resolutions == ()
    assert len(pushing.posts()) == posts  # nothing left worth sending


async def test_waiting_resolutions_are_bounded() -> None:
    set_ = specs()
    async with Target({ALERTS: Reply(200)}) as receiver:
        clock = Clock()
        client = AlertmanagerClient([receiver.base_url], retry=QUICK)
        pusher = AlertmanagerPusher(client, clock=clock, max_resolutions=2)
        await pusher.export(snapshot(set_, {"availability": BURNING}), set_)
        receiver.route(ALERTS, Reply(503))

        at = clock.advance(10)
        await pusher.export(snapshot(set_, {"availability": CLEAN}, at), set_)
        await pusher.aclose()

    kept = sorted(n.alert.labels.get("long", "") for n in pusher.pending_resolutions)
    assert kept == ["", "1d"]  # the oldest (the 1h page) was dropped first


async def test_every_alertmanager_gets_every_batch_and_one_failure_fails_the_export() -> None:
    set_ = specs()
    async with (
        Target({ALERTS: Reply(200)}) as first,
        Target({ALERTS: Reply(503)}) as second,
    ):
        client = AlertmanagerClient([first.base_url, second.url(ALERTS)], retry=QUICK)
        pusher = AlertmanagerPusher(client, clock=Clock())
        try:
            ok = await pusher.export(snapshot(set_, {"availability": BURNING}), set_)
        finally:
            await pusher.aclose()

    assert not ok
    assert [r.path for r in first.requests] == [ALERTS]
    assert [r.path for r in second.requests] == [ALERTS, ALERTS]
    assert first.requests[0].body == second.requests[0].body
