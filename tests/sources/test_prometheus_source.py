"""The Prometheus SLI source against loopback servers that answer like Prometheus, or badly.

Every failure must come back as missing windows (no data), never as 0% or 100%, and be told in
``last_error``; the real Prometheus is in test_prometheus_integration.py.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agent.model import SpecSet
from agent.slo.evaluate import evaluate_slo
from agent.slo.events import Counts
from agent.sources.prometheus import (
    PrometheusSliSource,
    WindowQuery,
    prometheus_duration,
    window_counts,
    window_queries,
)
from tests.sources.specs import load, prometheus_node
from tests.support.agents import node_spec
from tests.support.net import free_port
from tests.support.targets import Garbage, Hang, Reply, Target, json_reply

NOW = 1_700_000_000.0
SERIES = "shop/availability"
QUICK_LABELS = {"1m", "5m", "30m", "1h", "2h", "6h", "1d", "3d"}


def vector(*values: float) -> dict[str, Any]:
    result = [{"metric": {}, "value": [NOW, repr(value)]} for value in values]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def specs(tmp_path: Path) -> SpecSet:
    return load(tmp_path, shop=prometheus_node())


@pytest.mark.parametrize(
    ("seconds", "duration"),
    [
        (60, "1m"),
        (300, "5m"),
        (5400, "90m"),
        (86_400, "1d"),
        (2_592_000, "30d"),
        (1_234_567.4, "1234567s"),
        (0.4, None),
    ],
)
def test_windows_are_written_as_prometheus_durations(seconds: float, duration: str | None) -> None:
    assert prometheus_duration(seconds) == duration


def test_every_window_of_a_prometheus_slo_gets_both_queries(specs: SpecSet) -> None:
    queries = {q.label: q for q in window_queries(specs, NOW)}
    assert set(queries) == QUICK_LABELS
    five = queries["5m"]
    assert (five.series, five.seconds) == (SERIES, 300)
    assert five.error == 'sum(rate(http_requests_total{code=~"5.."}[5m]))'
    assert five.total == "sum(rate(http_requests_total[5m]))"
    assert queries["1d"].total == "sum(rate(http_requests_total[1d]))"


def test_probe_slos_are_not_queried(tmp_path: Path) -> None:
    specs = load(tmp_path, probed=node_spec("probed", "http://127.0.0.1:9/"))
    assert list(window_queries(specs, NOW)) == []


def test_a_calendar_month_is_queried_over_the_part_that_has_passed(tmp_path: Path) -> None:
    text = prometheus_node().replace("window: 1h", "window: {calendar: month}")
    specs = load(tmp_path, shop=text)
    month_start = 1_698_796_800.0  # 2023-11-01T00:00:00Z
    month = {q.label: q for q in window_queries(specs, month_start + 3 * 86_400 + 0.2)}["month"]
    assert (month.seconds, month.total) == (259_200, "sum(rate(http_requests_total[3d]))")
    assert "month" not in {q.label for q in window_queries(specs, month_start)}


def window(seconds: int = 300) -> WindowQuery:
    return WindowQuery(SERIES, "5m", seconds, error="errors", total="total")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"errors": 0.5, "total": 10.0}, Counts(3000.0, 150.0)),  # rates x 300 s
        ({"errors": None, "total": 10.0}, Counts(3000.0, 0.0)),  # no error series yet
        ({"errors": 11.0, "total": 10.0}, Counts(3000.0, 3000.0)),  # never more bad than all
        ({"errors": -0.0001, "total": 10.0}, Counts(3000.0, 0.0)),
        ({"errors": 0.0, "total": 0.0}, Counts(0.0, 0.0)),  # no traffic: the math says no data
        ({"errors": 0.5, "total": None}, None),  # empty total: no data
        ({"errors": 0.5}, None),  # the total query failed
        ({"total": 10.0}, None),  # the error query failed
        ({"errors": math.nan, "total": 10.0}, None),
        ({"errors": 0.5, "total": math.inf}, None),
    ],
)
def test_rates_become_events_and_anything_unknown_is_no_data(
    answers: dict[str, float | None], expected: Counts | None
) -> None:
    assert window_counts(window(), answers) == expected


# --- over HTTP --------------------------------------------------------------------------------


async def read(specs: SpecSet, url: str, **options: Any) -> tuple[Any, PrometheusSliSource]:
    async with httpx.AsyncClient() as client:
        source = PrometheusSliSource(url, client, **options)
        return await source.counts(specs, NOW), source


async def test_answers_become_counts_for_every_window(specs: SpecSet) -> None:
    async with Target({"/prom/api/v1/query": json_reply(vector(0.25, 0.75))}) as prometheus:
        counts, source = await read(specs, prometheus.url("/prom/"))
        sent = [parse_qs(urlsplit(r.target).query) for r in prometheus.requests]
    assert source.last_error is None
    assert set(counts[SERIES]) == QUICK_LABELS
    # the fake answers 1.0/s to both queries (two samples, summed): all events are bad
    assert counts[SERIES]["5m"] == Counts(300.0, 300.0)
    assert counts[SERIES]["1d"] == Counts(86_400.0, 86_400.0)
    assert len(sent) == 2 * len(QUICK_LABELS)
    assert all(q["time"] == [f"{NOW:.3f}"] for q in sent)
    assert {"sum(rate(http_requests_total[1d]))"} <= {q["query"][0] for q in sent}


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        (Reply(503, b"<html>maintenance</html>"), "HTTP 503, not a Prometheus API answer"),
        (
            json_reply({"status": "error", "errorType": "bad_data", "error": "parse error"}, 400),
            "HTTP 400, bad_data: parse error",
        ),
        (
            json_reply({"status": "success", "data": {"resultType": "matrix", "result": []}}),
            "returned a matrix, not a number or an instant vector",
        ),
        (json_reply({"status": "success", "data": {"resultType": "vector"}}), "malformed answer"),
        (Garbage(), "RemoteProtocolError"),
    ],
)
async def test_any_bad_answer_is_no_data_and_says_why(
    specs: SpecSet, answer: Any, complaint: str
) -> None:
    async with Target({"/api/v1/query": answer}) as prometheus:
        counts, source = await read(specs, prometheus.base_url)
    assert counts == {}
    assert source.last_error is not None
    assert complaint in source.last_error
    node = specs.nodes[0]
    found = counts.get(SERIES, {})
    status = evaluate_slo("shop", "operated", node.slos[0], specs.windows_for(node), found, NOW)
    assert {(w.sli, w.burn_rate) for w in status.windows} == {(None, None)}
    assert status.budget.remaining_ratio is None


async def test_an_unreachable_prometheus_is_no_data_and_says_so(specs: SpecSet) -> None:
    url = f"http://user:secret@127.0.0.1:{free_port()}"
    counts, source = await read(specs, url)
    assert counts == {}
    assert source.last_error is not None
    assert source.last_error.startswith("ConnectError")
    assert "secret" not in source.last_error + source.url


async def test_a_hanging_prometheus_costs_one_timeout_and_one_wave_of_queries(
    specs: SpecSet,
) -> None:
    async with Target({"/api/v1/query": Hang()}) as prometheus:
        counts, source = await read(specs, prometheus.base_url, timeout=0.2, concurrency=2)
        asked = prometheus.request_count
    assert counts == {}
    assert source.last_error == "no answer within 0.2s"
    assert asked == 2  # the queries still waiting were not sent once Prometheus timed out


async def test_last_error_clears_when_prometheus_answers_again(specs: SpecSet) -> None:
    async with Target({"/api/v1/query": Reply(502)}) as prometheus, httpx.AsyncClient() as client:
        source = PrometheusSliSource(prometheus.base_url, client)
        assert await source.counts(specs, NOW) == {}
        assert source.last_error is not None
        prometheus.route("/api/v1/query", json_reply(vector(2.0)))
        counts = await source.counts(specs, NOW)
    assert source.last_error is None
    assert counts[SERIES]["1m"] == Counts(120.0, 120.0)


async def test_specs_without_prometheus_slos_send_nothing(tmp_path: Path) -> None:
    specs = load(tmp_path, probed=node_spec("probed", "http://127.0.0.1:9/"))
    async with Target({"/api/v1/query": Reply(500)}) as prometheus:
        counts, source = await read(specs, prometheus.base_url)
        asked = prometheus.request_count
    assert (counts, source.last_error, asked) == ({}, None, 0)


async def test_bad_settings_are_refused() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="timeout must be positive"):
            PrometheusSliSource("http://127.0.0.1:9090", client, timeout=0)
        with pytest.raises(ValueError, match="concurrency at least 1"):
            PrometheusSliSource("http://127.0.0.1:9090", client, concurrency=0)


async def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown(
    specs: SpecSet,
) -> None:
    async with Target({"/api/v1/query": json_reply(vector(1.0))}) as prometheus:
        url = f"http://reader:s3cret@127.0.0.1:{prometheus.port}"
        counts, source = await read(specs, url)
        headers = {r.header("authorization") for r in prometheus.requests}
    assert headers == {"Basic " + base64.b64encode(b"reader:s3cret").decode()}
    assert source.url == prometheus.base_url
    assert counts[SERIES]["5m"] == Counts(300.0, 300.0)
