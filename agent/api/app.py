"""The agent's HTTP interface (Starlette): health, readiness, metrics and the status API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent.api.status_json import snapshot_json
from agent.slo.status import Snapshot

INDEX = """slo-agent

  /metrics        Prometheus metrics
  /healthz        liveness
  /readyz         readiness (after the first SLO evaluation)
  /api/v1/status  every node and SLO: SLI per window, budget, burn rates, alerts
"""


class StatusView(Protocol):
    @property
    def snapshot(self) -> Snapshot | None: ...

    @property
    def ready(self) -> bool: ...

    @property
    def last_reload_error(self) -> str | None: ...


def create_app(
    view: StatusView, metrics: Callable[[], bytes], metrics_content_type: str
) -> Starlette:
    async def index(_: Request) -> Response:
        return PlainTextResponse(INDEX)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if view.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("not ready: first SLO evaluation pending\n", status_code=503)

    async def prometheus(_: Request) -> Response:
        return Response(metrics(), media_type=metrics_content_type)

    async def status(_: Request) -> Response:
        snapshot = view.snapshot
        if snapshot is None:
            return JSONResponse({"error": "first SLO evaluation pending"}, status_code=503)
        body = snapshot_json(snapshot)
        body["spec_reload_error"] = view.last_reload_error
        return JSONResponse(body)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
            Route("/api/v1/status", status),
        ]
    )
