"""The agent's HTTP interface (Starlette): health, readiness, metrics and the status API.

``/metrics`` answers in the OpenMetrics format (with exemplars: trace ids on the duration
histograms) when the scraper asks for it with ``Accept: application/openmetrics-text`` and an
OpenMetrics exposition is wired in; in the Prometheus text format otherwise. Either is rendered
in a worker thread at most once per ``metrics_max_age`` seconds (or state change) and served
from memory, gzipped when the scraper accepts it (:mod:`agent.api.scrape_cache`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent.advisor.review import DecisionReport
from agent.api.decisions_json import decisions_json
from agent.api.history import HistoryQueryError
from agent.api.history import parse_query as parse_history_query
from agent.api.history_read import HistorySource, NotFound, history
from agent.api.history_types import OwnerKind
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
from agent.api.page_node import NAME, not_found_page
from agent.api.page_owner import render_owner
from agent.api.scrape_cache import DEFAULT_MAX_AGE, ScrapeCache, accepts_gzip
from agent.api.status_json import status_json
from agent.api.status_query import QueryError, parse_query
from agent.journeys.views import JourneyView
from agent.runtime.heap import release_free_memory
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


def expire_body(cache: ScrapeCache) -> None:
    """Drop a /metrics body no scrape will be served again, and give its pages back."""
    if cache.expire():
        release_free_memory()


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
    metrics_version: Callable[[], object] = lambda: None,  # changes when the gauges do
    metrics_max_age: float = DEFAULT_MAX_AGE,  # seconds a rendered /metrics body is reused
    metrics_background: bool = False,  # never wait for a render once there is a body
    clock: Callable[[], float] = time.monotonic,
    history_source: HistorySource | None = None,  # specs and store: pages and /api/v1/history
    trace_url_template: str | None = None,  # "...{trace_id}...": trace links on the pages
) -> Starlette:
    caches = {
        fmt: ScrapeCache(
            render,
            clock=clock,
            max_age=metrics_max_age,
            version=metrics_version,
            background=metrics_background,
        )
        for fmt, render in (("text", metrics), ("openmetrics", openmetrics))
        if render is not None
    }

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
        om = openmetrics is not None and OPENMETRICS in request.headers.get("accept", "")
        compressed = accepts_gzip(request.headers.get("accept-encoding", ""))
        cache = caches["openmetrics" if om else "text"]
        body = await asyncio.to_thread(cache.body, compressed)
        loop = asyncio.get_running_loop()
        loop.call_later(metrics_max_age, loop.run_in_executor, None, expire_body, cache)
        headers = {"Vary": "Accept-Encoding"}
        if compressed:
            headers["Content-Encoding"] = "gzip"
        media_type = OPENMETRICS_CONTENT_TYPE if om else metrics_content_type

        async def refresh() -> None:  # once the body is sent (background mode)
            cache.refresh()

        return Response(
            body, media_type=media_type, headers=headers, background=BackgroundTask(refresh)
        )

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

    def owner_page(kind: OwnerKind) -> Callable[[Request], Any]:
        async def page(request: Request) -> Response:
            name = request.path_params["name"]
            snapshot = view.snapshot
            if snapshot is None:
                return HTMLResponse(pending_page(), status_code=503, headers=PAGE_HEADERS)
            if history_source is None or not NAME.fullmatch(name):
                return HTMLResponse(not_found_page(kind, name), 404, headers=PAGE_HEADERS)
            try:
                body = await asyncio.to_thread(
                    render_owner, history_source, snapshot, kind, name, trace_url_template
                )
            except NotFound:
                return HTMLResponse(not_found_page(kind, name), 404, headers=PAGE_HEADERS)
            return HTMLResponse(body, headers=PAGE_HEADERS)

        return page

    async def history_api(request: Request) -> Response:
        snapshot = view.snapshot
        if snapshot is None or history_source is None:
            return JSONResponse({"error": "first SLO evaluation pending"}, status_code=503)
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        try:
            query = parse_history_query(params)
            found = await asyncio.to_thread(history, history_source, query, snapshot.evaluated_at)
        except HistoryQueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(found.body)

    async def openapi(request: Request) -> Response:
        served = [getattr(route, "path", "") for route in request.app.routes]
        return JSONResponse(openapi_document(served))

    return Starlette(
        routes=[
            Route("/nodes/{name}", owner_page("node")),
            Route("/journeys/{name}", owner_page("journey")),
            Route("/api/v1/history", history_api),
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
