"""The redaction message of the probe-worker protocol: the credentials a worker obtains at run
time reach the agent's known secrets with its next batch, bounded and rotated per source (one
slot per worker and source), before the batch's results are recorded."""

from __future__ import annotations

import asyncio

from agent.redaction import KnownSecrets
from agent.runtime.probe_worker import BatchTelemetry
from agent.runtime.worker_protocol import (
    MAX_SECRET_BYTES,
    MAX_SECRET_SLOTS,
    MAX_SECRET_VALUES,
    Batch,
    frame,
    read_message,
)
from agent.runtime.workers import ProbeWorkers, WorkerSettings


async def _trip(batch: Batch) -> Batch:
    reader = asyncio.StreamReader()
    reader.feed_data(frame(batch))
    reader.feed_eof()
    message = await read_message(reader)
    assert isinstance(message, Batch)
    return message


async def test_a_batch_carries_each_sources_latest_credential_only() -> None:
    telemetry = BatchTelemetry()
    telemetry.rotate_secret("/var/run/token", ("first-token-aaaa", "Bearer first-token-aaaa"))
    telemetry.rotate_secret("/var/run/token", ("second-token-bbbb", "Bearer second-token-bbbb"))
    telemetry.rotate_secret(("oauth2", "client"), ("oauth-token-cccc",))
    batch = await _trip(telemetry.take())
    assert batch.secrets == {
        "/var/run/token": ("second-token-bbbb", "Bearer second-token-bbbb"),
        ("oauth2", "client"): ("oauth-token-cccc",),
    }
    assert bool(batch)  # a batch with only secrets is sent
    assert telemetry.take().secrets == {}  # each rotation travels once


def test_the_message_is_bounded_in_sources_values_and_length() -> None:
    batch = Batch()
    for i in range(MAX_SECRET_SLOTS + 5):
        batch.rotate_secret(f"source-{i}", (f"token-{i:06d}",))
    assert len(batch.secrets) == MAX_SECRET_SLOTS
    assert "source-0" not in batch.secrets  # the oldest rotations went first
    assert f"source-{MAX_SECRET_SLOTS + 4}" in batch.secrets
    huge = "x" * (MAX_SECRET_BYTES + 1)
    batch.rotate_secret("many", [f"value-{i:04d}" for i in range(10)] + [huge])
    assert len(batch.secrets["many"]) == MAX_SECRET_VALUES
    batch.rotate_secret("huge", [huge, ""])
    assert batch.secrets["huge"] == ()


def _workers(known: KnownSecrets, recorded: list[tuple[str, ...]]) -> ProbeWorkers:
    workers = ProbeWorkers(
        WorkerSettings(count=2, command=("true",)),
        lambda batch: recorded.append(known.values()),  # what the agent knows when it records
    )
    workers.on_secret = known.rotate
    return workers


async def test_the_agent_knows_a_workers_tokens_before_it_records_its_results() -> None:
    known = KnownSecrets()
    recorded: list[tuple[str, ...]] = []
    workers = _workers(known, recorded)
    reader = asyncio.StreamReader()
    for token in ("token-one-1111", "token-two-2222", "token-three-3333"):
        batch = Batch(lags=[0.001])
        batch.rotate_secret("/var/run/token", (token,))
        reader.feed_data(frame(batch))
    reader.feed_eof()
    slot = workers._slots[0]
    await workers._receive(slot, reader)
    assert "token-one-1111" in recorded[0]
    # rotated per source: the current and the previous token, never more
    assert "token-one-1111" not in known.values()
    assert {"token-two-2222", "token-three-3333"} <= set(known.values())


async def test_the_same_source_in_two_workers_keeps_both_tokens() -> None:
    known = KnownSecrets()
    workers = _workers(known, [])
    for index, tokens in enumerate((("w0-a-token", "w0-b-token"), ("w1-a-token",))):
        reader = asyncio.StreamReader()
        for token in tokens:
            batch = Batch()
            batch.rotate_secret("/var/run/token", (token,))
            reader.feed_data(frame(batch))
        reader.feed_eof()
        await workers._receive(workers._slots[index], reader)
    assert {"w0-a-token", "w0-b-token", "w1-a-token"} <= set(known.values())
