"""A real grpcio health server (grpc.health.v1) on a free loopback port, in this process on
its own threads, with a serving status set per service; it records the peer and metadata of
every Check it answers."""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
UNKNOWN = health_pb2.HealthCheckResponse.UNKNOWN


class RecordingHealth(health.HealthServicer):
    """The standard health servicer, recording the peer and metadata of every Check."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def Check(self, request: Any, context: Any) -> Any:
        metadata = {key: str(value) for key, value in context.invocation_metadata()}
        with self._lock:
            self.calls.append((context.peer(), metadata))
        return super().Check(request, context)


class HealthServer:
    def __init__(self, credentials: grpc.ServerCredentials | None = None) -> None:
        self.health = RecordingHealth()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if credentials is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        self.address = f"127.0.0.1:{self.port}"

    def set(self, service: str, status: int) -> None:
        self.health.set(service, status)

    def __enter__(self) -> HealthServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(grace=None).wait(5)
