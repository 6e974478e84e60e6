"""The failure detail of a reply that is not HTTP at all (an SSH or SMTP banner, a TLS server
answering plain text, a database port): one short line quoting the start of what came back,
``not an HTTP response: got b'SSH-2.0-OpenSSH_9.2p1'``, instead of the parser's own wording.

The fresh-connection transport raises :class:`NotHttpResponse` itself
(:class:`agent.probes.lenient_head.LenientHead`); httpx's own transport (proxies, HTTP/2) words
it as h11 does (``illegal status line: bytearray(b'...')``), which :func:`not_http_detail`
reads back. The quote is the first line, at most :data:`QUOTED_BYTES` bytes, as a bytes literal
(control bytes escaped), so it stays one bounded line."""

from __future__ import annotations

import ast
import re

import httpx

from agent.probes.details import causes

QUOTED_BYTES = 32  # bytes of the reply quoted in the detail
_H11_STATUS_LINE = re.compile(r"illegal status line: bytearray\((b(['\"]).*\2)\)", re.DOTALL)


def quoted(start: bytes) -> str:
    """The first line of ``start``, at most QUOTED_BYTES bytes, as a bytes literal."""
    line = re.split(rb"[\r\n]", start, maxsplit=1)[0]
    text = repr(line[:QUOTED_BYTES])
    return text + "…" if len(line) > QUOTED_BYTES else text


def detail_of(start: bytes) -> str:
    return f"not an HTTP response: got {quoted(start)}"


class NotHttpResponse(httpx.RemoteProtocolError):
    """The reply did not start with an HTTP status line; ``start`` is its first bytes."""

    def __init__(self, start: bytes) -> None:
        super().__init__(detail_of(start))
        self.start = start


def is_http_start(data: bytes) -> bool:
    """Whether ``data`` (the first bytes of a reply) may still begin an HTTP/1 status line."""
    prefix = data[:5]
    return b"HTTP/".startswith(prefix) if len(prefix) < 5 else prefix == b"HTTP/"


def not_http_detail(exc: BaseException) -> str | None:
    """The detail for ``exc`` when it says the reply was not HTTP, else None."""
    for cause in causes(exc):
        if isinstance(cause, NotHttpResponse):
            return str(cause)
        found = _H11_STATUS_LINE.search(str(cause))
        if found is not None:
            try:
                start = ast.literal_eval(found.group(1))
            except (ValueError, SyntaxError):
                return None
            if isinstance(start, bytes) and not is_http_start(start):
                return detail_of(start)
    return None


__all__ = ["QUOTED_BYTES", "NotHttpResponse", "detail_of", "is_http_start", "not_http_detail"]
