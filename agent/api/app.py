"""The agent's HTTP interface (Starlette): health, readiness, metrics and the status API.

``/metrics`` answers in the OpenMetrics format (with exemplars: trace ids on the duration
histograms) when the scraper asks for it with ``Accept: application/openmetrics-text`` and an
OpenMetrics exposition is wired in; in the Prometheus text format otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent.api.journeys_json import journeys_json
from agent.api.status_json import snapshot_json
from agent.journeys.views import JourneyView
from agent.slo.status import Snapshot

INDEX = """slo-agent

  /metrics        Prometheus metrics
  /healthz        liveness
  /readyz         readiness (after the first SLO evaluation)
  /api/v1/status  every node and SLO: SLI per window, budget, burn rates, alerts
  /api/v1/journeys  every journey: SLOs, burned budget per hop and partner, ceiling
"""

OPENMETRICS = "application/openmetrics-text"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


class StatusView(Protocol):
    @property
    def snapshot(self) -> Snapshot | None: ...

    @property
    def ready(self) -> bool: ...

    @property
    def last_reload_error(self) -> str | None: ...


class SourceView(Protocol):
    """An SLI source outside the agent (the user's Prometheus), as the status API shows it."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def last_error(self) -> str | None: ...


def create_app(
    view: StatusView,
    metrics: Callable[[], bytes],
    metrics_content_type: str,
    sli_sources: Sequence[SourceView] = (),
    *,
    openmetrics: Callable[[], bytes] | None = None,
    journeys: Callable[[], Sequence[JourneyView]] | None = None,
) -> Starlette:
    async def index(_: Request) -> Response:
        return PlainTextResponse(INDEX)

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        if view.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("not ready: first SLO evaluation pending\n", status_code=503)

    async def prometheus(request: Request) -> Response:
        if openmetrics is not None and OPENMETRICS in request.headers.get("accept", ""):
            return Response(openmetrics(), media_type=OPENMETRICS_CONTENT_TYPE)
        return Response(metrics(), media_type=metrics_content_type)

    async def status(_: Request) -> Response:
        snapshot = view.snapshot
        if snapshot is None:
            return JSONResponse({"error": "first SLO evaluation pending"}, status_code=503)
        body = snapshot_json(snapshot)
        body["spec_reload_error"] = view.last_reload_error
        # SLOs measured by an unreachable source show no data; this says why
        body["sli_sources"] = [
            {"name": s.name, "url": s.url, "ok": s.last_error is None, "error": s.last_error}
            for s in sli_sources
        ]
        return JSONResponse(body)

    async def journey_views(_: Request) -> Response:
        snapshot = view.snapshot
        if snapshot is None:
            return JSONResponse({"error": "first SLO evaluation pending"}, status_code=503)
        views = journeys() if journeys is not None else ()
        return JSONResponse(journeys_json(views, snapshot.evaluated_at))

    return Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
            Route("/api/v1/status", status),
            Route("/api/v1/journeys", journey_views),
        ]
    )
