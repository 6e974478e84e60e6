"""A service's own metrics for Prometheus to scrape: ``http_requests_total{code}`` counters.

:class:`TrafficExporter` serves its own ``CollectorRegistry`` on a free 127.0.0.1 port (a
``prometheus_client`` WSGI app in a ``wsgiref`` thread). :meth:`TrafficExporter.serve` adds
requests in fixed proportions, under the same lock a scrape takes, so every scrape sees the
counters in exactly those proportions; :meth:`start_traffic` does so from a thread until
stopped::

    with TrafficExporter() as exporter:
        exporter.start_traffic({"200": 9, "500": 1})
        ...  # Prometheus scrapes exporter.address
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, make_wsgi_app

from tests.support.service import Service

TICK = 0.01  # seconds between two batches of simulated requests


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class TrafficExporter(Service):
    def __init__(self, codes: Iterable[str] = ("200", "500")) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests", "Requests served, by status code.", ("code",), registry=self.registry
        )
        for code in codes:  # every series exists (at 0) from the first scrape on
            self.requests.labels(code)
        self._lock = threading.Lock()
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            with self._lock:  # a scrape never sees half a batch
                body: Iterable[bytes] = metrics_app(environ, start_response)
                return body

        self._server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
        self.address = f"127.0.0.1:{self._server.server_port}"
        self._serving = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._traffic: threading.Thread | None = None
        self._stop_traffic = threading.Event()

    def start(self) -> Self:
        self._serving.start()
        return self

    def stop(self) -> None:
        self.stop_traffic()
        self._server.shutdown()
        self._server.server_close()
        self._serving.join(timeout=10)

    def serve(self, batch: Mapping[str, int]) -> None:
        """Count one batch of requests, e.g. ``{"200": 9, "500": 1}``, atomically."""
        with self._lock:
            for code, count in batch.items():
                self.requests.labels(code).inc(count)

    def start_traffic(self, batch: Mapping[str, int]) -> None:
        """Serve ``batch`` every :data:`TICK` seconds from a thread until :meth:`stop_traffic`."""

        def loop() -> None:
            while not self._stop_traffic.wait(TICK):
                self.serve(batch)

        self._stop_traffic.clear()
        self._traffic = threading.Thread(target=loop, daemon=True)
        self._traffic.start()

    def stop_traffic(self) -> None:
        self._stop_traffic.set()
        if self._traffic is not None:
            self._traffic.join(timeout=10)
            self._traffic = None

    def served(self, code: str) -> float:
        """Requests counted so far with status ``code``."""
        with self._lock:
            value = self.registry.get_sample_value("http_requests_total", {"code": code})
        return value or 0.0
