"""``report``'s failing journey steps: per journey, the steps whose own node failed over the
journey's longest SLO period (the period of its blame table), from the step and blame buckets
that count every run (:mod:`agent.journeys.failing_steps`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from agent.cli.bounded import print_bounded
from agent.journeys.failing_steps import BlamedHop, FailingStep
from agent.journeys.views import JourneyView
from agent.numbers import whole

TITLE = "Failing journey steps (over each journey's SLO period)"


def failed_text(step: FailingStep) -> str:
    """``6 of 18 (33.3%)``."""
    return f"{whole(step.failed)} of {whole(step.runs)} ({step.ratio * 100:.1f}%)"


def saved_text(step: FailingStep) -> str:
    """``backup-pay saved 4 of 6``; ``-`` for a step without a fallback."""
    if step.fallback is None:
        return "-"
    return f"{step.fallback} saved {whole(step.saved)} of {whole(step.failovers)}"


def blamed_text(hops: Sequence[BlamedHop]) -> str:
    """``acme-pay: status 4, timeout 2; fastship: latency 1`` (most runs first), ``-`` when
    none."""
    by_node: dict[str, list[str]] = {}
    for hop in hops:
        by_node.setdefault(hop.node, []).append(f"{hop.reason} {whole(hop.runs)}")
    return "; ".join(f"{node}: {', '.join(reasons)}" for node, reasons in by_node.items()) or "-"


def render_failing_steps(views: Sequence[JourneyView], console: Console) -> None:
    """One table of every journey's failing steps, the most failed first; nothing if none."""
    steps = [(view, step) for view in views for step in view.failing_steps]
    steps.sort(key=lambda pair: -pair[1].failed)  # stable: journeys, then their own order
    table = Table(title=TITLE, title_justify="left")
    for header in ("journey", "period", "step", "node", "partner", "failed", "fallback"):
        table.add_column(header)
    table.add_column("blamed (bad runs)", overflow="fold")
    rows = [
        [
            view.journey,
            view.period,
            step.step,
            step.node,
            step.partner or "-",
            failed_text(step),
            saved_text(step),
            blamed_text(step.blamed),
        ]
        for view, step in steps
    ]
    print_bounded(console, table, rows, "failing steps")
