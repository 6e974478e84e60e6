"""Pushed alerts hold through an outage, against a real Alertmanager: the outage replay of
tests/support/outage.py (1m and 5m short windows, probes every 1 s, 2 s and 30 s, time
compressed) pushed evaluation by evaluation, and Alertmanager asked what it holds.

The replay runs in the past (its clock ends about now), so that a resolution's ``endsAt`` is
already over when Alertmanager gets it; firing alerts are announced valid for a day so they
stay active while the compressed replay runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from exporters.alerting import BURN
from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher
from exporters.alertmanager.payload import timestamp
from tests.support.alertmanager import AlertmanagerServer
from tests.support.outage import (
    CASES,
    DURATION,
    HEALTHY,
    OUTAGE,
    Case,
    Clock,
    replay,
    specs_for,
)

pytestmark = pytest.mark.integration

DAY = 86400.0


def _pages(alerts: list[dict[str, Any]], node: str) -> list[dict[str, Any]]:
    return [
        a
        for a in alerts
        if a["labels"]["alertname"] == BURN
        and a["labels"]["node"] == node
        and a["labels"]["severity"] == "page"
    ]


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with AlertmanagerServer(tmp_path_factory.mktemp("am")) as server:
        yield server


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_one_startsat_per_outage_no_resolve_during_it_resolved_after(
    case: Case, alertmanager: AlertmanagerServer, tmp_path: Path
) -> None:
    start = time.time() - DURATION - 60
    clock = Clock(start)
    pusher = AlertmanagerPusher(AlertmanagerClient([alertmanager.url]), clock=clock, validity=DAY)
    specs = specs_for(case)
    starts: set[str] = set()
    resolved_at: float | None = None
    short = case.short.total_seconds()
    seen: tuple[object, ...] | None = None
    try:
        for step, (at, snapshot) in enumerate(replay(case, tmp_path, start)):
            clock.now = start + HEALTHY + at
            assert await pusher.export(snapshot, specs)
            firing = tuple(alert.key for alert in pusher.firing)
            if firing == seen and step % 25:
                continue  # ask Alertmanager after every change the push made, and now and then
            seen = firing
            listed = _pages(alertmanager.alerts(active=True), case.node)
            if listed:
                assert resolved_at is None, f"the page fired again at {at:+.0f}s"
                assert len(listed) == 1
                starts.add(listed[0]["startsAt"])
                assert at < OUTAGE + short + case.evaluate_every
            elif starts and resolved_at is None:
                resolved_at = at
                assert at > OUTAGE, f"the page resolved during the outage, at {at:+.0f}s"
    finally:
        await pusher.aclose()

    assert len(starts) == 1, starts  # one firing episode, one startsAt
    [started] = starts
    assert started >= timestamp(start + HEALTHY)
    assert resolved_at is not None, "the page never resolved after the outage"
    assert OUTAGE < resolved_at <= OUTAGE + short + case.evaluate_every
