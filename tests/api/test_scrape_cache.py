"""/metrics from memory: one render per max_age (or state change), shared by concurrent scrapes,
gzipped for scrapers that accept it, in both formats."""

from __future__ import annotations

import asyncio
import gzip
import threading

import httpx
import pytest

from agent.api.app import create_app
from agent.api.scrape_cache import ScrapeCache, accepts_gzip
from agent.api.server import AppServer
from tests.support.fakes import StaticView


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Renders:
    """A render that says how often it ran, each body different."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.count = 0

    def __call__(self) -> bytes:
        self.count += 1
        return self.prefix + b"# render %d\n" % self.count + b"x 1.0\n" * 500


def test_a_body_is_rendered_once_per_max_age_and_again_on_a_state_change() -> None:
    clock, render, state = FakeClock(100.0), Renders(b""), ["a"]
    cache = ScrapeCache(render, clock=clock, max_age=1.0, version=lambda: state[0])
    first = cache.body()
    assert cache.body() is first
    assert cache.body(compressed=True)
    clock.advance(0.9)
    assert cache.body() is first
    assert render.count == 1
    clock.advance(0.1)  # max_age reached: the counters are rendered afresh
    assert cache.body() != first
    assert render.count == 2
    state[0] = "b"  # a new snapshot: no waiting for max_age
    assert cache.body().startswith(b"# render 3")
    assert render.count == cache.renders == 3


def test_a_body_is_held_only_until_max_age_then_dropped() -> None:
    clock, render = FakeClock(100.0), Renders(b"")
    cache = ScrapeCache(render, clock=clock, max_age=1.0)
    plain, packed = cache.body(), cache.body(compressed=True)
    assert cache.held_bytes == len(plain) + len(packed)
    clock.advance(0.5)
    assert not cache.expire()  # still served to a scrape within max_age
    assert cache.body() is plain
    clock.advance(0.5)
    assert cache.expire()
    assert cache.held_bytes == 0
    assert not cache.expire()  # nothing left to drop
    assert cache.body().startswith(b"# render 2")  # the next scrape renders afresh
    assert render.count == 2


def test_renders_never_hold_more_than_the_latest_body() -> None:
    clock, render = FakeClock(0.0), Renders(b"")
    cache = ScrapeCache(render, clock=clock, max_age=1.0)
    held = []
    for _ in range(20):
        body = cache.body()
        packed = cache.body(compressed=True)
        held.append(cache.held_bytes)
        assert cache.held_bytes == len(body) + len(packed)  # the latest pair, nothing older
        clock.advance(1.0)
    assert render.count == 20
    assert max(held) <= min(held) + 64  # bodies differ only in their render number


def test_the_gzipped_body_is_the_plain_one_compressed() -> None:
    cache = ScrapeCache(Renders(b""), clock=FakeClock(0.0))
    plain, packed = cache.body(), cache.body(compressed=True)
    assert gzip.decompress(packed) == plain
    assert len(packed) < len(plain) / 10
    assert cache.body(compressed=True) is packed  # compressed once per body


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("gzip", True),
        ("gzip, deflate", True),
        ("deflate, gzip;q=0.5", True),
        ("*", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("deflate", False),
        ("", False),
        ("identity", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding(header: str, ok: bool) -> None:
    assert accepts_gzip(header) is ok


async def test_the_endpoint_serves_both_formats_plain_and_gzipped() -> None:
    text, openmetrics = Renders(b"# text\n"), Renders(b"# openmetrics\n")
    app = create_app(
        StaticView(),
        text,
        "text/plain; version=0.0.4",
        openmetrics=openmetrics,
        clock=FakeClock(0.0),
    )
    om = {"Accept": "application/openmetrics-text; version=1.0.0"}
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        plain = await client.get("/metrics", headers={"Accept-Encoding": "identity"})
        packed = await client.get("/metrics", headers={"Accept-Encoding": "gzip"})
        om_packed = await client.get("/metrics", headers={**om, "Accept-Encoding": "gzip"})
        headers = {"Accept-Encoding": "gzip"}
        async with client.stream("GET", "/metrics", headers=headers) as raw:
            wire = b"".join([chunk async for chunk in raw.aiter_raw()])
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.content.startswith(b"# text\n# render 1\n")
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx decodes it: the same body, rendered once
    assert text.count == 1
    assert om_packed.headers["content-type"].startswith("application/openmetrics-text")
    assert om_packed.content.startswith(b"# openmetrics\n# render 1\n")
    assert openmetrics.count == 1
    assert gzip.decompress(wire) == plain.content
    assert len(wire) < len(plain.content) / 10


def _until_rendered(cache: ScrapeCache) -> None:
    for _ in range(3000):  # at most 30 s
        if not cache.refreshing:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the background render did not finish")


class GatedRenders(Renders):
    """A render that, once the gate is armed, waits for it to open (a render in progress)."""

    def __init__(self) -> None:
        super().__init__(b"")
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self) -> bytes:
        if self.gate is not None:
            self.entered.set()
            assert self.gate.wait(30)
        return super().__call__()


def test_in_the_background_a_stale_body_is_served_while_the_next_renders() -> None:
    clock, render, state = FakeClock(100.0), GatedRenders(), ["a"]
    cache = ScrapeCache(render, clock=clock, max_age=1.0, version=lambda: state[0], background=True)
    first = cache.body()  # the first scrape waits: there is no body yet
    assert render.count == 1
    assert not cache.refresh()  # fresh: nothing to render
    render.gate = threading.Event()
    clock.advance(1.0)
    assert cache.body() is first  # stale: served as it is ...
    assert render.count == 1  # ... and nothing renders while it is sent
    assert cache.refresh()  # once it is sent, the next body renders
    assert render.entered.wait(30)
    assert cache.refreshing
    state[0] = "b"
    assert not cache.refresh()  # one render at a time
    assert cache.body() is first  # scrapes never wait for it
    assert cache.body(compressed=True) == gzip.compress(first, compresslevel=1, mtime=0)
    render.gate.set()
    _until_rendered(cache)
    second = cache.body()  # the render the first stale scrape started
    assert second.startswith(b"# render 2")
    # it read the state "a": the state changed since, so the next refresh renders again
    assert cache.refresh()
    _until_rendered(cache)
    assert cache.body().startswith(b"# render 3")
    assert cache.renders == render.count == 3


def test_in_the_background_gzip_scrapes_get_a_body_compressed_beforehand() -> None:
    clock, render = FakeClock(100.0), Renders(b"")
    cache = ScrapeCache(render, clock=clock, max_age=1.0, background=True)
    cache.body(compressed=True)
    clock.advance(1.0)
    cache.body(compressed=True)
    assert cache.refresh()
    _until_rendered(cache)
    held = cache.held_bytes  # before any scrape asked for the new body
    packed, plain = cache.body(compressed=True), cache.body()
    assert plain.startswith(b"# render 2")
    assert held == len(plain) + len(packed)  # compressed by the render, not by the scrape
    assert gzip.decompress(packed) == plain


async def test_a_stale_scrape_starts_the_next_render_once_answered() -> None:
    clock, render = FakeClock(0.0), Renders(b"")
    app = create_app(
        StaticView(),
        render,
        "text/plain; version=0.0.4",
        clock=clock,
        metrics_background=True,
    )
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        first = await client.get("/metrics")
        assert render.count == 1  # the first scrape waits for its render
        clock.advance(5.0)
        stale = await client.get("/metrics")
        assert stale.content == first.content  # served as it was
        for _ in range(3000):  # the render it started once answered, at most 30 s
            if render.count == 2:
                break
            await asyncio.sleep(0.01)
        assert render.count == 2
        third = await client.get("/metrics")
        assert third.content.startswith(b"# render 2")
        assert render.count == 2  # fresh: served without a render
