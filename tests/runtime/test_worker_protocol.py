"""The agent <-> probe worker frames: results survive the trip unchanged, and a frame over the
limit or of an unknown kind is refused."""

from __future__ import annotations

import asyncio
import pickle
import struct

import pytest

from agent.probes.result import Observation, Outcome, Phases, ProbeResult, Reason
from agent.runtime.worker_protocol import (
    MAX_FRAME,
    Batch,
    ProtocolError,
    Stop,
    decode_result,
    encode_result,
    frame,
    read_message,
)

FULL = ProbeResult(
    "acme-pay",
    "authorize",
    1_700_000_000.25,
    Observation(
        Outcome.FAILURE,
        Reason.THROTTLED,
        0.125,
        status=429,
        phases=Phases(connect=0.001, tls=0.01, first_byte=0.1),
        detail="throttled: Retry-After 5",
        retry_after=5.0,
        cert_not_after=1_800_000_000.0,
    ),
)
BARE = ProbeResult("n", "p", 1.0, Observation(Outcome.SUCCESS, Reason.OK, 0.5))


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


@pytest.mark.parametrize(
    ("result", "trace_id"), [(FULL, "0af7651916cd43dd8448eb211c80319c"), (BARE, None)]
)
async def test_a_result_comes_back_as_it_left(result: ProbeResult, trace_id: str | None) -> None:
    batch = Batch(results=[encode_result(result, trace_id)], lags=[0.002], skipped={"shed": 3})
    message = await read_message(_reader(frame(batch)))
    assert isinstance(message, Batch)
    assert [decode_result(row) for row in message.results] == [(result, trace_id)]
    assert message.lags == [0.002]
    assert message.skipped == {"shed": 3}


async def test_messages_follow_each_other_and_the_end_is_none() -> None:
    reader = _reader(frame(Batch()) + frame(Stop()))
    assert isinstance(await read_message(reader), Batch)
    assert isinstance(await read_message(reader), Stop)
    assert await read_message(reader) is None


async def test_a_frame_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ProtocolError, match="over the limit"):
        await read_message(_reader(struct.pack(">I", MAX_FRAME + 1)))


async def test_something_else_than_a_message_is_refused() -> None:
    body = pickle.dumps({"not": "a message"})
    with pytest.raises(ProtocolError, match="unexpected message dict"):
        await read_message(_reader(struct.pack(">I", len(body)) + body))


async def test_a_truncated_frame_is_the_end_of_the_stream() -> None:
    assert await read_message(_reader(frame(Stop())[:-1])) is None


def test_an_empty_batch_is_false_and_any_content_makes_it_true() -> None:
    assert not Batch()
    assert Batch(lags=[0.0])
    assert Batch(spans_dropped={"queue_full": 1})
