"""``/metrics`` with ``--probe-workers``: the exposition holds the series of the runs the
worker processes made, and a scrape is served the body rendered before it (from memory) while
it starts the next render; ``slo_agent_metrics_read_timestamp_seconds`` says when its counters
were read."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from tests.support.agents import agent_process, metric_samples, node_spec, write_specs
from tests.support.targets import Reply, ThreadedTarget

STARTUP = 60.0  # seconds the workers may take to start on a busy machine
READ_AT = "slo_agent_metrics_read_timestamp_seconds"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(url: str) -> tuple[float, Samples]:
    """When the request was sent (Unix time) and the samples of the body it got."""
    sent = time.time()
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        return sent, metric_samples(response.read().decode())


def _value(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def _until(condition: object, timeout: float = STARTUP) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_worker_mode_metrics_hold_the_workers_series_and_come_from_memory(tmp_path: Path) -> None:
    with ThreadedTarget({"/a": Reply(200, b"ok"), "/b": Reply(500, b"no")}) as target:
        specs = write_specs(
            tmp_path / "specs",
            a=node_spec("node-a", target.url("/a")),
            b=node_spec("node-b", target.url("/b")),
        )
        extra = ("--probe-workers", "2")
        with agent_process(specs, tmp_path / "store.db", *extra) as (_, url):

            def probed() -> bool:
                _, samples = _scrape(url)
                return all(
                    _value(samples, "slo_agent_probe_results_total", node=n) >= 3
                    for n in ("node-a", "node-b")
                )

            _until(probed)
            # the runs made in the workers, as the agent records its own
            _, samples = _scrape(url)
            ok = _value(samples, "slo_agent_probe_results_total", node="node-a", outcome="success")
            bad = _value(samples, "slo_agent_probe_results_total", node="node-b", outcome="failure")
            assert ok >= 3
            assert bad >= 3
            assert _value(samples, "slo_agent_sli_events_total", node="node-a") >= 3
            assert _value(samples, "slo_agent_probe_duration_seconds_count", node="node-b") >= 3
            assert _value(samples, "slo_agent_probe_workers_running") == 2

            # once the body is older than its max age (1 s), a scrape is served that body as it
            # is: its counters were read before the request was sent ...
            _, before = _scrape(url)
            read_at = _value(before, READ_AT)
            _until(lambda: time.time() > read_at + 2.0)
            sent, served = _scrape(url)
            assert _value(served, READ_AT) < sent
            # ... and it started the render that the following scrapes get
            _until(lambda: _value(_scrape(url)[1], READ_AT) > sent)
            _, fresh = _scrape(url)
            assert _value(fresh, "slo_agent_probe_results_total", node="node-a") >= _value(
                served, "slo_agent_probe_results_total", node="node-a"
            )
