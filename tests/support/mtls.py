"""An mTLS HTTPS server on 127.0.0.1 as OpenSSL servers behave: blocking sockets, so a
rejected client certificate is answered with its TLS alert (``certificate required``,
``unknown ca``) before the connection closes, which an asyncio server does not send.

    with MtlsServer() as server:   # server.ca issued the server's and the clients' certificates
        url = server.url

:class:`BlockingTlsServer` is the same server with contexts of the test's own.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Sequence

import trustme

from tests.support.service import Service

_BODY = b"ok"
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n" + _BODY


class BlockingTlsServer(Service):
    """Answers 200 to every request over TLS, taking ``contexts`` in turn, one per connection
    (several: a server that changes certificates between handshakes)."""

    def __init__(self, contexts: Sequence[ssl.SSLContext]) -> None:
        self.handshakes_refused = 0
        self.connections = 0
        self._contexts = list(contexts)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="mtls-server", daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> BlockingTlsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self._exchange(conn)

    def _exchange(self, conn: socket.socket) -> None:
        """Serve one request; on a refused handshake, let the alert reach the client before
        closing (closing with the client's request unread would reset the connection)."""
        raw = conn.dup()  # wrap_socket takes ``conn`` over; ``raw`` outlives a failed handshake
        context = self._contexts[self.connections % len(self._contexts)]
        self.connections += 1
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                tls.sendall(_RESPONSE)
        except (ssl.SSLError, OSError):
            self.handshakes_refused += 1
            try:
                raw.shutdown(socket.SHUT_WR)
                for _ in range(64):  # the client's request, until it closes (bounded)
                    if not raw.recv(65536):
                        break
            except OSError:
                pass
        finally:
            raw.close()


class MtlsServer(BlockingTlsServer):
    """Answers 200 to every request whose TLS client presents a certificate from ``ca``."""

    def __init__(self) -> None:
        self.ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
        super().__init__([context])
