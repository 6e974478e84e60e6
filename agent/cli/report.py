"""``slo-agent report``: budgets per SLO, read from the store, with no agent running."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from agent.api.status_json import alert_state, snapshot_json
from agent.errors import UserError
from agent.runtime.evaluator import evaluate
from agent.runtime.source import SpecSource
from agent.slo.status import SloStatus, Snapshot
from agent.store.sqlite import SqliteStore


def _pct(ratio: float | None, digits: int = 3) -> str:
    return "no data" if ratio is None else f"{ratio * 100:.{digits}f}%"


def _burn(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2f}x"


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
    state = alert_state(s)
    style = {"page": "bold red", "ticket": "yellow"}.get(state, "green")
    return [
        s.node,
        s.mode,
        s.slo,
        _pct(s.objective),
        f"{_pct(period.sli)} ({period.bad}/{period.total} bad)",
        _pct(s.budget.remaining_ratio, 1),
        _burn(one_hour.burn_rate),
        f"[{style}]{state}[/{style}]",
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
        "alert",
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
) -> int:
    if not store_path.exists():
        raise UserError(
            f"{store_path}: no store here; start the agent first (slo-agent run) "
            "or point --store at its database"
        )
    specs = SpecSource(paths, env).load()
    store = SqliteStore(store_path)
    try:
        snapshot = evaluate(specs, store, now)
    finally:
        store.close()
    if as_json:
        json.dump(snapshot_json(snapshot), out, indent=2)
        out.write("\n")
    else:
        render_table(snapshot, Console(file=out, width=160))
    return 0
