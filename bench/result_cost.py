"""The agent's own CPU per plain HTTP probe result, in process, no network, stage by stage.

Stages, each in µs per result (median of ``--batches`` batches over ``--probes`` distinct
probes, each batch one run of every probe, after one warm-up batch):

* ``path``: :meth:`ProbePipeline.run` with an observer that answers at once: back-off, the
  result, SLI events, the store's buffer, the failure book, the certificate book and metrics;
* ``flush``: the store's flush of that batch, per result;
* ``prober``: :class:`HttpProber` over a transport that answers at once (the request plan, the
  client, the checks of the response), i.e. the prober's Python work without the socket;
* ``total``: the sum of these three;
* ``socket`` (with nginx, which the script starts): :class:`HttpProber` on the fresh-connection
  transport against nginx on loopback, 50 probes at a time: the prober, the transport and the
  event loop's socket work; not in ``total`` (it contains ``prober``).

``--against TREE`` measures another checkout of slo-agent too (e.g. a ``git worktree`` of an
earlier commit), alternating this tree and that one in fresh processes, ``--rounds`` times each,
so both are measured under the same load; it ends with the medians and their ratio.

    python -m bench.result_cost
    git worktree add /tmp/base e544aff
    python -m bench.result_cost --against /tmp/base --rounds 5

The script only uses what both trees have (the model, ``HttpProber``, ``ProbePipeline``,
``SqliteStore``, ``AgentMetrics``), so it runs against checkouts older than itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

STAGES = ("path", "flush", "prober", "total", "socket")
CONCURRENCY = 50  # probes in flight in the socket stage
URL = "http://127.0.0.1:9/health"  # never connected to: the transports answer
BODY = "ok"


def _targets(probes: int) -> list[Any]:
    """One operated node per probe, one HTTP probe at 1 s and two SLOs, as bench.probe_throughput
    builds them."""
    from agent.model import HttpCheck, Mode, Node, Probe, ProbeSli, RollingWindow, Slo
    from agent.schedule.scheduler import Target

    targets = []
    for j in range(probes):
        check = HttpCheck(url=URL, expect_status=frozenset({200}), body_contains=BODY)
        probe = Probe(name="health", interval=timedelta(seconds=1), check=check)
        window = RollingWindow(timedelta(days=28))
        node = Node(
            name=f"target-{j:05d}",
            mode=Mode.OPERATED,
            owner="bench",
            capability="bench",
            probes=(probe,),
            slos=(
                Slo("availability", 0.999, window, ProbeSli("health")),
                Slo("latency", 0.99, window, ProbeSli("health", timedelta(milliseconds=300))),
            ),
        )
        targets.append(Target(node, probe))
    return targets


async def _measure(probes: int, batches: int, url: str | None) -> dict[str, float]:
    import httpx

    from agent.model import HttpCheck
    from agent.probes.http import HttpProber
    from agent.probes.transport import FreshConnectionTransport
    from agent.runtime.pipeline import ProbePipeline
    from agent.store.sqlite import SqliteStore
    from exporters.prometheus.metrics import AgentMetrics

    class Canned(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=BODY.encode())

    def canned(verify: Any) -> httpx.AsyncBaseTransport:
        return Canned()

    targets = _targets(probes)
    prober = HttpProber(transport_factory=canned)
    observation = await prober.observe(targets[0].probe.check)
    assert observation.ok, observation.detail

    class Instant:
        """An observer that answers every check with one passing observation."""

        async def observe(self, check: Any, headers: Any = None) -> Any:
            return observation

        async def aclose(self) -> None:
            return None

    figures: dict[str, list[float]] = {stage: [] for stage in STAGES}
    with tempfile.TemporaryDirectory(prefix="bench-result-cost-") as tmp:
        store = SqliteStore(Path(tmp) / "store.db")
        pipeline = ProbePipeline(Instant(), store, AgentMetrics(), clock=time.time)
        for batch in range(batches + 1):  # the first batch warms up
            start = time.process_time()
            for target in targets:
                await pipeline.run(target)
            path = time.process_time() - start
            start = time.process_time()
            store.flush()
            flush = time.process_time() - start
            start = time.process_time()
            for target in targets:
                await prober.observe(target.probe.check)
            probe = time.process_time() - start
            if batch:
                figures["path"].append(path)
                figures["flush"].append(flush)
                figures["prober"].append(probe)
                figures["total"].append(path + flush + probe)
        store.close()
    await prober.aclose()
    if url is not None:
        figures["socket"] = await _socket(
            HttpProber(transport_factory=FreshConnectionTransport),
            HttpCheck(url=url, expect_status=frozenset({200}), body_contains=BODY),
            probes,
            batches,
        )
    return {stage: statistics.median(v) * 1e6 / probes for stage, v in figures.items() if v}


async def _socket(prober: Any, check: Any, probes: int, batches: int) -> list[float]:
    """CPU seconds of each batch of ``probes`` probes of ``check``, CONCURRENCY at a time."""

    async def some(n: int) -> None:
        for _ in range(n):
            observation = await prober.observe(check)
            assert observation.ok, observation.detail

    each = []
    for batch in range(batches + 1):
        start = time.process_time()
        await asyncio.gather(*(some(probes // CONCURRENCY) for _ in range(CONCURRENCY)))
        if batch:
            each.append(
                (time.process_time() - start) * probes / (probes // CONCURRENCY * CONCURRENCY)
            )
    await prober.aclose()
    return each


def _child(tree: str, probes: int, batches: int, url: str | None) -> dict[str, float]:
    """Measure ``tree`` in a fresh process whose ``agent`` and ``exporters`` come from it."""
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run(
        [sys.executable, __file__, "--child", f"--probes={probes}", f"--batches={batches}"]
        + ([f"--url={url}"] if url else []),
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def _row(name: str, figures: dict[str, float]) -> str:
    return f"| {name} | " + " | ".join(f"{figures.get(s, math.nan):.1f}" for s in STAGES) + " |"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--probes", type=int, default=2000, help="distinct probes (default 2000)")
    ap.add_argument("--batches", type=int, default=7, help="measured batches (default 7)")
    ap.add_argument("--against", help="another slo-agent checkout to measure alternately")
    ap.add_argument("--rounds", type=int, default=5, help="with --against: processes per tree")
    ap.add_argument("--no-socket", action="store_true", help="skip the socket stage (no nginx)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        import uvloop  # as the agent runs

        print(json.dumps(uvloop.run(_measure(args.probes, args.batches, args.url))))
        return
    if args.no_socket:
        _compare(args, None)
        return
    from bench.targets import Nginx, ensure_installed

    ensure_installed()
    with Nginx() as nginx:
        _compare(args, nginx.url)


def _compare(args: argparse.Namespace, url: str | None) -> None:
    here = str(Path(__file__).resolve().parent.parent)
    trees = {"this tree": here}
    if args.against:
        trees["against"] = str(Path(args.against).resolve())
    rounds = args.rounds if args.against else 1
    seen: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    print("| tree, round | " + " | ".join(f"{s} µs" for s in STAGES) + " |")
    print("|---|" + "---:|" * len(STAGES))
    for i in range(rounds):
        for name, tree in trees.items() if i % 2 == 0 else reversed(trees.items()):
            figures = _child(tree, args.probes, args.batches, url)
            seen[name].append(figures)
            print(_row(f"{name} ({tree}), {i + 1}", figures), flush=True)
    medians = {
        name: {s: statistics.median(f.get(s, math.nan) for f in runs) for s in STAGES}
        for name, runs in seen.items()
    }
    print()
    print("| tree | " + " | ".join(f"{s} µs (median)" for s in STAGES) + " |")
    print("|---|" + "---:|" * len(STAGES))
    for name, figures in medians.items():
        print(_row(name, figures))
    if args.against:
        a, b = medians["this tree"], medians["against"]
        print("| this tree / against | " + " | ".join(f"{a[s] / b[s]:.2f}" for s in STAGES) + " |")


if __name__ == "__main__":
    main()
