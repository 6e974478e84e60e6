"""A loopback receiver standing in for Alertmanager's API, and a pusher aimed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher, RetryPolicy
from tests.exporters.alertmanager.statuses import NOW
from tests.support.targets import Reply, Target

ALERTS = "/api/v2/alerts"
QUICK = RetryPolicy(attempts=2, backoff=0.0, timeout=2.0)
STATUS_URL = "http://127.0.0.1:9464/api/v1/status"


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Pushing:
    receiver: Target
    pusher: AlertmanagerPusher
    clock: Clock

    def posts(self) -> list[list[dict[str, Any]]]:
        """Every alert batch the receiver got, oldest first."""
        return [json.loads(r.body) for r in self.receiver.requests if r.path == ALERTS]

    def last(self) -> dict[str, dict[str, Any]]:
        """The last batch, keyed by alertname/long (long is empty for non-burn alerts)."""
        batch = self.posts()[-1]
        return {f"{a['labels']['alertname']}/{a['labels'].get('long', '')}": a for a in batch}


@pytest.fixture
async def pushing() -> AsyncIterator[Pushing]:
    async with Target({ALERTS: Reply(200)}) as receiver:
        clock = Clock()
        client = AlertmanagerClient([receiver.base_url], retry=QUICK)
        pusher = AlertmanagerPusher(client, clock=clock, generator_url=STATUS_URL)
        try:
            yield Pushing(receiver, pusher, clock)
        finally:
            await pusher.aclose()
