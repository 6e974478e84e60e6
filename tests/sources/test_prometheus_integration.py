"""Prometheus-measured SLOs against a real Prometheus scraping a service's own counters.

The service (:class:`TrafficExporter`) serves requests in batches of 9 successes and 1 server
error, counted atomically with respect to scrapes, so every scrape sees exactly 10% errors.
Prometheus extrapolates ``rate()`` per series, but both series have the same sample times and
proportional values, so they are extrapolated alike: the error ratio it yields is exactly 10%
at any instant. Absolute counts are exact too when evaluated at the time of a sample, with the
series' first (zero) sample inside the window: ``rate()`` then neither extrapolates to the
window's start (a counter at 0 is not extended below zero) nor to its end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.app import running_agent
from agent.cli.report import report
from agent.model import SpecSet
from agent.slo.evaluate import evaluate_slo
from agent.sources.prometheus import PrometheusSliSource
from agent.store.sqlite import SqliteStore
from tests.sources.specs import QUICK_WINDOWS, load, prometheus_node
from tests.support.agents import node_spec, options, scrape, write_specs
from tests.support.fakes import eventually
from tests.support.net import free_port
from tests.support.prometheus import PrometheusServer
from tests.support.targets import Reply, Target
from tests.support.traffic import TrafficExporter

ROOT = Path(__file__).resolve().parents[2]
SERIES = "shop/availability"
BATCH = {"200": 9, "500": 1}
WINDOWS = ("1m", "5m", "30m", "1h", "2h", "6h", "1d", "3d")
READY_WITHIN = 30.0  # seconds for Prometheus' first scrapes (it waits ~5 s before the first)


@dataclass(frozen=True, slots=True)
class Scraped:
    exporter: TrafficExporter
    prometheus: PrometheusServer


def wait_until(condition: Any, within: float = READY_WITHIN) -> None:
    """Poll a condition on another process (bounded)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "Prometheus did not get there in time"
        time.sleep(0.05)


@contextlib.contextmanager
def serving(exporter: TrafficExporter, tmp_path: Path) -> Iterator[PrometheusServer]:
    """A Prometheus scraping ``exporter`` every second; traffic starts once Prometheus holds
    the counters' zero samples, so each series begins at 0."""
    with PrometheusServer(tmp_path, scrape_targets=[exporter.address]) as prometheus:
        wait_until(lambda: len(prometheus.query("http_requests_total")) == len(BATCH))
        exporter.start_traffic(BATCH)
        yield prometheus


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    with (
        TrafficExporter(BATCH) as exporter,
        serving(exporter, tmp_path_factory.mktemp("prometheus")) as prometheus,
    ):
        yield Scraped(exporter, prometheus)


def samples(prometheus: PrometheusServer) -> dict[str, list[tuple[float, float]]]:
    """The raw samples of each ``http_requests_total`` series of the last 10 minutes."""
    body = prometheus.query_raw("http_requests_total[10m]").json()
    return {
        series["metric"]["code"]: [(float(t), float(v)) for t, v in series["values"]]
        for series in body["data"]["result"]
    }


def a_scrape_with_traffic(prometheus: PrometheusServer) -> tuple[float, float, float]:
    """``(time, all requests, server errors)`` of an early scrape that saw traffic."""

    def found() -> bool:
        return sum(value > 0 for _, value in samples(prometheus).get("500", [])) >= 2

    wait_until(found)
    by_code = samples(prometheus)
    first_errors = next(i for i, (_, v) in enumerate(by_code["500"]) if v > 0)
    index = first_errors + 1  # two scrapes with traffic: rate() has something to measure
    at, errors = by_code["500"][index]
    at_ok, ok = by_code["200"][index]
    assert at == at_ok
    assert by_code["500"][0][1] == 0
    return at, ok + errors, errors


async def read(specs: SpecSet, url: str, now: float) -> tuple[Any, PrometheusSliSource]:
    async with httpx.AsyncClient() as client:
        source = PrometheusSliSource(url, client)
        return await source.counts(specs, now), source


async def test_counts_are_exactly_the_requests_prometheus_saw(
    scraped: Scraped, tmp_path: Path
) -> None:
    specs = load(tmp_path, shop=prometheus_node())
    at, served, errors = a_scrape_with_traffic(scraped.prometheus)
    counts, source = await read(specs, scraped.prometheus.url, at)
    assert source.last_error is None
    assert sorted(counts[SERIES]) == sorted(WINDOWS)
    for label in WINDOWS:  # rate x window length gives back the same events in every window
        found = counts[SERIES][label]
        assert (found.total, found.bad) == pytest.approx((served, errors), rel=1e-9), label
    node = specs.nodes[0]
    status = evaluate_slo(
        "shop", "operated", node.slos[0], specs.windows_for(node), counts[SERIES], at
    )
    assert status.window("5m").sli == pytest.approx(0.9, abs=1e-12)
    assert status.window("1h").burn_rate == pytest.approx(10.0, rel=1e-9)  # 10% / 1% allowed


async def test_missing_series_failed_queries_and_good_ones_in_one_evaluation(
    scraped: Scraped, tmp_path: Path
) -> None:
    specs = load(
        tmp_path,
        shop=prometheus_node("shop"),
        # no request ever got a 503: that series does not exist, which is zero errors
        calm=prometheus_node(
            "calm", errors='sum(rate(http_requests_total{code="503"}[{{window}}]))'
        ),
        # a metric nobody exports: no total, so no data (not 100%)
        ghost=prometheus_node("ghost", total="sum(rate(no_such_metric_total[{{window}}]))"),
        # valid for the spec (it parses), refused by Prometheus: "(" is no regular expression
        broken=prometheus_node(
            "broken",
            total='label_replace(sum(rate(http_requests_total[{{window}}])), "a", "$1", "b", "(")',
        ),
    )
    a_scrape_with_traffic(scraped.prometheus)
    counts, source = await read(specs, scraped.prometheus.url, time.time())
    assert set(counts) == {"shop/availability", "calm/availability"}
    calm = counts["calm/availability"]["5m"]
    assert calm.total > 0
    assert calm.bad == 0
    assert counts["shop/availability"]["5m"].bad / counts["shop/availability"]["5m"].total == (
        pytest.approx(0.1, abs=1e-12)
    )
    assert source.last_error is not None
    assert "HTTP 422, execution: invalid regular expression" in source.last_error


def test_report_includes_the_prometheus_slo(scraped: Scraped, tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", shop=prometheus_node(), windows=QUICK_WINDOWS)
    store = tmp_path / "store.db"
    SqliteStore(store).close()
    a_scrape_with_traffic(scraped.prometheus)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "agent", "report", str(specs), "--store", str(store)),
            *("--json", "--prometheus-url", scraped.prometheus.url),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ},
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    [node] = body["nodes"]
    [slo] = node["slos"]
    assert (node["node"], slo["slo"]) == ("shop", "availability")
    assert slo["windows"]["5m"]["sli"] == pytest.approx(0.9, abs=1e-12)
    assert slo["windows"]["5m"]["total"] > 0
    assert body["sli_sources"] == [
        {"name": "prometheus", "url": scraped.prometheus.url, "ok": True, "error": None}
    ]

    table = io.StringIO()
    url = scraped.prometheus.url
    code = report(
        [str(specs)], {}, store, as_json=False, now=time.time(), out=table, prometheus_url=url
    )
    assert code == 0
    assert "90.000%" in table.getvalue()


def test_report_with_prometheus_down_shows_no_data_and_why(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "specs", shop=prometheus_node(), windows=QUICK_WINDOWS)
    store = tmp_path / "store.db"
    SqliteStore(store).close()
    url = f"http://127.0.0.1:{free_port()}"
    out = io.StringIO()
    code = report(
        [str(specs)], {}, store, as_json=False, now=time.time(), out=out, prometheus_url=url
    )
    assert code == 0
    text = out.getvalue()
    assert "no data" in text
    assert "100.000%" not in text
    assert "0.000%" not in text
    assert f"prometheus at {url}: ConnectError" in text


async def status_of(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"{url}/api/v1/status")).json()
    return body


def slo_of(body: dict[str, Any], node: str) -> dict[str, Any]:
    """The first SLO of ``node`` in a status body."""
    [found] = [n for n in body["nodes"] if n["node"] == node]
    slo: dict[str, Any] = found["slos"][0]
    return slo


async def test_agent_reports_prometheus_slos_and_no_data_while_prometheus_is_down(
    tmp_path: Path,
) -> None:
    shop_5m = frozenset({("node", "shop"), ("slo", "availability"), ("window", "5m")})
    with TrafficExporter(BATCH) as exporter, serving(exporter, tmp_path) as prometheus:
        async with Target({"/health": Reply(200, b"ok")}) as target:
            specs = write_specs(
                tmp_path / "specs",
                shop=prometheus_node(probe_url=target.url("/health")),
                windows=QUICK_WINDOWS,
                probed=node_spec("probed", target.url("/health")),
            )
            run = dataclasses.replace(
                options(specs, tmp_path / "store.db"), prometheus_url=prometheus.url
            )
            async with running_agent(run, {}) as running, httpx.AsyncClient() as client:

                async def shop_has_data() -> bool:
                    body = await status_of(client, running.url)
                    return slo_of(body, "shop")["windows"]["5m"]["sli"] is not None

                await running.agent.evaluated.wait()
                await eventually(shop_has_data, within=READY_WITHIN)
                up = await status_of(client, running.url)
                assert slo_of(up, "shop")["windows"]["5m"]["sli"] == pytest.approx(0.9, abs=1e-12)
                assert slo_of(up, "shop")["windows"]["5m"]["burn_rate"] == pytest.approx(10.0)
                assert slo_of(up, "shop")["alert_state"] == "page"  # 10x burn on 5m and 1m
                assert up["sli_sources"] == [
                    {"name": "prometheus", "url": prometheus.url, "ok": True, "error": None}
                ]
                metrics = await scrape(running.url)
                assert metrics[("slo_agent_sli_ratio", shop_5m)] == pytest.approx(0.9, abs=1e-12)

                prometheus.stop()
                probed_before = slo_of(up, "probed")["windows"]["1h"]["total"]
                source = running.agent.sli_source
                assert source is not None
                assert SERIES not in await source.counts(running.agent.specs, time.time())
                snapshot = await running.agent.evaluate()
                [shop] = [s for s in snapshot.slos() if s.node == "shop"]
                assert {(w.sli, w.burn_rate) for w in shop.windows} == {(None, None)}
                assert shop.budget.remaining_ratio is None
                assert shop.firing == ()  # no data is no alert

                down = await status_of(client, running.url)
                assert slo_of(down, "shop")["windows"]["5m"]["sli"] is None
                [problem] = down["sli_sources"]
                assert problem["ok"] is False
                assert problem["error"].startswith("ConnectError")
                assert ("slo_agent_sli_ratio", shop_5m) not in await scrape(running.url)

                async def probing_goes_on() -> bool:
                    body = await status_of(client, running.url)
                    return bool(slo_of(body, "probed")["windows"]["1h"]["total"] > probed_before)

                await eventually(probing_goes_on)
