"""What a fresh HTTPS probe must cost the client: the floor under the agent's TLS path.

Against nginx over TLS on loopback (a throwaway ``trustme`` CA, ECDSA P-256 certificate, TLS
1.3 with X25519 as both sides negotiate by default), the client's CPU per request
(``time.process_time``: user + system of this process; nginx is another process), each a new TCP
connection, ``GET /health`` and ``Connection: close``:

* ``tcp``: plain HTTP on a blocking socket, no TLS (what the connection itself costs);
* ``tls``: a full handshake with the standard library's ``ssl`` on a blocking socket, chain and
  hostname verified (what the agent does, without asyncio, httpx or the agent's code);
* ``tls-noverify``: the same without verifying the certificate (``CERT_NONE``);
* ``tls-resumed``: TLS 1.3 resumption from the last connection's session ticket (no
  certificate sent or verified; the key exchange still runs);
* ``agent``: ``HttpProber.observe`` on ``FreshConnectionTransport`` (asyncio + ``ssl``) under
  uvloop, one probe at a time, or ``--in-flight`` at once (the agent's probe path without the
  scheduler, store and metrics);
* ``agent-asyncio``: the same on the standard library's event loop (its TLS in Python);
* ``curl``: the ``tls`` request through libcurl + BoringSSL (curl_cffi), a blocking
  ``Curl.perform`` per request, chain and hostname verified, fresh connection, no session
  resumption (``SSL_SESSIONID_CACHE=0``): the floor of the curl transport;
* ``agent-curl``: ``HttpProber.observe`` on ``CurlTransport`` under uvloop (what the agent
  ships for HTTPS probes). ``curl`` rows only where curl_cffi is importable;
* ``tls-pyopenssl``: the ``tls`` handshake through pyOpenSSL, which runs on the OpenSSL that
  ``cryptography``'s wheel bundles (4.x at cryptography 50) instead of the system's 3.0, chain
  verified by OpenSSL and the address by ``service_identity``: whether a newer OpenSSL moves the
  floor. Measured only where both are importable (``pip install pyopenssl service-identity``;
  neither is a dependency of the agent);

interleaved, ``--rounds`` rounds of ``--requests`` each, medians. Then ``openssl s_time -new``
(the C client on the same OpenSSL, user CPU only, as s_time reports it) and ``openssl speed``
for the two public-key operations a verified handshake needs.

    .venv/bin/python -m bench.tls_floor
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import socket
import ssl
import statistics
import subprocess
import time
from collections.abc import Callable

from agent.model import HttpCheck, TlsSettings
from agent.probes.http import HttpProber
from bench.targets import HEALTH_BODY, Nginx, TestCa, ensure_installed

REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _exchange(
    port: int, context: ssl.SSLContext | None, session: list[ssl.SSLSession] | None
) -> None:
    """One request on a new connection; ``session``: resume from (and keep) its ticket."""
    with socket.create_connection(("127.0.0.1", port)) as raw:
        sock: socket.socket = raw
        if context is not None:
            sock = context.wrap_socket(
                raw, server_hostname="127.0.0.1", session=session[0] if session else None
            )
        sock.sendall(REQUEST)
        while sock.recv(65536):
            pass
        if isinstance(sock, ssl.SSLSocket):
            # only when resuming: reading ``sock.session`` costs ~0.35 ms per connection here
            if session is not None and (ticket := sock.session) is not None and ticket.has_ticket:
                session[:] = [ticket]
            sock.close()


def _pyopenssl_exchange(port: int, ca_file: str) -> Callable[[], None]:
    """A verified request over pyOpenSSL on a blocking socket (context built once)."""
    SSL = importlib.import_module("OpenSSL.SSL")  # optional: not typed, not a dependency
    verify_ip_address = importlib.import_module("service_identity.pyopenssl").verify_ip_address
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.load_verify_locations(ca_file)
    context.set_verify(SSL.VERIFY_PEER, None)

    def one() -> None:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            conn = SSL.Connection(context, raw)
            conn.set_connect_state()
            conn.do_handshake()
            verify_ip_address(conn, "127.0.0.1")
            conn.sendall(REQUEST)
            try:
                while conn.recv(65536):
                    pass
            except (SSL.ZeroReturnError, SSL.SysCallError):
                pass  # nginx closes after the response (Connection: close)

    return one


def _curl_exchange(port: int, ca_file: str) -> Callable[[], None]:
    """A verified request through libcurl + BoringSSL, blocking, on a fresh connection."""
    curl_cffi = importlib.import_module("curl_cffi")  # optional here like pyOpenSSL
    curl, opt = curl_cffi.Curl(), curl_cffi.CurlOpt
    received: list[bytes] = []

    def keep(data: bytes) -> int:
        received.append(data)
        return len(data)

    def one() -> None:
        received.clear()
        curl.setopt(opt.URL, f"https://127.0.0.1:{port}/health")
        curl.setopt(opt.CAINFO, ca_file)
        for option in (opt.FRESH_CONNECT, opt.FORBID_REUSE):
            curl.setopt(option, 1)
        curl.setopt(opt.SSL_SESSIONID_CACHE, 0)
        curl.setopt(opt.WRITEFUNCTION, keep)
        curl.perform()
        if not received:
            raise SystemExit("curl: empty response")

    return one


def curl_version() -> str | None:
    """libcurl and its TLS library as curl_cffi reports them, or None without curl_cffi."""
    try:
        curl_cffi = importlib.import_module("curl_cffi")
    except ImportError:
        return None
    return str(curl_cffi.Curl().version().decode())


def pyopenssl_version() -> str | None:
    """The OpenSSL pyOpenSSL runs on, or None when pyOpenSSL or service_identity is missing."""
    try:
        importlib.import_module("service_identity.pyopenssl")
        ssl_module = importlib.import_module("OpenSSL.SSL")
    except ImportError:
        return None
    return str(ssl_module.OpenSSL_version(ssl_module.OPENSSL_VERSION).decode())


def _blocking(nginx: Nginx, ca: TestCa, kind: str) -> tuple[Callable[[], None], Callable[[], int]]:
    """One request of ``kind``, and how many handshakes so far were resumptions."""
    resumed = [0]
    if kind == "tcp":
        return lambda: _exchange(nginx.port, None, None), lambda: 0
    if kind == "tls-pyopenssl":
        return _pyopenssl_exchange(nginx.tls_port, ca.ca_file), lambda: 0
    if kind == "curl":
        return _curl_exchange(nginx.tls_port, ca.ca_file), lambda: 0
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if kind == "tls-noverify":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(ca.ca_file)
    sessions: list[ssl.SSLSession] = []

    def one() -> None:
        had = bool(sessions)
        _exchange(nginx.tls_port, context, sessions if kind == "tls-resumed" else None)
        resumed[0] += had and kind == "tls-resumed"

    return one, lambda: resumed[0]


async def _agent_probes(
    url: str, ca_file: str, requests: int, curl: bool, in_flight: int = 1
) -> float:
    prober = HttpProber(curl=curl)
    check = HttpCheck(url=url, tls=TlsSettings(ca_file=ca_file), body_contains=HEALTH_BODY)
    for _ in range(20):  # warm: the client and its TLS context exist
        await prober.observe(check)
    slots = asyncio.Semaphore(in_flight)

    async def probe() -> None:
        async with slots:
            observation = await prober.observe(check)
        if not observation.ok:
            raise SystemExit(f"probe failed: {observation.detail}")

    start = time.process_time()
    if in_flight == 1:
        for _ in range(requests):
            await probe()
    else:
        await asyncio.gather(*(probe() for _ in range(requests)))
    spent = time.process_time() - start
    await prober.aclose()
    return spent


def _openssl_s_time(nginx: Nginx, ca: TestCa, seconds: int) -> float | None:
    """µs of user CPU per new connection of ``openssl s_time -new`` (verified chain)."""
    out = subprocess.run(
        [
            *("openssl", "s_time", "-connect", f"127.0.0.1:{nginx.tls_port}", "-new"),
            *("-time", str(seconds), "-CAfile", ca.ca_file, "-verify", "2", "-www", "/health"),
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = re.search(r"([\d.]+) connections/user sec", out)
    return 1e6 / float(found.group(1)) if found else None


def _openssl_speed() -> str:
    out = subprocess.run(
        ["openssl", "speed", "-seconds", "1", "ecdhx25519", "ecdsap256"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    # the per-second columns: the per-operation ones are rounded to 0.1 ms
    verify = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+\S+\s+([\d.]+)", out)
    x25519 = re.search(r"253 bits ecdh \(X25519\)\s+\S+\s+([\d.]+)", out)
    parts = []
    if x25519:
        each = 1e6 / float(x25519.group(1))
        parts.append(f"X25519 {each:.0f} µs per operation (2 per handshake)")
    if verify:
        each = 1e6 / float(verify.group(1))
        parts.append(f"ECDSA P-256 verify {each:.0f} µs (2 when verifying)")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=1000, help="requests per configuration")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kinds", help="comma-separated: only these clients (e.g. agent-curl)")
    ap.add_argument("--no-openssl", action="store_true", help="skip openssl s_time and speed")
    ap.add_argument(
        "--in-flight", type=int, default=1, help="agent rows: probes at once (default 1)"
    )
    args = ap.parse_args(argv)
    ensure_installed()
    import uvloop

    kinds: tuple[str, ...] = ("tcp", "tls", "tls-noverify", "tls-resumed", "agent", "agent-asyncio")
    other_openssl = pyopenssl_version()
    if other_openssl is not None:
        kinds = (*kinds, "tls-pyopenssl")
    libcurl = curl_version()
    if libcurl is not None:
        kinds = (*kinds, "curl", "agent-curl")
    if args.kinds:
        wanted = args.kinds.split(",")
        unknown = sorted(set(wanted) - set(kinds))
        if unknown:
            ap.error(f"--kinds: {', '.join(unknown)} not among {', '.join(kinds)}")
        kinds = tuple(kind for kind in kinds if kind in wanted)
    spent: dict[str, list[float]] = {kind: [] for kind in kinds}
    resumed_total = 0
    ca = TestCa()
    try:
        with Nginx(ca=ca) as nginx:
            for _ in range(args.rounds):
                for kind in kinds:
                    if kind.startswith("agent"):
                        curl = kind == "agent-curl"
                        probes = _agent_probes(
                            nginx.tls_url, ca.ca_file, args.requests, curl, args.in_flight
                        )
                        run = asyncio.run if kind == "agent-asyncio" else uvloop.run
                        seconds = run(probes)
                    else:
                        one, resumed = _blocking(nginx, ca, kind)
                        start = time.process_time()
                        for _ in range(args.requests):
                            one()
                        seconds = time.process_time() - start
                        resumed_total += resumed()
                    spent[kind].append(seconds / args.requests * 1e6)
            s_time = None if args.no_openssl else _openssl_s_time(nginx, ca, 5)
    finally:
        ca.cleanup()
    print(f"{ssl.OPENSSL_VERSION}; client CPU per request, µs, median of {args.rounds}")
    if other_openssl is not None:
        print(f"tls-pyopenssl runs on {other_openssl}")
    if libcurl is not None:
        print(f"curl and agent-curl run on {libcurl}")
    print("| client | µs per request | each round |")
    print("|---|---:|---|")
    for kind in kinds:
        each = ", ".join(f"{x:.0f}" for x in spent[kind])
        print(f"| {kind} | {statistics.median(spent[kind]):.0f} | {each} |")
    if "tls-resumed" in kinds:
        print(f"tls-resumed: {resumed_total} of {args.rounds * args.requests} handshakes resumed")
    if s_time is not None:
        print(
            f"openssl s_time -new: {s_time:.0f} µs of user CPU per connection (system not counted)"
        )
    if not args.no_openssl:
        print(_openssl_speed())


if __name__ == "__main__":
    main()
