"""What credentials and run values add to a probe's CPU, the network taken out.

The HTTP prober runs against a transport that answers at once (no socket), so the figure is the
prober's own Python work per probe: plain, Basic auth (in the cached plan), ``${run.uuid}`` run
values (a plan per run), a bearer token file (one ``stat`` per run) and a cached OAuth2 token.
Each is the best of three rounds of 10,000 probes, after 2,000 to warm up.

    python -m bench.request_extras
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time

import httpx

from agent.model import BasicAuth, BearerAuth, HttpCheck, OAuth2Auth
from agent.probes.http import HttpProber

URL = "http://127.0.0.1:9/health"  # never connected to: the transport answers


class Canned(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, content=b"ok")


def _canned(context: ssl.SSLContext | bool) -> httpx.AsyncBaseTransport:
    return Canned()


async def _cost(prober: HttpProber, check: HttpCheck, rounds: int = 3, runs: int = 10_000) -> float:
    for _ in range(2_000):
        observation = await prober.observe(check)
        assert observation.ok, observation.detail
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(runs):
            await prober.observe(check)
        best = min(best, (time.process_time() - start) / runs)
    return best * 1e6


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


async def main() -> None:
    prober = HttpProber(transport_factory=_canned)
    with tempfile.TemporaryDirectory() as directory:
        token_file = os.path.join(directory, "token")
        _write(token_file, "file-token")
        checks = {
            "plain": HttpCheck(URL),
            "basic auth": HttpCheck(URL, auth=BasicAuth("user", "password")),
            "run values": HttpCheck(URL + "?k=${run.uuid}", headers={"Key": "${run.uuid}"}),
            "bearer file": HttpCheck(URL, auth=BearerAuth(file=token_file)),
            "oauth2, cached token": HttpCheck(
                URL, auth=OAuth2Auth("http://127.0.0.1:9/token", "id", "secret")
            ),
        }
        print("| probe | µs CPU per probe |\n|---|---:|")
        for name, check in checks.items():
            print(f"| {name} | {await _cost(prober, check):.1f} |")
    print(f"token requests: {prober.credentials.token_requests}")
    await prober.aclose()


if __name__ == "__main__":
    asyncio.run(main())
