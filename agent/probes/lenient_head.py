"""A response head that ``llhttp`` refuses, parsed again the way httpx parses it (with ``h11``).

``llhttp`` is stricter than httpx and curl about the heads some real servers send: bare-LF line
endings, obs-fold header continuations, the same Content-Length twice (or as ``5, 5``), both
Transfer-Encoding and Content-Length, an HTTP version other than 1.0/1.1. Rather than reimplement
h11's rules, :class:`LenientHead` hands the bytes of such a head to h11 itself (with httpcore's
limit on an incomplete head), so the transport accepts exactly the heads httpx accepts and refuses
the ones it refuses. Only refused heads take this path: well-formed responses never pay for it.

Once h11 has read the head, :meth:`LenientHead.replay` gives ``llhttp`` an equivalent canonical
head (the status line and the body's framing, nothing else) followed by the bytes h11 has not
consumed, so the body is still parsed by ``llhttp``; the headers, reason and version reported are
h11's.
"""

from __future__ import annotations

from dataclasses import dataclass

import h11
import httpx

from agent.probes.not_http import QUOTED_BYTES, NotHttpResponse, is_http_start


@dataclass(frozen=True, slots=True)
class Head:
    """A final response head as h11 read it, and the bytes that followed it."""

    status: int
    reason: bytes
    version: bytes  # b"HTTP/1.1"
    headers: list[tuple[bytes, bytes]]  # names as sent; Content-Length merged as h11 does
    size: int  # bytes of the head (and of any interim responses before it)
    replay: bytes  # a canonical head with the same framing, then the bytes after the head


class LenientHead:
    """Feeds bytes to h11 until the final (non-1xx) response head is complete."""

    def __init__(self, limit: int) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=limit)
        # h11 reads a response only after a request: one it never puts on the wire
        self._h11.send(h11.Request(method="GET", target="/", headers=[("Host", "probe")]))
        self._h11.send(h11.EndOfMessage())
        self._fed = 0
        self.start = b""  # the reply's first bytes, quoted when it is not HTTP at all

    def feed(self, data: bytes) -> Head | None:
        """The head once complete, else None; raises ``httpx.RemoteProtocolError`` for a head
        that httpx would refuse too."""
        conn = self._h11
        self._fed += len(data)
        if len(self.start) < QUOTED_BYTES + 1:
            self.start = (self.start + data)[: QUOTED_BYTES + 1]
        try:
            conn.receive_data(data)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    return None
                if isinstance(event, h11.InformationalResponse) and event.status_code != 101:
                    continue  # interim response: wait for the final one
                if isinstance(event, h11.InformationalResponse | h11.Response):
                    rest = conn.trailing_data[0]
                    return _head(event, rest, self._fed - len(rest))
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__}")
        except h11.RemoteProtocolError as exc:
            if not is_http_start(self.start):
                raise NotHttpResponse(self.start) from exc
            raise httpx.RemoteProtocolError(f"invalid HTTP response: {exc}") from exc


def _head(event: h11.InformationalResponse | h11.Response, rest: bytes, size: int) -> Head:
    headers = [(name, value) for name, value in event.headers.raw_items()]
    framing = b""
    if any(name.lower() == b"transfer-encoding" for name, _ in headers):
        framing = b"Transfer-Encoding: chunked\r\n"  # h11 accepts no other coding
    else:
        length = next((v for n, v in headers if n.lower() == b"content-length"), None)
        if length is not None:
            framing = b"Content-Length: " + length + b"\r\n"
    replay = b"HTTP/1.1 %d -\r\n%s\r\n%s" % (event.status_code, framing, rest)
    version = b"HTTP/" + event.http_version
    return Head(event.status_code, event.reason, version, headers, size, replay)
