"""What one ``/api/v1/status`` request costs at 10,000 SLOs, over the agent's own HTTP server.

Builds a synthetic :class:`agent.slo.status.Snapshot` of ``--nodes`` nodes with ``--slos`` SLOs
each (8 windows and 4 alert tiers per SLO, as the default AlertWindows give; a TLS certificate
on every other node, a last failure on every tenth; 1 % of the SLOs paging, 1 % on a ticket,
0.5 % exhausted), serves it with :func:`agent.api.app.create_app` on a free loopback port, and
times ``--repeat`` GETs of each query: the wall time to the last byte, the process CPU time
(server and client are this process) and the body size.

    python -m bench.status_api --nodes 5000 --slos 2 --repeat 7
    python -m bench.status_api --query "" --query "limit=100" --query "state=page"

It imports only what earlier versions also have, so it can time an older checkout too
(``PYTHONPATH=<that tree> python bench/status_api.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.model import Mode, Severity
from agent.slo.certificates import CertificateStatus
from agent.slo.failures import ProbeFailure
from agent.slo.status import (
    AlertStatus,
    BudgetStatus,
    NodeStatus,
    SloStatus,
    Snapshot,
    WindowStatus,
)

NOW = 1_700_000_000.0
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d")
TIERS: tuple[tuple[Severity, str, str, float], ...] = (
    (Severity.PAGE, "1h", "5m", 14.4),
    (Severity.PAGE, "6h", "30m", 6.0),
)
TIERS += ((Severity.TICKET, "1d", "2h", 3.0), (Severity.TICKET, "3d", "6h", 1.0))
DEFAULT_QUERIES = ("", "limit=100", "state=page", "node=node-04242", "limit=5000")


def _slo(node: str, index: int, serial: int) -> SloStatus:
    paging, ticket, exhausted = serial % 100 == 7, serial % 100 == 42, serial % 200 == 99
    burn = 20.0 if paging else 4.0 if ticket else 0.5
    windows = tuple(WindowStatus(w, 1200.0, 6.0, 0.995, burn) for w in WINDOWS)
    remaining = -0.4 if exhausted else 0.62
    alerts = tuple(
        AlertStatus(sev, long, short, factor, burn, burn, firing=burn >= factor)
        for sev, long, short, factor in TIERS
    )
    return SloStatus(
        node=node,
        slo=f"slo-{index}",
        mode="operated",
        objective=0.99,
        period="28d",
        windows=windows,
        budget=BudgetStatus(12.0, 4.56, 1 - remaining, remaining, 403.2, 403.2 * remaining),
        alerts=alerts,
        exhaustion_seconds=None if burn < 1 else 86_400.0,
    )


def snapshot(nodes: int, slos: int) -> Snapshot:
    statuses = []
    certificates = []
    failures = []
    for n in range(nodes):
        name = f"node-{n:05d}"
        statuses.append(
            NodeStatus(
                name,
                Mode.OPERATED if n % 2 else Mode.ORCHESTRATED,
                "team",
                f"cap-{n % 50}",
                "" if n % 2 else "Partner Inc",
                tuple(_slo(name, i, n * slos + i) for i in range(slos)),
            )
        )
        if n % 2 == 0:
            certificates.append(CertificateStatus(name, "probe", NOW + 40 * 86_400, 14 * 86_400))
        if n % 10 == 0:
            failures.append(
                ProbeFailure(name, "probe", NOW - 60, "status", "HTTP 503", None, failing=True)
            )
    return Snapshot(NOW, tuple(statuses), (), tuple(certificates), tuple(failures))


@dataclass
class _View:
    snapshot: Snapshot | None
    ready: bool = True
    last_reload_error: str | None = None


async def measure(nodes: int, slos: int, queries: list[str], repeat: int) -> None:
    snap = snapshot(nodes, slos)
    app = create_app(_View(snap), lambda: b"", "text/plain")
    async with AppServer(app) as server, httpx.AsyncClient(base_url=server.url, timeout=60) as c:
        print(f"{nodes} nodes, {nodes * slos} SLOs; median of {repeat} (min-max)")
        print(f"{'query':<24} {'wall ms':>18} {'cpu ms':>8} {'bytes':>12} status")
        for query in queries:
            walls, cpus, size, status = [], [], 0, 0
            for _ in range(repeat):
                cpu, wall = time.process_time(), time.perf_counter()
                response = await c.get(f"/api/v1/status?{query}" if query else "/api/v1/status")
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
                size, status = len(response.content), response.status_code
            wall_text = f"{statistics.median(walls):.0f} ({min(walls):.0f}-{max(walls):.0f})"
            shown = query or "(none)"
            print(
                f"{shown:<24} {wall_text:>18} {statistics.median(cpus):>8.0f} {size:>12,} {status}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--slos", type=int, default=2, help="SLOs per node")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--query", action="append", help="a query string; repeatable")
    args = parser.parse_args()
    queries = args.query if args.query is not None else list(DEFAULT_QUERIES)
    asyncio.run(measure(args.nodes, args.slos, queries, max(1, min(args.repeat, 50))))


if __name__ == "__main__":
    main()
