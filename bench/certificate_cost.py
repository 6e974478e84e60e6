"""What reading the peer certificate's notAfter costs an HTTPS probe (issue 12).

Opens one TLS connection to a loopback server (a throwaway ``trustme`` certificate), then
times :func:`agent.probes.certificate.of_transport` on it (the call each HTTPS or ``tls`` probe
makes once per handshake), and, for scale, whole HTTPS probes by ``HttpProber`` on fresh
connections to the same server. CPU time (``time.process_time``), bounded counts.

    .venv/bin/python -m bench.certificate_cost
"""

from __future__ import annotations

import asyncio
import ssl
import statistics
import time

import trustme

from agent.model import HttpCheck
from agent.probes import certificate
from agent.probes.http import HttpProber

READS = 20_000
PROBES = 500
RUNS = 5


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    client = ssl.create_default_context()
    ca.configure_trust(client)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(
        asyncio.Protocol, "127.0.0.1", port, ssl=client, server_hostname="127.0.0.1"
    )
    reads = []
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(READS):
            certificate.of_transport(transport)
        reads.append((time.process_time() - start) / READS * 1e6)
    transport.close()
    prober = HttpProber()
    check = HttpCheck(f"https://127.0.0.1:{port}/", verify_tls=False)
    probes = []
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(PROBES):
            observation = await prober.observe(check)
            if not observation.ok or observation.cert_not_after is None:
                raise SystemExit(f"probe failed: {observation.detail}")
        probes.append((time.process_time() - start) / PROBES * 1e6)
    await prober.aclose()
    server.close()
    await server.wait_closed()
    print(f"notAfter read per handshake: median {statistics.median(reads):.1f} µs CPU")
    whole = statistics.median(probes)
    print(f"whole HTTPS probe (client side + loopback server): median {whole:.0f} µs CPU")


if __name__ == "__main__":
    asyncio.run(main())
