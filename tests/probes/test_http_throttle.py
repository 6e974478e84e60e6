"""429, and 503 with Retry-After, are reason ``throttled``, with the wait the target asked for."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.probes.throttle import retry_after_seconds
from tests.support.targets import Reply, Target


@pytest.mark.parametrize(
    ("reply", "reason", "retry_after"),
    [
        (Reply(429), Reason.THROTTLED, None),
        (Reply(429, headers={"Retry-After": "7"}), Reason.THROTTLED, 7.0),
        (Reply(503, headers={"Retry-After": "120"}), Reason.THROTTLED, 120.0),
        (Reply(503), Reason.STATUS, None),
        (Reply(500, headers={"Retry-After": "5"}), Reason.STATUS, None),
        (Reply(429, headers={"Retry-After": "soon"}), Reason.THROTTLED, None),
    ],
)
async def test_throttling_answers(
    target: Target, prober: HttpProber, reply: Reply, reason: Reason, retry_after: float | None
) -> None:
    target.route("/", reply)

    observation = await prober.observe(HttpCheck(target.url("/")))

    assert (observation.reason, observation.retry_after) == (reason, retry_after)
    assert observation.status == reply.status


async def test_an_expected_429_is_a_success(target: Target, prober: HttpProber) -> None:
    target.route("/", Reply(429))

    observation = await prober.observe(HttpCheck(target.url("/"), expect_status=frozenset({429})))

    assert observation.ok


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = 1_790_000_000.0
    assert retry_after_seconds(formatdate(now + 90, usegmt=True), now) == 90.0
    assert retry_after_seconds(formatdate(now - 90, usegmt=True), now) == 0.0
    assert retry_after_seconds("x" * 100, now) is None
