"""SLI events from the user's own metrics, read through the Prometheus HTTP API.

For every SLO measured by a :class:`~agent.model.PrometheusSli` and every window its evaluation
needs (:func:`agent.slo.windows.required_ranges`), both queries run as instant queries at ``now``
(``GET /api/v1/query``) with ``{{window}}`` replaced by the window as a Prometheus duration
(``5m``, ``30d``). They return per-second rates; a rate times the window's length is the number
of events in the window.

Any failure — Prometheus unreachable or slow, an HTTP error, ``status: error``, an answer that is
not a number — leaves that window out of the result, and so does a total query that returns
nothing: the SLO math then reports no data, never 0% or 100%. An error query that returns
nothing while the total query has data counts as no bad events (a counter such as
``http_requests_total{code="500"}`` only exists once a 500 was served).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from agent.model import PrometheusSli, SpecSet
from agent.redaction import redact_text, redact_url
from agent.slo.events import Counts, series_key
from agent.slo.windows import required_ranges

log = logging.getLogger(__name__)

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
"""``{{window}}`` in a query (the spec loader rewrites Sloth's ``{{.window}}`` to it)."""

DEFAULT_TIMEOUT = 5.0  # seconds per query
DEFAULT_CONCURRENCY = 8  # queries in flight at once


def prometheus_duration(seconds: float) -> str | None:
    """``300`` -> ``"5m"``, ``2592000`` -> ``"30d"``; whole seconds otherwise; ``None`` under 1s.

    Fractions of a second (a calendar month under way) are rounded to the nearest second.
    """
    whole = round(seconds)
    if whole < 1:
        return None
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def with_window(query: str, duration: str) -> str:
    """``query`` with every ``{{window}}`` replaced by ``duration``."""
    return WINDOW_PLACEHOLDER.sub(duration, query)


@dataclass(frozen=True, slots=True)
class WindowQuery:
    """The two queries of one SLO over one window."""

    series: str  # series_key(node, slo)
    label: str  # the window label of required_ranges: "5m", "30d", "month"...
    seconds: int  # the window's length as queried
    error: str
    total: str


class QueryFailed(Exception):
    """One query got no usable answer; the message says why (never a credential)."""


class _Unreachable(QueryFailed):
    """Prometheus did not answer at all (refused, reset, timed out)."""


class _NotAsked(QueryFailed):
    """Not sent: Prometheus had already failed to answer another query of the same call."""


class PrometheusSliSource:
    """Event counts of every Prometheus-measured SLO, from one Prometheus server.

    ``client`` is used as given (its connection pool, TLS and proxy settings) and is not
    closed here. ``last_error`` is ``None`` while every query gets an answer, otherwise the
    first problem of the latest call to :meth:`counts` (for ``/api/v1/status``); ``url`` is
    the server's address without credentials.
    """

    name = "prometheus"

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if timeout <= 0 or concurrency < 1:
            raise ValueError("timeout must be positive and concurrency at least 1")
        self._base = httpx.URL(base_url.rstrip("/") + "/")
        self._client = client
        self.timeout = timeout
        self.concurrency = concurrency
        self.url = redact_url(str(self._base.copy_with(username=None, password=None)).rstrip("/"))
        self.last_error: str | None = None

    async def counts(self, specs: SpecSet, now: float) -> dict[str, dict[str, Counts]]:
        """``series_key(node, slo) -> window label -> Counts`` at ``now``; never raises for
        Prometheus' sake. A window that could not be read is missing from its SLO's mapping."""
        windows = list(window_queries(specs, now))
        texts = sorted({text for w in windows for text in (w.error, w.total)})
        answers, problem = await self._run(texts, now)
        result: dict[str, dict[str, Counts]] = {}
        for window in windows:
            counts = window_counts(window, answers)
            if counts is not None:
                result.setdefault(window.series, {})[window.label] = counts
        self._note(problem)
        return result

    # --- queries --------------------------------------------------------------------------

    async def _run(
        self, texts: list[str], now: float
    ) -> tuple[dict[str, float | None], str | None]:
        """The answer of every query that got one, and the first problem met, if any.

        At most ``concurrency`` queries are in flight. Once one cannot reach Prometheus, those
        still waiting are not sent, so one call waits about one timeout at most."""
        gate = asyncio.Semaphore(self.concurrency)
        unreachable = asyncio.Event()

        async def one(text: str) -> float | None:
            async with gate:
                if unreachable.is_set():
                    raise _NotAsked(text)
                try:
                    return await self._query(text, now)
                except _Unreachable as exc:
                    unreachable.set()
                    raise QueryFailed(str(exc)) from None

        outcomes = await asyncio.gather(*(one(text) for text in texts), return_exceptions=True)
        answers: dict[str, float | None] = {}
        problems: list[QueryFailed] = []
        for text, outcome in zip(texts, outcomes, strict=True):
            if isinstance(outcome, _NotAsked):
                continue
            if isinstance(outcome, QueryFailed):
                problems.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome  # a bug, not Prometheus: let the caller see it
            else:
                answers[text] = outcome
        # "Prometheus does not answer" says more than one query's error
        problems.sort(key=lambda problem: not isinstance(problem, _Unreachable))
        return answers, str(problems[0]) if problems else None

    async def _query(self, text: str, now: float) -> float | None:
        """The value of ``text`` at ``now``: the sum of its samples, ``None`` when it returns
        no sample. Raises :class:`QueryFailed` (or ``_Unreachable``) otherwise."""
        try:
            response = await self._client.get(
                self._base.join("api/v1/query"),
                params={"query": text, "time": f"{now:.3f}"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise _Unreachable(f"no answer within {self.timeout:g}s") from None
        except httpx.TransportError as exc:
            raise _Unreachable(redact_text(f"{type(exc).__name__}: {exc}")) from None
        return parse_answer(text, response)

    def _note(self, error: str | None) -> None:
        if error is not None and self.last_error is None:
            log.warning("Prometheus at %s: %s; its SLOs report no data", self.url, error)
        elif error is None and self.last_error is not None:
            log.info("Prometheus at %s answers again", self.url)
        self.last_error = error


def window_queries(specs: SpecSet, now: float) -> Iterator[WindowQuery]:
    """The queries of every window of every Prometheus-measured SLO of ``specs`` at ``now``."""
    for node in specs.nodes:
        alert_windows = specs.windows_for(node)
        for slo in node.slos:
            sli = slo.sli
            if not isinstance(sli, PrometheusSli):
                continue
            for label, (start, end) in required_ranges(slo, alert_windows, now).items():
                duration = prometheus_duration(end - start)
                if duration is None:
                    continue  # e.g. the first instant of a calendar month: nothing to count
                yield WindowQuery(
                    series=series_key(node.name, slo.name),
                    label=label,
                    seconds=round(end - start),
                    error=with_window(sli.error_query, duration),
                    total=with_window(sli.total_query, duration),
                )


def window_counts(window: WindowQuery, answers: dict[str, float | None]) -> Counts | None:
    """Events in ``window`` from the query answers; ``None`` (no data) when the total is
    unknown. ``answers`` lacks the queries that failed; a ``None`` answer returned nothing."""
    total_rate = answers.get(window.total)
    if total_rate is None or not math.isfinite(total_rate) or total_rate < 0:
        return None
    if window.error not in answers:
        return None
    error_rate = answers[window.error]
    if error_rate is None:
        error_rate = 0.0  # no error series yet: no errors
    if not math.isfinite(error_rate):
        return None
    total = total_rate * window.seconds
    bad = min(max(error_rate * window.seconds, 0.0), total)
    return Counts(total=total, bad=bad)


def parse_answer(text: str, response: httpx.Response) -> float | None:
    """The sum of the samples of an instant-query answer; ``None`` for an empty vector."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        body: Any = response.json()
    except ValueError:
        raise QueryFailed(
            f"query {shown!r}: HTTP {response.status_code}, not a Prometheus API answer"
        ) from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "") if isinstance(body, dict) else ""
        kind = body.get("errorType", "error") if isinstance(body, dict) else "error"
        raise QueryFailed(f"query {shown!r}: HTTP {response.status_code}, {kind}: {error}")
    try:
        data = body["data"]
        kind = data["resultType"]
        if kind == "scalar":
            return float(data["result"][1])
        if kind == "vector":
            samples = data["result"]
            if not samples:
                return None
            return math.fsum(float(sample["value"][1]) for sample in samples)
    except (KeyError, IndexError, TypeError, ValueError):
        raise QueryFailed(f"query {shown!r}: malformed answer") from None
    raise QueryFailed(f"query {shown!r}: returned a {kind}, not a number or an instant vector")
