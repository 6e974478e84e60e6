"""Size and time of the status page at scale, summary first against every card.

Evaluates ``--nodes`` nodes with two SLOs each (``--failing`` of them burning, the rest fine)
into a snapshot with the shipped evaluator, serves it with the agent's own HTTP app and server
on a loopback port, and times ``GET /`` ``--repeat`` times: the page as shipped (the ok nodes
collapsed into a list of links past 50 nodes) and, in the same run, the page with every node as
a card (what it was before), so the two are compared on the same machine load.

    python -m bench.status_page --nodes 5000 --failing 50 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import time
from collections.abc import Mapping
from datetime import timedelta

import httpx

import agent.api.page_urgency as page
from agent.api.app import create_app
from agent.api.server import AppServer
from agent.model import Node, ProbeSli, RollingWindow, Slo
from agent.runtime.evaluator import evaluate
from agent.slo.events import Counts
from agent.slo.status import Snapshot
from tests.support.builders import node, spec_set
from tests.support.fakes import StaticView


class _Sums:
    """Every window of a failing node's SLOs holds 10% bad events, the others none."""

    def __init__(self, failing: set[str]) -> None:
        self._failing = failing

    def sums_many(
        self, requests: Mapping[str, Mapping[str, tuple[float, float]]]
    ) -> dict[str, dict[str, Counts]]:
        return {
            series: {
                label: Counts(1000, 100 if series.split("/")[0] in self._failing else 0)
                for label in ranges
            }
            for series, ranges in requests.items()
        }


def snapshot(nodes: int, failing: int) -> Snapshot:
    base = node()
    window = RollingWindow(timedelta(days=28))
    slos = (
        Slo("availability", 0.999, window, ProbeSli("authorize")),
        Slo("latency", 0.99, window, ProbeSli("authorize", timedelta(milliseconds=400))),
    )
    many: list[Node] = [
        dataclasses.replace(base, name=f"node-{i:05d}", slos=slos) for i in range(nodes)
    ]
    specs = spec_set(*many)
    names = {n.name for n in many[:: max(1, nodes // max(1, failing))][:failing]}
    return evaluate(specs, _Sums(names), 1_700_000_000.0)


async def measure(current: Snapshot, repeat: int) -> tuple[list[float], int]:
    app = create_app(StaticView(current), lambda: b"", "text/plain")
    times, size = [], 0
    async with AppServer(app) as server, httpx.AsyncClient(timeout=120) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            response = await client.get(f"{server.url}/")
            times.append(time.perf_counter() - started)
            size = len(response.content)
    return times, size


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--failing", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    current = snapshot(args.nodes, args.failing)
    shipped = page.SUMMARY_AFTER
    for label, after in (("summary first", shipped), ("every card", 10**9)):
        page.SUMMARY_AFTER = after
        times, size = await measure(current, args.repeat)
        print(
            f"{label:14} {args.nodes} nodes ({2 * args.nodes} SLOs, {args.failing} burning): "
            f"{size / 1e6:.2f} MB, median {statistics.median(times) * 1000:.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
        )
    page.SUMMARY_AFTER = shipped


if __name__ == "__main__":
    asyncio.run(main())
