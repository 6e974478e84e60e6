"""How long a ``tls`` probe holds its connection after a TLS 1.3 handshake (issue 12).

In TLS 1.3 a server refuses a client certificate (or its absence) only after the client's side
of the handshake is done, so the ``tls`` prober waits for that verdict: the server's session
ticket (accepted), data, a close, or an alert (refused), at most ``REFUSAL_WAIT``. This times
whole probes (wall clock, ``time.perf_counter``; the recorded duration stops at the handshake)
against a loopback TLS 1.3 server that accepts and one (OpenSSL, blocking sockets) that
requires a client certificate the probe does not have. Bounded counts, median.

    .venv/bin/python -m bench.tls_probe_wall
"""

from __future__ import annotations

import asyncio
import ssl
import statistics
import tempfile
import time
from pathlib import Path

import trustme

from agent.model import TlsSettings
from agent.probe_kinds.tls import TlsCheck
from agent.probes.tls import TlsProber
from tests.support.mtls import MtlsServer

PROBES = 30


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.read(1)  # says nothing: the probe closes
    except OSError:
        pass
    finally:
        writer.close()


async def _walls(check: TlsCheck) -> tuple[float, float, str]:
    prober = TlsProber()
    walls, durations, reason = [], [], ""
    for _ in range(PROBES):
        start = time.perf_counter()
        observation = await prober.observe(check)
        walls.append(time.perf_counter() - start)
        durations.append(observation.duration)
        reason = observation.reason.value
    return statistics.median(walls), statistics.median(durations), reason


async def main() -> None:
    directory = Path(tempfile.mkdtemp())
    ca = trustme.CA()
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    tls = TlsSettings(ca_file=str(ca_file))
    async with server:
        wall, duration, reason = await _walls(TlsCheck("127.0.0.1", port, tls))
    print(
        f"accepting server: wall {wall * 1e3:.1f} ms, duration {duration * 1e3:.1f} ms ({reason})"
    )
    with MtlsServer() as mtls:
        mtls.ca.cert_pem.write_to_path(str(ca_file))
        wall, duration, reason = await _walls(TlsCheck("127.0.0.1", mtls.port, tls))
    print(
        f"refusing server:  wall {wall * 1e3:.1f} ms, duration {duration * 1e3:.1f} ms ({reason})"
    )


if __name__ == "__main__":
    asyncio.run(main())
