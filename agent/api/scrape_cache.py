"""``/metrics`` served from memory: a body rendered at most once per ``max_age`` seconds (and
again as soon as the agent's state changed), in a worker thread, gzip-compressed at most once
per body.

At 10,000 SLOs the exposition is ~30 MB; rendering it on the event loop for every scrape delayed
every probe due meanwhile (issue 14). Here a scrape waits for a render in a thread (the loop
goes on probing between the thread's slices of the interpreter); concurrent scrapes, or two
Prometheus replicas scraping within ``max_age``, share one render. The counters and histograms
served are at most ``max_age`` old; the gauges of a new evaluation show on the next scrape.
After ``max_age`` the body is dropped (:meth:`ScrapeCache.expire`, scheduled by the scrape), so
between scrapes none is held.
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
    ) -> None:
        self._render = render
        self._clock = clock
        self._max_age = max_age
        self._version = version
        self._lock = threading.Lock()
        self._body = b""
        self._gzipped: bytes | None = None
        self._rendered_at: float | None = None
        self._rendered_version: object = None
        self.renders = 0  # how many times the body was rendered (for the tests and the bench)

    def body(self, compressed: bool = False) -> bytes:
        """The current body (gzip member when ``compressed``); blocking: call it in a thread."""
        with self._lock:
            now, version = self._clock(), self._version()
            stale = (
                self._rendered_at is None
                or now - self._rendered_at >= self._max_age
                or now < self._rendered_at
                or version != self._rendered_version
            )
            if stale:
                self._body, self._gzipped = b"", None  # the old body goes before the new comes
                self._body = self._render()
                self._gzipped = None
                self._rendered_at, self._rendered_version = now, version
                self.renders += 1
            if not compressed:
                return self._body
            if self._gzipped is None:
                self._gzipped = gzip.compress(self._body, compresslevel=GZIP_LEVEL, mtime=0)
            return self._gzipped

    def expire(self) -> bool:
        """Drop a body older than ``max_age`` (no scrape will be served it again): at 10,000
        SLOs ~30 MB per format, held between scrapes for nothing. Never waits: a render in
        progress keeps its body (True when a body was dropped)."""
        if not self._lock.acquire(blocking=False):
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
