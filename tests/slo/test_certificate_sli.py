"""``cert_valid_for``: good = the run succeeded and its certificate had that much left."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from agent.model import Node, ProbeSli, RollingWindow, Slo
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.slo.events import sli_events
from tests.support.builders import node

DAY = 86400.0
STARTED = 1_800_000_000.0


def shop() -> Node:
    base = node("shop", url="https://shop.example/")
    slo = Slo(
        "certificate",
        0.99,
        RollingWindow(timedelta(days=30)),
        ProbeSli("authorize", cert_valid_for=timedelta(days=14)),
    )
    return dataclasses.replace(base, slos=(*base.slos, slo))


def run(outcome: Outcome, days_left: float | None) -> ProbeResult:
    reason = Reason.OK if outcome is Outcome.SUCCESS else Reason.TLS
    expiry = None if days_left is None else STARTED + days_left * DAY
    observation = Observation(outcome, reason, 0.05, cert_not_after=expiry)
    return ProbeResult("shop", "authorize", STARTED, observation)


@pytest.mark.parametrize(
    ("outcome", "days_left", "good"),
    [
        (Outcome.SUCCESS, 30.0, True),
        (Outcome.SUCCESS, 14.0, True),  # exactly the threshold is still enough
        (Outcome.SUCCESS, 13.999, False),
        (Outcome.SUCCESS, None, False),  # no handshake seen: cannot vouch for the certificate
        (Outcome.FAILURE, 30.0, False),
        (Outcome.FAILURE, -3.0, False),
    ],
)
def test_good_needs_success_and_enough_validity(
    outcome: Outcome, days_left: float | None, good: bool
) -> None:
    events = {e.series: e.good for e in sli_events(shop(), run(outcome, days_left))}

    assert events["shop/certificate"] is good
    assert events["shop/availability"] is (outcome is Outcome.SUCCESS)
