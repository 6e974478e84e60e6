"""``--probe-workers``: the probe jobs run in worker processes that send their results to the
agent. The same specs against the same loopback targets give the same store counts, SLI
events and failure reasons in both modes; workers restart when one dies, take reloads, respect
back-off, and never outlive the agent."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.app import running_agent
from agent.cli.main import app
from agent.probes.result import Reason
from agent.slo.events import Counts
from agent.store.buckets import ProbeCounts
from agent.store.sqlite import SqliteStore
from tests.support.agents import (
    agent_process,
    metric_samples,
    node_spec,
    options,
    scrape,
    write_specs,
)
from tests.support.fakes import eventually
from tests.support.otlp import OtlpHttpReceiver
from tests.support.targets import Exchange, Reply, Target, ThreadedTarget

STARTUP = 60.0  # seconds a worker may take to import and start on a busy machine
RETRY_AFTER = 1  # seconds the throttling node asks for


class Counting:
    """A reply that counts the requests it answered."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.served = 0

    async def serve(self, exchange: Exchange) -> bool:
        self.served += 1
        return await self.reply.serve(exchange)


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait(condition: object, timeout: float = STARTUP) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return metric_samples(response.read().decode())


def _results(url: str, node: str) -> float:
    return sum(
        value
        for (name, labels), value in _scrape(url).items()
        if name == "slo_agent_probe_results_total" and dict(labels)["node"] == node
    )


def _metric(url: str, name: str) -> float:
    return sum(v for (n, _), v in _scrape(url).items() if n == name)


Stored = tuple[dict[str, int], dict[str, ProbeCounts], dict[str, Counts]]


async def _run_mode(tmp: Path, workers: int) -> Stored:
    """Run the agent on three nodes (one fine, one failing, one throttling) until each has
    results; what each node's target served, and the store's probe and SLI counts."""
    behaviours = {
        "fine": Counting(Reply(200, b"ok")),
        "failing": Counting(Reply(500, b"no")),
        "busy": Counting(Reply(429, b"wait", {"Retry-After": str(RETRY_AFTER)})),
    }
    async with Target(routes={f"/{n}": b for n, b in behaviours.items()}) as target:
        specs = {n: node_spec(n, target.url(f"/{n}")) for n in behaviours}
        spec_dir = write_specs(tmp / "specs", **specs)
        store = tmp / "store.db"
        opts = dataclasses.replace(options(spec_dir, store), probe_workers=workers)
        async with running_agent(opts, os.environ):
            await eventually(lambda: all(b.served >= 3 for b in behaviours.values()), STARTUP)
            await eventually(lambda: behaviours["fine"].served >= 15, STARTUP)
        served = {n: b.served for n, b in behaviours.items()}
    with SqliteStore(store) as s:
        probes = {node: counts for (node, _), counts in s.probe_totals().items()}
        return served, probes, s.series_totals()


async def test_workers_record_what_one_process_records(tmp_path: Path) -> None:
    single = await _run_mode(tmp_path / "single", 1)
    workers = await _run_mode(tmp_path / "workers", 2)
    meanings = []
    for served, probes, series in (single, workers):
        for node, count in served.items():
            counts = probes[node]
            # every request that reached the target is stored (but one cancelled at stop)
            assert count - 1 <= counts.total <= count, (node, count, counts)
            # one SLI event per stored result
            assert series[f"{node}/availability"].total == counts.total
        # back-off: the throttling node is asked once per Retry-After (1 s), not every 200 ms
        assert served["busy"] * 2 <= served["fine"], served
        meanings.append(
            {
                node: (
                    dict(probes[node].failures_by_reason),
                    series[f"{node}/availability"].bad == series[f"{node}/availability"].total,
                    series[f"{node}/availability"].bad == 0,
                )
                for node in served
            }
        )
    single_meaning, workers_meaning = meanings
    assert {n: (set(r), bad, good) for n, (r, bad, good) in single_meaning.items()} == {
        n: (set(r), bad, good) for n, (r, bad, good) in workers_meaning.items()
    }
    assert set(workers_meaning["failing"][0]) == {Reason.STATUS}
    assert set(workers_meaning["busy"][0]) == {Reason.THROTTLED}
    assert workers_meaning["fine"] == ({}, False, True)


def test_workers_restart_reload_and_stop_with_the_agent(tmp_path: Path) -> None:
    with ThreadedTarget({"/a": Reply(200, b"ok"), "/b": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        store = tmp_path / "store.db"
        extra = ("--probe-workers", "2", "--watch-interval", "200ms")
        with agent_process(specs, store, *extra) as (proc, url):
            _wait(lambda: len(_children(proc.pid)) == 2)
            first = _children(proc.pid)
            _wait(lambda: _results(url, "node-a") >= 5)
            assert _metric(url, "slo_agent_probe_workers_running") == 2

            victim = min(first)
            os.kill(victim, signal.SIGKILL)
            _wait(lambda: len(_children(proc.pid) - first) == 1)  # started again
            # with workers a scrape gets the body rendered after the scrape before: wait for it
            _wait(lambda: _metric(url, "slo_agent_probe_worker_restarts_total") == 1)
            assert "probe worker" in store.with_suffix(".log").read_text()

            write_specs(specs, b=node_spec("node-b", target.url("/b")))  # hot reload
            _wait(lambda: _results(url, "node-b") >= 5)
            before = _results(url, "node-a")
            _wait(lambda: _results(url, "node-a") >= before + 5)  # both still probed

            every = first | _children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        _wait(lambda: not any(_alive(pid) for pid in every), 30)


def test_workers_exit_when_the_agent_is_killed(tmp_path: Path) -> None:
    with ThreadedTarget({"/a": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        store = tmp_path / "store.db"
        with agent_process(specs, store, "--probe-workers", "2") as (proc, url):
            _wait(lambda: len(_children(proc.pid)) == 2)
            workers = _children(proc.pid)
            _wait(lambda: _results(url, "node-a") >= 3)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        _wait(lambda: not any(_alive(pid) for pid in workers), 30)


@pytest.mark.parametrize("value", ["0", "65", "two", "-1"])
def test_bad_probe_workers_values_exit_2(value: str) -> None:
    done = CliRunner().invoke(app, ["run", "--probe-workers", value, "--store", os.devnull])
    assert done.exit_code == 2, done.output
    text = " ".join(done.output.replace("│", " ").split())
    assert f"'{value}' is not a number of processes from 1 to 64 or auto" in text


async def test_workers_trace_probes_and_the_agent_counts_their_spans(tmp_path: Path) -> None:
    with OtlpHttpReceiver() as receiver:
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        }
        async with Target(routes={"/health": Reply(200)}) as target:
            spec_dir = write_specs(
                tmp_path / "specs", shop=node_spec("shop", target.url("/health"))
            )
            opts = dataclasses.replace(options(spec_dir, tmp_path / "s.db"), probe_workers=2)
            async with running_agent(opts, env) as running:
                await eventually(lambda: len(receiver.spans) >= 3, STARTUP)

                async def exported_counted() -> bool:
                    samples = await scrape(running.url)
                    return samples.get(("slo_agent_spans_exported_total", frozenset()), 0) >= 3

                await eventually(exported_counted, STARTUP)
            headers = [request.header("traceparent") for request in target.requests]
            spans = receiver.spans
    sent = {header[:-3] for header in headers if header is not None}
    exported = {f"00-{s.trace_id}-{s.span_id}" for s in spans}
    assert len(sent) == len(headers) >= 3
    assert len(sent & exported) >= len(sent) - 1


def test_a_large_spec_set_probes_in_one_worker_process_by_default(tmp_path: Path) -> None:
    """Without --probe-workers, 2,000 SLOs on two usable cores or more probe in one worker
    process (on one core, in the agent's): the runs are counted by the agent all the same."""
    from agent.runtime.worker_count import WORKERS_FROM_SLOS, usable_cores, workers_for
    from bench.scale import write_specs as write_node_specs

    with ThreadedTarget({"/health": Reply(200, b"ok")}) as target:
        specs = tmp_path / "specs"
        specs.mkdir()
        write_node_specs(specs, WORKERS_FROM_SLOS // 2, target.url("/health"), "10s")
        expected = workers_for(WORKERS_FROM_SLOS, usable_cores())
        with agent_process(specs, tmp_path / "store.db") as (proc, url):
            _wait(lambda: _metric(url, "slo_agent_probe_results_total") >= 200, 60)
            assert len(_children(proc.pid)) == expected
            assert _metric(url, "slo_agent_probe_workers_running") == expected
