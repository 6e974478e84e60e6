"""The push against a real Alertmanager: what it lists is exactly what the rules would raise."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agent.model import RollingWindow
from agent.slo.alerts import burn_factor
from exporters.alerting import (
    ABSENT,
    BURN,
    EXHAUSTED,
    absent_labels,
    burn_labels,
    exhausted_labels,
)
from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher
from exporters.alertmanager.payload import timestamp
from tests.exporters.alertmanager.conftest import STATUS_URL, Clock
from tests.exporters.alertmanager.statuses import BURNING, CLEAN, TICKET_ONLY, snapshot, specs
from tests.support.alertmanager import AlertmanagerServer
from tests.support.fakes import eventually

pytestmark = pytest.mark.integration

HOUR = 3600.0


def label_sets(alerts: list[dict[str, Any]]) -> list[Mapping[str, str]]:
    return sorted((a["labels"] for a in alerts), key=lambda labels: sorted(labels.items()))


async def test_pushed_alerts_show_up_with_the_rule_labels_and_resolve(tmp_path: Path) -> None:
    set_ = specs()
    [node] = set_.nodes
    availability, latency = node.slos
    page_1h, _, ticket_1d, _ = set_.windows_for(node).tiers
    assert isinstance(availability.window, RollingWindow)
    period = availability.window.length
    page = {"alertname": BURN, **burn_labels(node, availability, page_1h, 14.4)}
    ticket = {"alertname": BURN, **burn_labels(node, availability, ticket_1d, 3.0)}
    exhausted = {"alertname": EXHAUSTED, **exhausted_labels(node, availability)}
    absent = {"alertname": ABSENT, **absent_labels(node, latency)}
    assert (
        page["burn_rate"]
        == burn_labels(node, availability, page_1h, burn_factor(page_1h, period))["burn_rate"]
    )

    with AlertmanagerServer(tmp_path) as alertmanager:
        clock = Clock(time.time() - 2 * HOUR)
        pusher = AlertmanagerPusher(
            AlertmanagerClient([alertmanager.url]), clock=clock, generator_url=STATUS_URL
        )
        try:
            # the agent has watched both SLOs for two hours; latency never got an event
            assert await pusher.export(snapshot(set_, {"availability": CLEAN}, clock()), set_)
            assert alertmanager.alerts() == []
            started = clock.now = time.time()
            assert await pusher.export(snapshot(set_, {"availability": BURNING}, started), set_)

            listed = alertmanager.alerts(active=True)
            assert label_sets(listed) == label_sets(
                [{"labels": x} for x in (page, ticket, exhausted, absent)]
            )
            first = next(a for a in listed if a["labels"] == page)
            assert first["startsAt"] == timestamp(started)
            assert first["generatorURL"] == STATUS_URL
            assert first["annotations"]["runbook_url"] == "https://runbooks.example/acme-pay"
            assert first["annotations"]["summary"].startswith("acme-pay/availability burns")

            at = clock.now = time.time()
            assert await pusher.export(snapshot(set_, {"availability": TICKET_ONLY}, at), set_)
            remaining = label_sets(alertmanager.alerts())
            assert remaining == label_sets([{"labels": x} for x in (ticket, exhausted, absent)])

            at = clock.now = time.time()
            calm = {"availability": CLEAN, "latency": CLEAN}
            assert await pusher.export(snapshot(set_, calm, at), set_)
            await eventually(lambda: alertmanager.alerts() == [])
        finally:
            await pusher.aclose()
