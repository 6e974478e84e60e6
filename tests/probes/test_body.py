"""Response bodies decoded as httpx decodes them, and never past the body limit: a gzip bomb
from a real loopback target costs the limit, not its decoded size."""

from __future__ import annotations

import asyncio
import gzip
import sys
import textwrap
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest

from agent.model import HttpCheck
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from tests.support.targets import Reply, Target

MiB = 1024 * 1024
# the probe's own allocations while it reads a bomb: the 1 MiB body it keeps, its join, one
# 64 KiB piece and the transport's buffers; before decoding was bounded, one 64 KiB read of
# the bomb became ~64 MiB at once
BOMB_PEAK_BOUND = 4 * MiB


def gzip_bomb(decoded_size: int) -> bytes:
    """``decoded_size`` zero bytes, gzip-compressed (about 1000:1), made a MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    parts = [packer.compress(block) for _ in range(decoded_size // MiB)]
    parts.append(packer.flush())
    return b"".join(parts)


def deflate(data: bytes, *, raw: bool) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("assertions", [{}, {"json_equals": {"$.ok": True}}])
async def test_a_gzip_bomb_stops_at_the_limit_without_inflating_the_rest(
    assertions: dict[str, Any], target: Target, prober: HttpProber
) -> None:
    bomb = gzip_bomb(200 * MiB)
    assert len(bomb) < MiB  # on the wire it is within the limit
    target.route("/bomb", Reply(200, bomb, headers={"Content-Encoding": "gzip"}))
    check = HttpCheck(url=target.url("/bomb"), max_body_bytes=MiB, **assertions)
    await prober.observe(HttpCheck(url=target.url("/warm-up")))  # the client, made once

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        observation = await prober.observe(check)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert observation.reason is Reason.BODY_TOO_LARGE
    assert observation.detail == f"body larger than {MiB} bytes"
    assert peak - before < BOMB_PEAK_BOUND, f"{(peak - before) / MiB:.1f} MiB"


# peak RSS (Linux VmHWM, reset before probing) a separate agent process gains over 5 probes of
# a 200 MiB bomb with a 1 MiB limit
BOMB_RSS_BOUND = 16 * MiB

_RSS_PROBE = textwrap.dedent(
    """
    import asyncio, re, sys
    from agent.model import HttpCheck
    from agent.probes.http import HttpProber

    def kib(field: str) -> int:
        with open("/proc/self/status") as status:
            return int(re.search(field + r":\\s+(\\d+) kB", status.read()).group(1))

    async def main(url: str) -> None:
        prober = HttpProber()
        check = HttpCheck(url=url, max_body_bytes=1024 * 1024, json_equals={"$.ok": True})
        await prober.observe(HttpCheck(url=url.replace("/bomb", "/warm-up")))
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # the peak (VmHWM) starts again from the RSS of now
        before = kib("VmRSS")
        reasons = [(await prober.observe(check)).reason.value for _ in range(5)]
        peak = kib("VmHWM")
        await prober.aclose()
        print(" ".join(reasons), (peak - before) * 1024)

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_a_gzip_bomb_leaves_the_peak_rss_of_an_agent_process_nearly_unchanged(
    target: Target,
) -> None:
    target.route("/bomb", Reply(200, gzip_bomb(200 * MiB), headers={"Content-Encoding": "gzip"}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _RSS_PROBE, target.url("/bomb"), stdout=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            out, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    *reasons, growth = out.decode().split()
    assert reasons == ["body_too_large"] * 5
    assert int(growth) < BOMB_RSS_BOUND, f"{int(growth) / MiB:.1f} MiB"


BODY = b'{"ok": true, "text": "' + b"compressible " * 20_000 + b'"}'

ENCODED = {
    "identity": ({}, BODY),
    "gzip": ({"Content-Encoding": "gzip"}, gzip.compress(BODY)),
    "gzip, upper case": ({"Content-Encoding": "GZIP"}, gzip.compress(BODY)),
    "deflate, zlib-wrapped": ({"Content-Encoding": "deflate"}, deflate(BODY, raw=False)),
    "deflate, raw": ({"Content-Encoding": "deflate"}, deflate(BODY, raw=True)),
    "deflate then gzip": (
        {"Content-Encoding": "deflate, gzip"},
        gzip.compress(deflate(BODY, raw=False)),
    ),
    "gzip with bytes after its end": (
        {"Content-Encoding": "gzip"},
        gzip.compress(BODY) + b"trailing garbage",
    ),
    "an encoding httpx does not decode": ({"Content-Encoding": "br"}, b"\x8b\x02\x80not-br"),
    "identity listed": ({"Content-Encoding": "identity"}, BODY),
    "gzip, truncated": ({"Content-Encoding": "gzip"}, gzip.compress(BODY)[:-100]),
}


@pytest.mark.parametrize("case", ENCODED, ids=list(ENCODED))
async def test_bodies_decode_as_httpx_decodes_them(
    case: str, target: Target, prober: HttpProber
) -> None:
    headers, wire = ENCODED[case]
    target.route("/body", Reply(200, wire, headers=headers))
    async with httpx.AsyncClient(trust_env=False) as stock:
        expected = (await stock.get(target.url("/body"))).content

    observation, body = await prober.observe_response(HttpCheck(url=target.url("/body")))

    assert observation.ok, observation.detail
    assert body == expected


async def test_a_corrupt_gzip_body_is_an_error_as_in_httpx(
    target: Target, prober: HttpProber
) -> None:
    target.route("/body", Reply(200, b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    async with httpx.AsyncClient(trust_env=False) as stock:
        with pytest.raises(httpx.DecodingError):
            await stock.get(target.url("/body"))

    observation = await prober.observe(HttpCheck(url=target.url("/body")))

    assert observation.reason is Reason.ERROR
    assert observation.detail.startswith("DecodingError: ")


@pytest.mark.parametrize(("limit", "reason"), [(len(BODY), Reason.OK), (len(BODY) - 1, None)])
async def test_the_limit_counts_decoded_bytes(
    limit: int, reason: Reason | None, target: Target, prober: HttpProber
) -> None:
    wire = gzip.compress(BODY)
    target.route("/body", Reply(200, wire, headers={"Content-Encoding": "gzip"}))

    observation = await prober.observe(HttpCheck(url=target.url("/body"), max_body_bytes=limit))

    assert observation.reason is (reason or Reason.BODY_TOO_LARGE)
