"""``${run.uuid}`` and ``${run.time}`` are filled in afresh for every run, in the URL, the
headers and the body."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.run_values import rfc3339
from tests.support.targets import Reply, Target


async def test_every_run_gets_its_own_uuid_everywhere_it_is_written(target: Target) -> None:
    target.route("/pay", Reply(200))
    wall = [1_790_000_000.5]
    prober = HttpProber(wall_clock=lambda: wall[0])
    check = HttpCheck(
        url=target.url("/pay") + "?key=${run.uuid}&at=${run.time}",
        method="POST",
        headers={"Idempotency-Key": "${run.uuid}"},
        body=b'{"reference": "probe-${run.uuid}"}',
    )
    try:
        for _ in range(50):
            assert (await prober.observe(check)).ok
            wall[0] += 1
    finally:
        await prober.aclose()

    keys = []
    for number, request in enumerate(target.requests):
        query = parse_qs(urlsplit(request.target).query)
        key = request.header("idempotency-key")
        assert key is not None
        assert query["key"] == [key]
        assert request.body == f'{{"reference": "probe-{key}"}}'.encode()
        assert uuid.UUID(key).version == 4
        assert query["at"] == [rfc3339(1_790_000_000.5 + number)]
        keys.append(key)
    assert len(set(keys)) == 50


async def test_a_check_without_run_values_is_sent_as_written(
    target: Target, prober: HttpProber
) -> None:
    target.route("/", Reply(200))
    check = HttpCheck(target.url("/"), headers={"X-Literal": "$run.uuid"}, body=b"${other}")

    assert (await prober.observe(check)).ok

    (request,) = target.requests
    assert request.header("x-literal") == "$run.uuid"
    assert request.body == b"${other}"


def test_run_time_is_rfc3339_utc_with_milliseconds() -> None:
    text = rfc3339(1_790_000_000.25)
    assert text == "2026-09-21T14:13:20.250Z"
    assert datetime.fromisoformat(text) == datetime.fromtimestamp(1_790_000_000.25, UTC)
