"""The journeys part of ``slo-agent report``: per journey, who burned its budget, and its
dependency ceiling."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from agent.journeys.views import JourneyView
from agent.numbers import whole


def _pct(ratio: float | None, digits: int = 1) -> str:
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def _runs(count: float) -> str:
    return whole(count) if float(count).is_integer() else f"{count:,.2f}"


def _ceiling_line(view: JourneyView) -> str:
    ceiling = view.ceiling
    if ceiling.availability is None:
        return "dependency ceiling: not enough runs yet"
    line = f"dependency ceiling: {_pct(ceiling.availability, 3)}"
    objectives = {slo.slo: slo.objective for slo in view.slos}
    for name in ceiling.above:
        objective = _pct(objectives.get(name), 3) if name in objectives else ""
        line += f"; [bold red]objective {name} {objective} is above it[/bold red]"
    untested = [hop.step for hop in ceiling.hops if hop.untested_fallback]
    if untested:
        line += f"; untested fallback (counted as none): {', '.join(untested)}"
    return line


def render_journeys(views: Sequence[JourneyView], console: Console) -> None:
    """One table per journey: the share of its burned budget each hop caused, then by partner."""
    for view in views:
        title = (
            f"Journey {view.journey}: {_runs(view.bad_runs)} bad runs of {view.runs} "
            f"over {view.period}"
        )
        table = Table(title=title, title_justify="left")
        for header in ("step", "node", "mode", "partner", "budget burned", "bad runs", "reasons"):
            table.add_column(header)
        table.add_column("example traces", overflow="fold")
        for hop in view.hops:
            reasons = ", ".join(f"{reason} {runs}" for reason, runs in hop.reasons.items())
            table.add_row(
                hop.step,
                hop.node,
                hop.mode,
                hop.partner or "-",
                _pct(hop.fraction),
                str(hop.bad_runs),
                reasons,
                " ".join(hop.trace_ids) or "-",
            )
        console.print(table)
        if view.partners:
            shares = "; ".join(
                f"{partner.partner or 'operated by the team'} {_pct(partner.fraction)}"
                for partner in view.partners
            )
            console.print(f"by partner: {shares}", markup=False)
        console.print(_ceiling_line(view))
