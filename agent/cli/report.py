"""``slo-agent report``: budgets per SLO, the probes failing now, per journey the hops that
burned its budget, its dependency ceiling and its failing steps, and per node its failed fallback
drills, read from the store, with no agent running.

SLOs with a prometheus SLI are read from Prometheus when ``--prometheus-url`` is given.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx
from rich.console import Console
from rich.table import Table

from agent.api.journeys_json import journey_json
from agent.api.status_json import snapshot_json
from agent.cli.journeys import render_journeys
from agent.cli.report_drills import failed_drills, failed_drills_json, render_failed_drills
from agent.cli.report_failures import render_failures, stored_failures
from agent.cli.report_steps import render_failing_steps
from agent.cli.styles import STATE_STYLES
from agent.errors import UserError
from agent.journeys.views import read_journey_views
from agent.model import SpecSet
from agent.numbers import times, whole
from agent.runtime.evaluator import evaluate
from agent.runtime.source import SpecSource
from agent.slo.events import Counts
from agent.slo.status import SloStatus, Snapshot
from agent.sources.prometheus import PrometheusSliSource
from agent.store.sqlite import SqliteStore


def _pct(ratio: float | None, digits: int = 3) -> str:
    return "no data" if ratio is None else f"{ratio * 100:.{digits}f}%"


def _burn(rate: float | None) -> str:
    return "-" if rate is None else times(rate)


def _events(count: float) -> str:
    """Whole for counted events; estimates from Prometheus rates are rounded."""
    return whole(count) if float(count).is_integer() else f"~{whole(count)}"


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds <= 0:
        return "exhausted"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _row(s: SloStatus) -> list[str]:
    period = s.window(s.period)
    one_hour = s.window("1h")
    state = s.state
    style = STATE_STYLES[state]
    return [
        s.node,
        s.mode,
        s.slo,
        _pct(s.objective),
        f"{_pct(period.sli)} ({_events(period.bad)}/{_events(period.total)} bad)",
        s.budget.left_text(1) or "no data",
        _burn(one_hour.burn_rate),
        f"[{style}]{state.label}[/{style}]",
        _eta(s.exhaustion_seconds),
    ]


def render_table(snapshot: Snapshot, console: Console) -> None:
    table = Table(title="SLO budgets", title_justify="left")
    for header in (
        "node",
        "mode",
        "slo",
        "objective",
        "SLI (period)",
        "budget left",
        "burn 1h",
        "state",
        "exhausted in",
    ):
        table.add_column(header)
    for s in snapshot.slos():
        table.add_row(*_row(s))
    console.print(table)


def report(
    paths: Sequence[str],
    env: Mapping[str, str],
    store_path: Path,
    *,
    as_json: bool,
    now: float,
    out: TextIO,
    prometheus_url: str | None = None,
) -> int:
    if not store_path.exists():
        raise UserError(
            f"{store_path}: no store here; start the agent first (slo-agent run) "
            "or point --store at its database"
        )
    specs = SpecSource(paths, env, secrets_required=False).load()
    external: dict[str, dict[str, Counts]] = {}
    sources: list[dict[str, object]] = []
    if prometheus_url is not None:
        external, source = asyncio.run(_read_prometheus(prometheus_url, specs, now))
        error = source.last_error
        sources.append(
            {"name": source.name, "url": source.url, "ok": error is None, "error": error}
        )
    store = SqliteStore(store_path)
    try:
        snapshot = evaluate(specs, store, now, external)
        snapshot = dataclasses.replace(snapshot, failures=stored_failures(specs, store))
        views = read_journey_views(specs, snapshot, store, now)
        drills = failed_drills(specs, store, now)
    finally:
        store.close()
    if as_json:
        status = snapshot_json(snapshot)
        by_node = failed_drills_json(drills)
        nodes = [{**n, "failed_drills": by_node.get(n["node"], [])} for n in status["nodes"]]
        journeys = [journey_json(view) for view in views]
        body = {**status, "nodes": nodes, "journeys": journeys, "sli_sources": sources}
        json.dump(body, out, indent=2)
        out.write("\n")
    else:
        console = Console(file=out, width=160)
        render_table(snapshot, console)
        render_failures(snapshot.failures, console)
        render_journeys(views, console)
        render_failing_steps(views, console)
        render_failed_drills(drills, console)
        for problem in sources:
            if not problem["ok"]:
                console.print(
                    f"{problem['name']} at {problem['url']}: {problem['error']}; "
                    "its SLOs show no data",
                    markup=False,
                )
    return 0


async def _read_prometheus(
    url: str, specs: SpecSet, now: float
) -> tuple[dict[str, dict[str, Counts]], PrometheusSliSource]:
    async with httpx.AsyncClient() as client:
        source = PrometheusSliSource(url, client)
        return await source.counts(specs, now), source
