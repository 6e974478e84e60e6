"""The transport against stock httpx on the HTTP/1.1 response quirks real servers send.

A loopback server replays each canned response below (after reading the request, then it closes,
or resets); a stock ``httpx.AsyncClient`` (its own connection pool, h11), a client on
:class:`FreshConnectionTransport` (llhttp) and one on :class:`CurlTransport` (libcurl, which
HTTPS probes use; over plain HTTP here, its head and body are read the same way over TLS) each
fetch it on a fresh connection. Each must reach httpx's outcome: success with the same status,
reason, version, headers and body, or failure. The differences we accept are listed in
``ACCEPTED`` (and ``ACCEPTED_CURL``) with why; each is checked to still be one.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from dataclasses import dataclass

import httpx
import pytest

from agent.probes.curl_transport import CurlTransport
from agent.probes.transport import FreshConnectionTransport
from tests.support.targets import Behaviour, Garbage, Reset, Target


@dataclass(frozen=True, slots=True)
class Quirk:
    name: str
    data: bytes  # sent after the request is read; then the server closes
    reset: bool = False  # end with a TCP RST instead of a FIN

    @property
    def behaviour(self) -> Behaviour:
        return Reset(self.data) if self.reset else Garbage(self.data)


def _ok(head: bytes, body: bytes = b"hello") -> bytes:
    return b"HTTP/1.1 200 OK\r\n" + head + b"\r\n" + body


_GZ = gzip.compress(b"hello gzip")
_ZL = zlib.compress(b"hello zlib")
_RAW = zlib.compress(b"hello raw deflate")[2:-4]
_CHUNKED = b"Transfer-Encoding: chunked\r\n"

QUIRKS: tuple[Quirk, ...] = (
    # --- status lines ---
    Quirk("plain", _ok(b"Content-Length: 5\r\n")),
    Quirk("no-reason", b"HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello"),
    Quirk("empty-reason", b"HTTP/1.1 200 \r\nContent-Length: 5\r\n\r\nhello"),
    Quirk("reason-with-spaces", b"HTTP/1.1 200 All Is Fine\r\nContent-Length: 2\r\n\r\nok"),
    Quirk("reason-obs-text", b"HTTP/1.1 200 \xc3\x96k\r\nContent-Length: 2\r\n\r\nok"),
    Quirk("http-1.0-close-delimited", b"HTTP/1.0 200 OK\r\n\r\nold body"),
    Quirk("http-1.0-length", b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
    Quirk("status-599", b"HTTP/1.1 599 Odd\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("status-503", b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"),
    Quirk("status-two-digits", b"HTTP/1.1 20 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("status-four-digits", b"HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("status-not-a-number", b"HTTP/1.1 abc OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("version-http2", b"HTTP/2 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("version-lowercase", b"http/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("version-9.9", b"HTTP/9.9 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("double-space-after-version", b"HTTP/1.1  200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("icy", b"ICY 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("garbage", b"\x00\x01\x02 SSH-2.0-not-http \xff\xfe\r\n\r\n"),
    Quirk("nothing", b""),
    Quirk("leading-blank-line", b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    Quirk("status-line-bare-lf", b"HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\nhello"),
    Quirk("no-content-204-with-length", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
    Quirk("not-modified-304", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
    Quirk("continue-then-200", b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"Content-Length: 5\r\n")),
    Quirk(
        "early-hints-then-200",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + _ok(b"Content-Length: 5\r\n"),
    ),
    # --- header forms ---
    Quirk("bare-lf-everywhere", b"HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello"),
    Quirk("mixed-line-endings", b"HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 5\r\n\nhello"),
    Quirk("obs-fold-space", _ok(b"X-Folded: one\r\n two\r\nContent-Length: 5\r\n")),
    Quirk("obs-fold-tab", _ok(b"X-Folded: one\r\n\ttwo\r\nContent-Length: 5\r\n")),
    Quirk("obs-fold-bare-lf", b"HTTP/1.1 200 OK\nX-Folded: one\n two\nContent-Length: 5\n\nhello"),
    Quirk("fold-before-first-header", _ok(b" X-Bad: 1\r\nContent-Length: 5\r\n")),
    Quirk("no-space-after-colon", _ok(b"Content-Length:5\r\nX-A:b\r\n")),
    Quirk("trailing-whitespace-value", _ok(b"Content-Length: 5 \t\r\nX-A: b  \r\n")),
    Quirk("empty-value", _ok(b"X-Empty:\r\nContent-Length: 5\r\n")),
    Quirk("space-before-colon", _ok(b"Content-Length : 5\r\n")),
    Quirk("line-without-colon", _ok(b"Content-Length: 5\r\nNotAHeader\r\n")),
    Quirk("invalid-name-char", _ok(b"X@Y: 1\r\nContent-Length: 5\r\n")),
    Quirk("obs-text-value", _ok(b"X-Name: caf\xe9\r\nContent-Length: 5\r\n")),
    Quirk("nul-in-value", _ok(b"X-A: a\x00b\r\nContent-Length: 5\r\n")),
    Quirk("cr-in-value", _ok(b"X-A: a\rb\r\nContent-Length: 5\r\n")),
    Quirk("mixed-case-names", _ok(b"cOnTeNt-LeNgTh: 5\r\nx-LOWER: 1\r\n")),
    Quirk(
        "many-headers",
        _ok(b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"Content-Length: 5\r\n"),
    ),
    Quirk("long-value-50k", _ok(b"X-Long: " + b"a" * 50_000 + b"\r\nContent-Length: 5\r\n")),
    Quirk(
        "head-over-1mib", _ok(b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(1100)))
    ),
    Quirk("value-over-1mib", _ok(b"X-Long: " + b"a" * 1_200_000 + b"\r\nContent-Length: 5\r\n")),
    # --- content length ---
    Quirk("length-duplicate-equal", _ok(b"Content-Length: 5\r\nContent-Length: 5\r\n")),
    Quirk("length-list-equal", _ok(b"Content-Length: 5, 5\r\n")),
    Quirk("length-duplicate-conflict", _ok(b"Content-Length: 5\r\nContent-Length: 6\r\n")),
    Quirk("length-list-conflict", _ok(b"Content-Length: 5, 6\r\n")),
    Quirk("length-negative", _ok(b"Content-Length: -1\r\n")),
    Quirk("length-not-a-number", _ok(b"Content-Length: abc\r\n")),
    Quirk("length-plus-sign", _ok(b"Content-Length: +5\r\n")),
    Quirk("length-leading-zeros", _ok(b"Content-Length: 005\r\n")),
    Quirk("length-empty", _ok(b"Content-Length:\r\n")),
    Quirk("length-huge", _ok(b"Content-Length: " + b"9" * 30 + b"\r\n")),
    Quirk("length-zero", _ok(b"Content-Length: 0\r\n", b"")),
    Quirk("length-shorter-than-body", _ok(b"Content-Length: 3\r\n", b"hello")),
    Quirk("length-longer-than-body", _ok(b"Content-Length: 50\r\n", b"hello")),
    Quirk("close-delimited", _ok(b"", b"until close")),
    Quirk("close-delimited-empty", _ok(b"", b"")),
    # --- transfer encoding ---
    Quirk("chunked", _ok(_CHUNKED, b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")),
    Quirk("chunked-extension", _ok(_CHUNKED, b"5;name=value\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-trailers", _ok(_CHUNKED, b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")),
    Quirk("chunked-uppercase", _ok(b"Transfer-Encoding: CHUNKED\r\n", b"5\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-ows", _ok(b"Transfer-Encoding:  chunked \r\n", b"5\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-hex-upper", _ok(_CHUNKED, b"A\r\n0123456789\r\n0\r\n\r\n")),
    Quirk("chunked-leading-zeros", _ok(_CHUNKED, b"0005\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-space-after-size", _ok(_CHUNKED, b"5 \r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-bare-lf", _ok(_CHUNKED, b"5\nhello\n0\n\n")),
    Quirk("chunked-no-last-chunk", _ok(_CHUNKED, b"5\r\nhello\r\n")),
    Quirk("chunked-no-final-crlf", _ok(_CHUNKED, b"5\r\nhello\r\n0\r\n")),
    Quirk("chunked-bad-size", _ok(_CHUNKED, b"zz\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-size-overflow", _ok(_CHUNKED, b"1" + b"0" * 30 + b"\r\nhello\r\n0\r\n\r\n")),
    Quirk("chunked-short-data", _ok(_CHUNKED, b"9\r\nhello")),
    Quirk(
        "chunked-and-length", _ok(_CHUNKED + b"Content-Length: 99\r\n", b"5\r\nhello\r\n0\r\n\r\n")
    ),
    Quirk("chunked-twice", _ok(_CHUNKED + _CHUNKED, b"5\r\nhello\r\n0\r\n\r\n")),
    Quirk("te-gzip", _ok(b"Transfer-Encoding: gzip\r\n", _GZ)),
    Quirk(
        "te-gzip-chunked",
        _ok(b"Transfer-Encoding: gzip, chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(_GZ), _GZ)),
    ),
    Quirk("te-identity", _ok(b"Transfer-Encoding: identity\r\nContent-Length: 5\r\n")),
    Quirk("te-chunked-gzip", _ok(b"Transfer-Encoding: chunked, gzip\r\n", _GZ)),
    # --- content encodings (decoded by httpx's own decoders in both clients) ---
    Quirk("ce-gzip", _ok(b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(_GZ), _GZ)),
    Quirk(
        "ce-deflate-zlib",
        _ok(b"Content-Encoding: deflate\r\nContent-Length: %d\r\n" % len(_ZL), _ZL),
    ),
    Quirk(
        "ce-deflate-raw",
        _ok(b"Content-Encoding: deflate\r\nContent-Length: %d\r\n" % len(_RAW), _RAW),
    ),
    Quirk(
        "ce-gzip-chunked",
        _ok(b"Content-Encoding: gzip\r\n" + _CHUNKED, b"%x\r\n%s\r\n0\r\n\r\n" % (len(_GZ), _GZ)),
    ),
    Quirk("ce-gzip-not-gzip", _ok(b"Content-Encoding: gzip\r\nContent-Length: 5\r\n")),
    Quirk("ce-unknown", _ok(b"Content-Encoding: snappy-ish\r\nContent-Length: 5\r\n")),
    Quirk("ce-identity", _ok(b"Content-Encoding: identity\r\nContent-Length: 5\r\n")),
    # --- early close and reset ---
    Quirk("close-after-status-line", b"HTTP/1.1 200 OK\r\n"),
    Quirk("close-mid-header", b"HTTP/1.1 200 OK\r\nContent-Len"),
    Quirk("close-mid-status-line", b"HTTP/1.1 20"),
    Quirk("close-after-headers", _ok(b"Content-Length: 5\r\n", b"")),
    Quirk("reset-before-response", b"", reset=True),
    Quirk("reset-mid-headers", b"HTTP/1.1 200 OK\r\nX-A: ", reset=True),
    Quirk("reset-mid-body", _ok(b"Content-Length: 50\r\n", b"partial"), reset=True),
    Quirk("reset-mid-chunked", _ok(_CHUNKED, b"5\r\nhel"), reset=True),
)

# name -> (what httpx does, what the transport does, why we keep the difference)
ACCEPTED: dict[str, tuple[str, str, str]] = {
    "leading-blank-line": (
        "failure",
        "success",
        "llhttp skips empty lines before the status line, as RFC 9112 section 2.2 asks of a "
        "recipient before a request line and curl does before a response; h11 refuses them",
    ),
    "headers-over-count-limit": (
        "success",
        "failure",
        "a head of more than 5,000 header fields is refused, as curl refuses it: h11 bounds "
        "only the head's size (100 KiB, which holds ~17,000 tiny fields)",
    ),
}

QUIRKS += (
    Quirk("head-90kib", _ok(b"X-Long: " + b"a" * 90 * 1024 + b"\r\nContent-Length: 5\r\n")),
    Quirk("head-150kib", _ok(b"X-Long: " + b"a" * 150 * 1024 + b"\r\nContent-Length: 5\r\n")),
    Quirk(
        "bare-lf-head-150kib",
        b"HTTP/1.1 200 OK\nX-Long: " + b"a" * 150 * 1024 + b"\nContent-Length: 5\n\nhello",
    ),
    Quirk("reason-over-head-limit", b"HTTP/1.1 200 " + b"r" * 300_000 + b"\r\n\r\n"),
    Quirk("headers-under-count-limit", _ok(b"a: b\r\n" * 4000 + b"Content-Length: 5\r\n")),
    Quirk("headers-over-count-limit", _ok(b"a: b\r\n" * 6000 + b"Content-Length: 5\r\n")),
)

# the same for CurlTransport, where libcurl reads a response otherwise than httpx and the
# transport's own checks (agent/probes/curl_exchange.py) do not undo it
ACCEPTED_CURL: dict[str, tuple[str, str, str]] = {
    "headers-over-count-limit": ACCEPTED["headers-over-count-limit"],
    "version-9.9": (
        "success",
        "failure",
        "curl refuses an HTTP version it does not know (HTTP/1.x and 2 are what servers send)",
    ),
    "chunked-bare-lf": (
        "failure",
        "success",
        "curl reads chunk sizes ended by a bare LF, as it reads header lines; h11 refuses them",
    ),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int = 0
    reason: str = ""
    version: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str = ""

    @property
    def kind(self) -> str:
        return "success" if self.ok else "failure"


async def fetch(client: httpx.AsyncClient, url: str) -> Outcome:
    try:
        response = await client.get(url)
    except httpx.RequestError as exc:  # transport and decoding errors
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    headers = tuple(response.headers.multi_items())
    return Outcome(
        True,
        response.status_code,
        response.reason_phrase,
        response.http_version,
        headers,
        response.content,
    )


async def fetch_all() -> dict[str, tuple[Outcome, Outcome, Outcome]]:
    """Every quirk fetched by stock httpx and by the transports: (httpx's, asyncio's, curl's)."""
    results: dict[str, tuple[Outcome, Outcome, Outcome]] = {}
    async with Target({f"/{quirk.name}": quirk.behaviour for quirk in QUIRKS}) as target:
        stock = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
        ours = httpx.AsyncClient(transport=FreshConnectionTransport())
        curl = httpx.AsyncClient(transport=CurlTransport())
        async with stock, ours, curl:
            for quirk in QUIRKS:
                url = target.url(f"/{quirk.name}")
                results[quirk.name] = (
                    await fetch(stock, url),
                    await fetch(ours, url),
                    await fetch(curl, url),
                )
    return results


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[Outcome, Outcome, Outcome]]:
    return asyncio.run(fetch_all())


def test_enough_distinct_quirks() -> None:
    names = [quirk.name for quirk in QUIRKS]
    assert len(set(names)) == len(names) >= 60


@pytest.mark.parametrize("transport", ["asyncio", "curl"])
@pytest.mark.parametrize("quirk", QUIRKS, ids=[quirk.name for quirk in QUIRKS])
def test_same_outcome_as_httpx(
    quirk: Quirk, transport: str, outcomes: dict[str, tuple[Outcome, Outcome, Outcome]]
) -> None:
    theirs, fresh, curl = outcomes[quirk.name]
    ours = curl if transport == "curl" else fresh
    accepted = ACCEPTED_CURL if transport == "curl" else ACCEPTED
    if quirk.name in accepted:
        expected_theirs, expected_ours, _ = accepted[quirk.name]
        assert (theirs.kind, ours.kind) == (expected_theirs, expected_ours), (theirs, ours)
    elif theirs.ok:
        assert ours == theirs
    else:
        assert not ours.ok, ours
