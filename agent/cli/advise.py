"""``slo-agent advise``: which nodes' operate-or-orchestrate decision the measurements say to
revisit, read from the store with no agent running.

The review replays the stored history (every ``interval`` of the policy in force over its
``sustain``/``clear`` span) so a flag shows only when its signal has held long enough, exactly
as the running agent would have raised it. Exit code 1 when any node is flagged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.advisor.policy import AXES
from agent.advisor.review import DecisionReport, NodeReview
from agent.api.decisions_json import decisions_json
from agent.durations import format_duration
from agent.errors import UserError
from agent.runtime.advice import policy_of, replay
from agent.runtime.source import SpecSource
from agent.store.sqlite import SqliteStore

AXIS_HEADERS = {
    "slo_criticality": "crit",
    "total_cost": "cost",
    "integration_complexity": "integ",
    "brand_differentiation": "brand",
    "resilience": "resil",
}


def _verdict(review: NodeReview, report: DecisionReport) -> str:
    """The recommendation in force, then what is pending and when it takes effect."""
    text = escape(review.recommendation)
    if review.target is not None:
        text = f"{text} -> {escape(review.target)}"
    shown = f"[bold yellow]{text}[/bold yellow]" if review.flagged else f"[green]{text}[/green]"
    pending = report.pending(review)
    if pending is not None:
        shown += f"\n[yellow]{escape(pending.text(report.evaluated_at))}[/yellow]"
    return shown


def render_table(report: DecisionReport, console: Console) -> None:
    hold = format_duration_seconds(report.sustain)
    table = Table(
        title=f"Operate or orchestrate: decision review (policy {report.policy}; a flag needs "
        f"its signal for {hold})",
        title_justify="left",
        show_lines=True,
    )
    for header in ("node", "mode", "recommendation", *AXIS_HEADERS.values(), "lean", "why"):
        table.add_column(header, overflow="fold")
    for review in report.reviews:
        scores = [str(review.scores[axis].score) for axis in AXES]
        reasons = "\n".join(f"- {reason.text}" for reason in review.advice.reasons)
        table.add_row(
            review.node,
            review.mode.value,
            _verdict(review, report),
            *scores,
            f"{review.lean:+.2f}",
            reasons,
        )
    console.print(table)
    flagged = len(report.flagged)
    console.print(
        f"{flagged} of {len(report.reviews)} nodes flagged for review. Scores 1-5: "
        + ", ".join(f"{short} = {axis}" for axis, short in AXIS_HEADERS.items())
        + "; lean > 0 points to operating, < 0 to orchestrating.",
        markup=False,
    )


def format_duration_seconds(seconds: float) -> str:
    return format_duration(timedelta(seconds=seconds))


def advise(
    paths: Sequence[str],
    env: Mapping[str, str],
    store_path: Path,
    *,
    as_json: bool,
    now: float,
    out: TextIO,
) -> int:
    """Print the review; 1 when any node is flagged, else 0."""
    if not store_path.exists():
        raise UserError(
            f"{store_path}: no store here; start the agent first (slo-agent run) "
            "or point --store at its database"
        )
    specs = SpecSource(paths, env, secrets_required=False).load()
    store = SqliteStore(store_path)
    try:
        report, _ = replay(specs, store, now, policy_of(specs))
    finally:
        store.close()
    if as_json:
        json.dump(decisions_json(report), out, indent=2)
        out.write("\n")
    else:
        render_table(report, Console(file=out, width=180))
    return 1 if report.flagged else 0
