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
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent.advisor.review import DecisionReport
from agent.api.decisions_json import decisions_json
from agent.api.journeys_json import journeys_json
from agent.api.openapi import PATH as OPENAPI_PATH
from agent.api.openapi import openapi_document
from agent.api.page import (
    ENDPOINTS,
    PageData,
    SourceProblem,
    pending_page,
    status_page,
)
from agent.api.page_decisions import DecisionRow
from agent.api.status_json import status_json
from agent.api.status_query import QueryError, parse_query
from agent.journeys.views import JourneyView
from agent.schedule.shard import Shard
from agent.slo.status import Snapshot

# the status page may only be shown as itself: inline CSS, no scripts, no framing
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

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
    decision_rows: Callable[[], Sequence[DecisionRow]] | None = None,
    shard: Shard | None = None,  # which replica this is; /api/v1/status says so
    decisions: Callable[[], DecisionReport | None] | None = None,  # the advisor's latest review
) -> Starlette:
    async def index(request: Request) -> Response:
        """The status page (read-only: GET and HEAD only)."""
        served = {getattr(route, "path", "") for route in request.app.routes}
        endpoints = [(path, what) for path, what in ENDPOINTS if path in served]
        snapshot = view.snapshot
        if snapshot is None:
            return HTMLResponse(
                pending_page(endpoints=endpoints), status_code=503, headers=PAGE_HEADERS
            )
        data = PageData(
            snapshot=snapshot,
            journeys=journeys() if journeys is not None else (),
            decisions=decision_rows() if decision_rows is not None else None,
            reload_error=view.last_reload_error,
            source_problems=[
                SourceProblem(s.name, s.url, s.last_error)
                for s in sli_sources
                if s.last_error is not None
            ],
            endpoints=endpoints,
            shard=str(shard) if shard is not None and shard.count > 1 else "",
        )
        return HTMLResponse(status_page(data), headers=PAGE_HEADERS)

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

    async def status(request: Request) -> Response:
        try:
            query = parse_query(request.query_params.multi_items())
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        snapshot = view.snapshot
        if snapshot is None:
            return JSONResponse({"error": "first SLO evaluation pending"}, status_code=503)
        body = status_json(snapshot, query)
        body["spec_reload_error"] = view.last_reload_error
        if shard is not None:  # the nodes and journeys listed are the ones this replica owns
            body["shard"] = {"index": shard.index, "count": shard.count, "shard": str(shard)}
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

    async def decision_review(_: Request) -> Response:
        report = decisions() if decisions is not None else None
        if report is None:
            return JSONResponse({"error": "first decision review pending"}, status_code=503)
        return JSONResponse(decisions_json(report))

    async def openapi(request: Request) -> Response:
        served = [getattr(route, "path", "") for route in request.app.routes]
        return JSONResponse(openapi_document(served))

    return Starlette(
        routes=[
            Route(OPENAPI_PATH, openapi),
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", prometheus),
            Route("/api/v1/status", status),
            Route("/api/v1/journeys", journey_views),
            *([Route("/api/v1/decisions", decision_review)] if decisions is not None else []),
        ]
    )
