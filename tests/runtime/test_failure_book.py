"""The runtime's last failure per probe, fed with what a real prober saw of a real target:
secrets the agent learnt at run time (an OAuth token) redacted, details bounded, trace ids
kept, and probes gone from the specs forgotten."""

from __future__ import annotations

import logging
import time

import pytest

from agent.model import HttpCheck
from agent.probes.details import MAX_DETAIL
from agent.probes.http import HttpProber
from agent.probes.result import Observation, Outcome, ProbeResult, Reason
from agent.runtime.failures import NO_DETAIL, FailureBook
from tests.support.builders import node, spec_set
from tests.support.targets import Target, json_reply

TOKEN = "canary-oauth-token-77d2a1"  # learnt at run time: not among the check's headers


async def observe(target: Target, expected: str) -> Observation:
    prober = HttpProber()
    try:
        return await prober.observe(HttpCheck(target.url("/"), json_equals={"$.session": expected}))
    finally:
        await prober.aclose()


async def test_a_secret_learnt_at_run_time_never_reaches_a_detail_or_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agent.runtime.failures")
    book = FailureBook(secrets=lambda: (TOKEN,))
    async with Target({"/": json_reply({"session": TOKEN})}) as target:
        observation = await observe(target, "x" * 500)
    assert TOKEN in observation.detail  # the prober could not know it

    book.record(ProbeResult("pay", "charge", time.time(), observation), trace_id="4bf92f35")

    [failure] = book.last()
    assert failure.detail == f'$.session: expected "{"x" * 78}…, got "REDACTED"'
    assert failure.trace_id == "4bf92f35"
    assert TOKEN not in caplog.text
    assert caplog.messages == [f"probe pay/charge failing: assertion: {failure.detail}"]


def test_details_are_bounded_and_never_empty() -> None:
    book = FailureBook()
    long = Observation(Outcome.FAILURE, Reason.ERROR, 0.1, detail="word " * 200)
    empty = Observation(Outcome.FAILURE, Reason.ERROR, 0.1)

    book.record(ProbeResult("a", "p", 1.0, long))
    book.record(ProbeResult("b", "p", 1.0, empty))

    first, second = book.last()
    assert len(first.detail) == MAX_DETAIL
    assert first.detail.endswith("…")
    assert second.detail == NO_DETAIL


def test_probes_gone_from_the_specs_are_forgotten() -> None:
    book = FailureBook()
    failed = Observation(Outcome.FAILURE, Reason.STATUS, 0.1, status=503, detail="HTTP 503")
    for name in ("kept", "gone"):
        book.record(ProbeResult(name, "authorize", 1.0, failed))
    specs = spec_set(node("kept"))

    assert [(f.node, f.probe) for f in book.of(specs)] == [("kept", "authorize")]
    assert [f.node for f in book.last()] == ["kept"]


async def test_a_secret_learnt_after_the_failure_is_redacted_from_the_book() -> None:
    """A probe worker's token may reach the agent after a detail quoting it (another worker's
    probe): the next read of the book redacts it."""
    known: list[str] = []
    book = FailureBook(secrets=lambda: tuple(known))
    async with Target({"/": json_reply({"session": TOKEN})}) as target:
        observation = await observe(target, "expected")
    specs = spec_set(node("pay"))
    probe = specs.nodes[0].probes[0].name
    book.record(ProbeResult("pay", probe, time.time(), observation))
    [before] = book.of(specs)
    assert TOKEN in before.detail
    known.append(TOKEN)  # the worker's batch with the token arrives
    [after] = book.of(specs)
    assert after.detail == before.detail.replace(TOKEN, "REDACTED")
    assert after.failing
