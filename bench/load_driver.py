"""Drive blackbox_exporter's ``/probe`` endpoint at a fixed rate or flat out, over keep-alive.

Runs in its own process (under uvloop) so that its CPU is not counted as the exporter's. It prints
``MEASURE_START`` and ``MEASURE_END`` on stdout when the measurement window opens and closes, so the
parent can read the exporter's CPU at exactly those moments, then one JSON line:
``{"completed": N, "ok": N, "failed": N, "seconds": S, "lag_p99_ms": L}`` for the window.

    python -m bench.load_driver --url URL --rate 2000 --concurrency 64 --warmup 3 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


@dataclass
class _Window:
    start: float = 0.0
    end: float = 0.0
    completed: int = 0
    ok: int = 0
    failed: int = 0
    lags: list[float] = field(default_factory=list)


class _Reply:
    """Collects one response from the parser's callbacks."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.done = False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True


async def _connection(
    host: str, port: int, request: bytes, due: _Due, window: _Window, stop_at: float
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            at = due.next()
            now = time.monotonic()
            if at >= stop_at:
                return
            if at > now:
                await asyncio.sleep(at - now)
            started = time.monotonic()
            writer.write(request)
            reply = _Reply()
            parser = httptools.HttpResponseParser(reply)
            while not reply.done:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionError("exporter closed the connection")
                parser.feed_data(data)
            if window.start <= started < window.end:
                window.completed += 1
                window.lags.append(started - at)
                if parser.get_status_code() == 200 and b"\nprobe_success 1" in reply.body:
                    window.ok += 1
                else:
                    window.failed += 1
    finally:
        writer.close()


class _Due:
    """Hands out request due times: ``rate`` per second from ``t0``, or now when ``rate`` is 0."""

    def __init__(self, t0: float, rate: float) -> None:
        self.t0 = t0
        self.rate = rate
        self.i = 0

    def next(self) -> float:
        if self.rate <= 0:
            return time.monotonic()
        self.i += 1
        return self.t0 + self.i / self.rate


def _mark(line: str) -> None:
    print(line, flush=True)


async def drive(url: str, rate: float, concurrency: int, warmup: float, duration: float) -> _Window:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + ("?" + parts.query if parts.query else "")
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    t0 = time.monotonic()
    window = _Window(start=t0 + warmup, end=t0 + warmup + duration)
    due = _Due(t0, rate)
    loop = asyncio.get_running_loop()
    loop.call_later(warmup, _mark, "MEASURE_START")
    loop.call_later(warmup + duration, _mark, "MEASURE_END")
    conns = [_connection(host, port, request, due, window, window.end) for _ in range(concurrency)]
    await asyncio.gather(*conns)
    await asyncio.sleep(max(0.0, window.end - time.monotonic()) + 0.05)  # MEASURE_END is out
    return window


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--rate", type=float, default=0.0, help="requests/s; 0 = as fast as possible")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--duration", type=float, default=20.0)
    args = ap.parse_args(argv)
    import uvloop

    window = uvloop.run(drive(args.url, args.rate, args.concurrency, args.warmup, args.duration))
    lags = sorted(window.lags)
    p99 = lags[int(0.99 * (len(lags) - 1))] * 1000 if lags else 0.0
    result = {
        "completed": window.completed,
        "ok": window.ok,
        "failed": window.failed,
        "seconds": window.end - window.start,
        "lag_p99_ms": round(p99, 3),
    }
    print(json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
