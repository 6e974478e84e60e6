"""A response body read as httpx decodes it, but never past a limit on its decoded size.

httpx inflates each chunk from the wire in one call: 64 KiB of gzip from a hostile target
becomes 64 MiB in memory before anyone can count it. :func:`read_body` reads the raw body and
inflates it with zlib's ``max_length``, :data:`PIECE` bytes at a time, stopping as soon as
the decoded size passes the limit; a gzip bomb costs at most the limit plus one piece.

Content-Encoding is honoured as httpx does: ``gzip`` and ``deflate`` (zlib-wrapped or raw),
stacked encodings undone in reverse order, ``identity`` and encodings httpx does not decode
(``br``, ``zstd`` without their optional packages) passed through as they are. A stream that
does not inflate raises ``httpx.DecodingError``, as httpx would.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncGenerator, Iterable, Iterator
from typing import cast

import httpx

PIECE = 64 * 1024  # most bytes inflated in one step


class _Inflater:
    """One zlib stage; ``decode`` yields at most PIECE bytes per step, lazily."""

    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._zlib = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback  # deflate: try zlib-wrapped first, then raw (httpx)

    def decode(self, data: bytes) -> Iterator[bytes]:
        while data and not self._zlib.eof:  # bytes after the end of the stream are ignored
            try:
                piece = self._zlib.decompress(data, PIECE)
            except zlib.error as exc:
                if not self._raw_fallback:
                    raise httpx.DecodingError(str(exc)) from exc
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = b""
            else:
                data = self._zlib.unconsumed_tail
            self._raw_fallback = False
            if piece:
                yield piece

    def finish(self) -> Iterator[bytes]:
        if not self._zlib.eof:
            try:
                tail = self._zlib.flush()
            except zlib.error as exc:  # pragma: no cover - zlib's flush does not check
                raise httpx.DecodingError(str(exc)) from exc
            if tail:
                yield tail


_STAGES = {
    "gzip": lambda: _Inflater(zlib.MAX_WBITS | 16),
    "deflate": lambda: _Inflater(zlib.MAX_WBITS, raw_fallback=True),
}


def _stages(headers: httpx.Headers) -> list[_Inflater]:
    """The inflaters for the Content-Encoding, outermost first (the reverse of listing)."""
    names = (value.strip().lower() for value in headers.get_list("content-encoding", True))
    stages = [_STAGES[name]() for name in names if name in _STAGES]
    return stages[::-1]


def _decoded(stages: list[_Inflater], chunk: bytes) -> Iterable[bytes]:
    pieces: Iterable[bytes] = (chunk,)
    for stage in stages:
        pieces = _through(stage, pieces)
    return pieces


def _finished(stages: list[_Inflater]) -> Iterable[bytes]:
    pieces: Iterable[bytes] = ()
    for stage in stages:
        pieces = _through(stage, pieces, finish=True)
    return pieces


def _through(stage: _Inflater, pieces: Iterable[bytes], *, finish: bool = False) -> Iterator[bytes]:
    for piece in pieces:
        yield from stage.decode(piece)
    if finish:
        yield from stage.finish()


async def read_body(response: httpx.Response, limit: int, *, keep: bool) -> bytes | None:
    """The decoded body (``b""`` unless ``keep``), or None once it is larger than ``limit``
    bytes; reading stops there, with at most ``limit`` + :data:`PIECE` bytes decoded."""
    if response.is_stream_consumed:  # a transport that answered with a body already read
        content = response.content
        return None if len(content) > limit else content if keep else b""
    stages = _stages(response.headers)
    size = 0
    parts: list[bytes] = []
    # httpx types it as an iterator; it is a generator, closed here when left early
    raw = cast("AsyncGenerator[bytes, None]", response.aiter_raw())
    async with contextlib.aclosing(raw) as chunks:
        async for chunk in chunks:
            for piece in _decoded(stages, chunk) if stages else (chunk,):
                size += len(piece)
                if size > limit:
                    return None
                if keep:
                    parts.append(piece)
    for piece in _finished(stages):
        size += len(piece)
        if size > limit:
            return None
        if keep:
            parts.append(piece)
    return b"".join(parts)
