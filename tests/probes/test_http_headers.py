"""Per-probe extra headers (``traceparent``) sent over the check's own."""

from __future__ import annotations

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from tests.support.targets import Reply, Target

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_extra_headers_are_sent_and_override_the_checks(
    target: Target, prober: HttpProber
) -> None:
    target.route("/", Reply(200))
    check = HttpCheck(url=target.url("/"), headers={"X-Route": "primary", "X-Keep": "yes"})

    observation = await prober.observe(
        check, headers={"traceparent": TRACEPARENT, "x-route": "backup"}
    )

    assert observation.ok
    (request,) = target.requests
    assert request.header("traceparent") == TRACEPARENT
    assert [value for name, value in request.headers if name == "x-route"] == ["backup"]
    assert request.header("x-keep") == "yes"


async def test_extra_headers_do_not_stick_to_the_cached_check(
    target: Target, prober: HttpProber
) -> None:
    target.route("/", Reply(200))
    check = HttpCheck(url=target.url("/"), headers={"X-Route": "primary"})

    await prober.observe(check, headers={"traceparent": TRACEPARENT, "X-Route": "backup"})
    await prober.observe(check)

    first, second = target.requests
    assert first.header("x-route") == "backup"
    assert second.header("traceparent") is None
    assert second.header("x-route") == "primary"


async def test_an_unsendable_extra_header_is_an_error_result(
    target: Target, prober: HttpProber
) -> None:
    observation = await prober.observe(
        HttpCheck(url=target.url("/")), headers={"X-Bad": "line\nbreak"}
    )

    assert not observation.ok
    assert observation.reason.value == "error"
    assert not target.requests
