"""What the agent and its probe worker processes say to each other over their socket pair.

Frames are a 4-byte big-endian length and a pickle; both ends are this program's own
processes, connected by a ``socketpair`` the agent made (nothing else can write to it). A
frame longer than :data:`MAX_FRAME` is refused, so a confused peer cannot make the other end
allocate without bound.

Agent -> worker: :class:`Assign` (the validated specs, which worker it is of how many: it runs
the probe jobs :func:`agent.schedule.partition.worker_of` gives it), again on every reload;
:class:`Stop`. Worker -> agent: :class:`Batch` every :data:`BATCH_INTERVAL` seconds: the
results of the runs since the last one, compact (:func:`encode_result`), the scheduler's lags
and skipped runs, and the span exporter's counts. The agent records the results exactly as
it records its own (store, metrics, certificates), so both modes mean the same.

Secrets: the specs carry expanded header values and the results carry the prober's ``detail``
line (already redacted by the prober); both stay in process memory and the socket. Neither
end logs a frame. A worker obtains credentials at run time (bearer token files, OAuth2
tokens) that the agent's specs do not hold, so each batch also carries the run-time secrets
rotated since the last one (:attr:`Batch.secrets`: the latest values per source, at most
:data:`MAX_SECRET_SLOTS` sources, :data:`MAX_SECRET_VALUES` values of at most
:data:`MAX_SECRET_BYTES` characters each); the agent adds them to its own known secrets
(:meth:`agent.redaction.KnownSecrets.rotate`, one slot per worker and source) before it records
the batch's results, so the failure details it shows and the lines it logs are redacted of
them as in one process.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from agent.model import SpecSet
from agent.probes.result import Observation, Outcome, Phases, ProbeResult, Reason

MAX_FRAME = 256 * 1024 * 1024  # bytes; a spec set is at most a few spec files of 4 MiB
BATCH_INTERVAL = 0.05  # seconds between a worker's batches (results wait at most this long)
MAX_PENDING = 50_000  # results a worker holds while the agent does not read; more are shed
# results in one frame: after a backlog a worker sends several frames rather than pickling
# (and the agent recording) tens of thousands at once; 2,000 take a few ms either side
MAX_BATCH_RESULTS = 2_000
MAX_SECRET_SLOTS = 1024  # run-time credential sources one batch carries (as KnownSecrets keeps)
MAX_SECRET_VALUES = 4  # spellings of one source's credential (a token, "Bearer <token>")
MAX_SECRET_BYTES = 64 * 1024  # characters of one value (as a token file or endpoint answer)
_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """A frame that is too long or not one of the messages below."""


@dataclass(frozen=True, slots=True)
class Assign:
    specs: SpecSet  # the agent's owned specs (after --shard)
    index: int  # this worker's place among ``workers``
    workers: int


@dataclass(frozen=True, slots=True)
class Stop:
    pass


EncodedResult = tuple[Any, ...]


@dataclass(slots=True)
class Batch:
    results: list[EncodedResult] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)  # seconds, one per run started
    skipped: dict[str, int] = field(default_factory=dict)  # runs by reason (incl. "shed")
    spans_exported: int = 0
    spans_dropped: dict[str, int] = field(default_factory=dict)  # spans by reason
    export_failures: dict[str, int] = field(default_factory=dict)  # failures by exporter
    # run-time credentials rotated since the last batch: source slot -> its current values
    secrets: dict[Hashable, tuple[str, ...]] = field(default_factory=dict)

    def rotate_secret(self, slot: Hashable, values: Iterable[str]) -> None:
        """Carry ``slot``'s new credential (its latest values only; bounded as said above)."""
        kept = tuple(v for v in values if isinstance(v, str) and 0 < len(v) <= MAX_SECRET_BYTES)
        if slot not in self.secrets and len(self.secrets) >= MAX_SECRET_SLOTS:
            self.secrets.pop(next(iter(self.secrets)))  # the oldest rotation goes first
        self.secrets.pop(slot, None)
        self.secrets[slot] = kept[:MAX_SECRET_VALUES]

    def __bool__(self) -> bool:
        return bool(
            self.secrets
            or self.results
            or self.lags
            or self.skipped
            or self.spans_exported
            or self.spans_dropped
            or self.export_failures
        )


Message = Assign | Stop | Batch
M = TypeVar("M")


def encode_result(result: ProbeResult, trace_id: str | None) -> EncodedResult:
    """A result as a flat tuple (pickles several times faster than the dataclasses)."""
    o = result.observation
    p = o.phases
    return (
        result.node,
        result.probe,
        result.started_at,
        o.outcome.value,
        o.reason.value,
        o.duration,
        o.status,
        p.connect,
        p.tls,
        p.first_byte,
        o.detail,
        o.retry_after,
        o.cert_not_after,
        trace_id,
    )


def decode_result(row: EncodedResult) -> tuple[ProbeResult, str | None]:
    """The inverse of :func:`encode_result`."""
    (node, probe, started, outcome, reason, duration, status, connect, tls, first_byte) = row[:10]
    detail, retry_after, cert_not_after, trace_id = row[10:]
    observation = Observation(
        Outcome(outcome),
        Reason(reason),
        duration,
        status=status,
        phases=Phases(connect, tls, first_byte),
        detail=detail,
        retry_after=retry_after,
        cert_not_after=cert_not_after,
    )
    return ProbeResult(node, probe, started, observation), trace_id


def frame(message: object) -> bytes:
    """``message`` as one frame (a message of this module, or of another exchange over the
    same framing: :mod:`agent.runtime.replay_process`)."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"a {type(message).__name__} of {len(body)} bytes is over the limit")
    return _LENGTH.pack(len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    """The next message; None at the end of the stream (the peer closed or died)."""
    try:
        head = await reader.readexactly(_LENGTH.size)
    except asyncio.IncompleteReadError:
        return None
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"a frame of {length} bytes is over the limit of {MAX_FRAME}")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    return cast(Message, load(body, (Assign, Stop, Batch)))  # checked against the kinds


def load(body: bytes, kinds: tuple[type[M], ...]) -> M:
    """The message in a frame's ``body``; ProtocolError unless it is one of ``kinds``."""
    try:
        message = pickle.loads(body)
    except Exception as exc:  # a truncated or foreign pickle
        raise ProtocolError(f"a frame that is not a message ({exc})") from exc
    if not isinstance(message, kinds):
        raise ProtocolError(f"unexpected message {type(message).__name__}")
    return message


def receive(sock: socket.socket, kinds: tuple[type[M], ...]) -> M | None:
    """The next message on a blocking ``sock`` (one of ``kinds``); None at the end of the
    stream (the peer closed or died)."""
    head = _exactly(sock, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"a frame of {length} bytes is over the limit of {MAX_FRAME}")
    body = _exactly(sock, length)
    return None if body is None else load(body, kinds)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


__all__ = [
    "BATCH_INTERVAL",
    "MAX_BATCH_RESULTS",
    "MAX_FRAME",
    "MAX_PENDING",
    "MAX_SECRET_BYTES",
    "MAX_SECRET_SLOTS",
    "MAX_SECRET_VALUES",
    "Assign",
    "Batch",
    "EncodedResult",
    "Message",
    "ProtocolError",
    "Stop",
    "decode_result",
    "encode_result",
    "frame",
    "load",
    "read_message",
    "receive",
]
