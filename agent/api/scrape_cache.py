"""``/metrics`` served from memory: a body rendered at most once per ``max_age`` seconds (and
again as soon as the agent's state changed), in a worker thread, gzip-compressed at most once
per body.

At 10,000 SLOs the exposition is ~30 MB; rendering it on the event loop for every scrape delayed
every probe due meanwhile (issue 14). Here a scrape waits for a render in a thread (the loop
goes on probing between the thread's slices of the interpreter); concurrent scrapes, or two
Prometheus replicas scraping within ``max_age``, share one render. The counters and histograms
served are at most ``max_age`` old; the gauges of a new evaluation show on the next scrape.

With ``background`` (the agent with probe workers, where a render competes for the interpreter
with the recording of thousands of worker results a second) a scrape never waits for a render
once there is a body: a stale body (older than ``max_age``, or of an older state) is served as
it is, and once it is sent (:meth:`ScrapeCache.refresh`, so that the render does not slow the
sending of ~30 MB) one render starts in a daemon thread, for the next scrape; when the scrapes
ask for gzip, that thread compresses the new body too, so no scrape waits for a compression
either. The body then holds the counters as of the scrape before (the exposition says when they
were read); only the first scrape waits.

Otherwise, after ``max_age`` the body is dropped (:meth:`ScrapeCache.expire`, scheduled by the
scrape), so between scrapes none is held. (In background mode the body is kept: it is what the
next scrape is served.)
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable

DEFAULT_MAX_AGE = 1.0  # seconds a rendered body is served again (README, "/metrics")
GZIP_LEVEL = 1  # the exposition compresses ~20:1 at level 1, at a fraction of level 6's CPU


class ScrapeCache:
    """One exposition format's latest body, plain and gzipped."""

    def __init__(
        self,
        render: Callable[[], bytes],
        *,
        clock: Callable[[], float],
        max_age: float = DEFAULT_MAX_AGE,
        version: Callable[[], object] = lambda: None,
        background: bool = False,
    ) -> None:
        self._render = render
        self._background = background
        self._refreshing = False  # a background render is under way
        self._clock = clock
        self._max_age = max_age
        self._version = version
        self._lock = threading.Lock()
        self._body = b""
        self._gzipped: bytes | None = None
        self._rendered_at: float | None = None
        self._rendered_version: object = None
        self._compressing = False  # the last scrape asked for gzip: background renders compress
        self.renders = 0  # how many times the body was rendered (for the tests and the bench)

    def body(self, compressed: bool = False) -> bytes:
        """The current body (gzip member when ``compressed``); blocking: call it in a thread.
        In background mode a stale body is served as it is: call :meth:`refresh` once it is
        sent."""
        with self._lock:
            self._compressing = compressed
            now, version = self._clock(), self._version()
            if self._stale(now, version) and (not self._background or self._rendered_at is None):
                self._body, self._gzipped = b"", None  # the old body goes before the new comes
                self._store(self._render(), None, now, version)
            if not compressed:
                return self._body
            if self._gzipped is None:
                self._gzipped = _compress(self._body)
            return self._gzipped

    def refresh(self) -> bool:
        """In background mode, start rendering the next body in a daemon thread when the one
        held is stale and no render is under way (True when one started); never waits."""
        with self._lock:
            if not self._background or self._refreshing:
                return False
            if not self._stale(self._clock(), self._version()):
                return False
            self._refreshing = True
        threading.Thread(target=self._refresh, name="metrics-render", daemon=True).start()
        return True

    def _stale(self, now: float, version: object) -> bool:
        """The body held is older than ``max_age`` or of an older state (under the lock)."""
        return (
            self._rendered_at is None
            or now - self._rendered_at >= self._max_age
            or now < self._rendered_at
            or version != self._rendered_version
        )

    def _store(self, body: bytes, gzipped: bytes | None, at: float, version: object) -> None:
        """Keep a new body (the caller holds the lock)."""
        self._body, self._gzipped = body, gzipped
        self._rendered_at, self._rendered_version = at, version
        self.renders += 1

    def _refresh(self) -> None:
        """A render in the background thread (and its compression, when the scrapes ask for
        gzip); scrapes meanwhile get the body before it."""
        try:
            at, version = self._clock(), self._version()
            body = self._render()
            gzipped = _compress(body) if self._compressing else None
            with self._lock:
                self._store(body, gzipped, at, version)
        finally:
            with self._lock:
                self._refreshing = False

    @property
    def refreshing(self) -> bool:
        """A background render is under way."""
        with self._lock:
            return self._refreshing

    def expire(self) -> bool:
        """Drop a body older than ``max_age`` (no scrape will be served it again): at 10,000
        SLOs ~30 MB per format, held between scrapes for nothing. Never waits: a render in
        progress keeps its body (True when a body was dropped). In background mode the body
        is kept: the next scrape is served it while the next one renders."""
        if self._background or not self._lock.acquire(blocking=False):
            return False
        try:
            if self._rendered_at is None or self._clock() - self._rendered_at < self._max_age:
                return False
            self._body, self._gzipped, self._rendered_at = b"", None, None
            return True
        finally:
            self._lock.release()

    @property
    def held_bytes(self) -> int:
        """Bytes of rendered bodies held now (plain and gzipped)."""
        return len(self._body) + len(self._gzipped or b"")


def _compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``gzip`` or ``*``, not ``q=0``)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


__all__ = ["DEFAULT_MAX_AGE", "ScrapeCache", "accepts_gzip"]
