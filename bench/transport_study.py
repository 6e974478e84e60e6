"""Which httpx transport probes cheapest? CPU per probe and probes/s, fresh connection per probe.

Each configuration runs in its own process against the same nginx target, a fixed number of
probes in flight, as fast as it can, under the default asyncio loop and under uvloop.
blackbox_exporter, driven flat out against the same target in the same run, is the yardstick.

    python -m bench.transport_study                       # all configurations, 15 s each
    python -m bench.transport_study --duration 5 --only httpx-fresh
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from agent.probes.transport import FreshConnectionTransport
from bench.harness import Row, markdown_row, markdown_table, measure_blackbox
from bench.targets import HEALTH_BODY, REPO, BlackboxExporter, Nginx, ensure_installed

Probe = Callable[[], Awaitable[bool]]
TRANSPORTS = ("httpx-default", "httpx-aiohttp", "httpx-fresh", "raw-streams")
LOOPS = ("asyncio", "uvloop")


def _check(status: int, body: bytes) -> bool:
    return status == 200 and body == HEALTH_BODY.encode()


async def make_probe(transport: str, url: str) -> tuple[Probe, Callable[[], Awaitable[None]]]:
    """A probe function for the named transport, and how to close what it holds."""
    if transport == "raw-streams":
        return _raw_probe(url), _nothing
    client = httpx.AsyncClient(transport=_transport(transport), timeout=5.0)

    async def probe() -> bool:
        response = await client.get(url)
        return _check(response.status_code, response.content)

    return probe, client.aclose


def _transport(name: str) -> httpx.AsyncBaseTransport:
    if name == "httpx-default":
        return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    if name == "httpx-fresh":
        return FreshConnectionTransport()
    if name == "httpx-aiohttp":
        import aiohttp
        from httpx_aiohttp import AiohttpTransport  # type: ignore[import-not-found,unused-ignore]

        def session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0))

        transport: httpx.AsyncBaseTransport = AiohttpTransport(client=session)
        return transport
    raise ValueError(f"unknown transport {name!r}")


def _raw_probe(url: str) -> Probe:
    """The floor: a bare asyncio stream, a hand-written request, the whole reply read to EOF."""
    parts = httpx.URL(url)
    host, port = parts.host, parts.port or 80
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    payload = request.encode()
    expected = HEALTH_BODY.encode()

    async def probe() -> bool:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(payload)
            reply = await reader.read(-1)
        finally:
            writer.close()
        return reply.startswith(b"HTTP/1.1 200") and reply.endswith(expected)

    return probe


async def _nothing() -> None:
    return None


@dataclass
class _Counts:
    done: int = 0
    failed: int = 0


async def closed_loop(
    transport: str, url: str, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    """Keep ``concurrency`` probes in flight; count those finished inside the window."""
    probe, close = await make_probe(transport, url)
    counts = _Counts()
    measuring = False
    stop_at = time.monotonic() + warmup + duration

    async def worker() -> None:
        while time.monotonic() < stop_at:
            try:
                ok = await probe()
            except httpx.HTTPError:
                ok = False
            if measuring:
                counts.done += 1
                counts.failed += not ok

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    cpu0, t0 = _own_cpu(), time.monotonic()
    await asyncio.sleep(duration)
    cpu1, t1 = _own_cpu(), time.monotonic()
    measuring = False
    await asyncio.gather(*tasks)
    await close()
    seconds = t1 - t0
    return {"probes": counts.done, "failed": counts.failed, "seconds": seconds, "cpu": cpu1 - cpu0}


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(args: argparse.Namespace) -> None:
    run = closed_loop(args.run, args.url, args.concurrency, args.warmup, args.duration)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(run)
    else:
        result = asyncio.run(run)
    print(json.dumps(result), flush=True)


def measure(
    nginx: Nginx, transport: str, loop: str, concurrency: int, warmup: float, duration: float
) -> Row:
    cmd = [
        sys.executable,
        "-m",
        "bench.transport_study",
        f"--run={transport}",
        f"--loop={loop}",
        f"--url={nginx.url}",
        f"--concurrency={concurrency}",
        f"--warmup={warmup}",
        f"--duration={duration}",
    ]
    limit = warmup + duration + 60
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=limit)
    if out.returncode != 0:
        raise RuntimeError(f"{transport}/{loop} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    probes = max(int(result["probes"]), 1)
    return Row(
        name=f"{transport} / {loop} ({concurrency} in flight)",
        probes_per_s=probes / result["seconds"],
        cpu_ms_per_probe=result["cpu"] * 1000 / probes,
        cores=result["cpu"] / result["seconds"],
        probes=probes,
        failures=int(result["failed"]),
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--only", action="append", choices=TRANSPORTS, help="repeatable")
    ap.add_argument("--loops", default=",".join(LOOPS), help="comma-separated: asyncio,uvloop")
    ap.add_argument("--no-blackbox", action="store_true")
    ap.add_argument("--json", help="also write all rows as JSON lines to this file")
    ap.add_argument("--run", choices=TRANSPORTS, help=argparse.SUPPRESS)
    ap.add_argument("--loop", choices=LOOPS, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:
        _child(args)
        return
    ensure_installed()
    rows: list[Row] = []
    baseline: float | None = None
    with Nginx() as nginx:
        if not args.no_blackbox:
            with BlackboxExporter() as blackbox:
                bb = measure_blackbox(
                    nginx,
                    blackbox,
                    rate=0,
                    concurrency=args.concurrency,
                    warmup=args.warmup,
                    duration=args.duration,
                )
            rows.append(bb)
            baseline = bb.cpu_ms_per_probe
            print(markdown_row(bb, baseline), flush=True)
        for transport in args.only or TRANSPORTS:
            if transport == "httpx-aiohttp" and importlib.util.find_spec("httpx_aiohttp") is None:
                print("skipping httpx-aiohttp: not installed (uv pip install httpx-aiohttp)")
                continue
            for loop in args.loops.split(","):
                row = measure(nginx, transport, loop, args.concurrency, args.warmup, args.duration)
                rows.append(row)
                print(markdown_row(row, baseline), flush=True)
    print()
    print(markdown_table(rows, baseline))
    if args.json:
        with open(args.json, "w") as f:
            f.writelines(r.to_json() + "\n" for r in rows)


if __name__ == "__main__":
    main()
