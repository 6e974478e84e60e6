"""The status page's journeys section: each journey's SLOs, the budget it burned by hop and by
partner, and its ceiling."""

from __future__ import annotations

from collections.abc import Sequence

from agent.api.page_parts import _e, bar_width, percent, slo_table, state_badge
from agent.journeys.views import HopShare, JourneyView
from agent.model import Mode
from agent.numbers import multiple
from agent.slo.status import worst_state


def hop_row(hop: HopShare) -> str:
    reasons = ", ".join(f"{_e(r)} {n}" for r, n in hop.reasons.items())
    width = bar_width(hop.fraction)
    partner = hop.partner or ("the team" if hop.mode == Mode.OPERATED.value else "")
    return (
        f'<tr><th scope="row">{_e(hop.step)}</th><td>{_e(hop.node)}'
        f" <small>{_e(hop.mode or 'unknown')}</small></td><td>{_e(partner)}</td>"
        f"<td>{hop.bad_runs}</td>"
        f'<td><div class="share"><div class="bar"><span class="fill" style="width:{width:.1f}%">'
        f"</span></div><span>{_e(percent(hop.fraction, 1))}</span></div></td>"
        f"<td>{reasons}</td></tr>"
    )


def journey_card(view: JourneyView) -> str:
    state = worst_state(s.state for s in view.slos)
    if view.hops:
        blame = (
            '<table class="blame"><caption>Burned budget by hop</caption><thead><tr>'
            '<th scope="col">step</th><th scope="col">node</th><th scope="col">partner</th>'
            '<th scope="col">bad runs</th><th scope="col">share of burn</th>'
            '<th scope="col">reasons</th></tr></thead>'
            f"<tbody>{''.join(hop_row(h) for h in view.hops)}</tbody></table>"
        )
    else:
        blame = '<p class="empty">No budget burned: no hop to blame.</p>'
    if view.partners:
        parts = " · ".join(
            f"{_e(p.partner or 'the team')} {_e(percent(p.fraction, 1))}" for p in view.partners
        )
        blame += f'<p class="who">By partner: {parts}</p>'
    ceiling = view.ceiling
    ceiling_text = f"ceiling {percent(ceiling.availability, 3)}"
    if ceiling.availability is None:
        ceiling_text = "ceiling not measured yet"
    warn = ""
    if ceiling.above:
        warn = f' <span class="badge ticket">above ceiling: {_e(", ".join(ceiling.above))}</span>'
    return (
        f'<article class="card state-{_e(state.value)}" id="journey-{_e(view.journey)}">'
        f'<h3><a class="name" href="/journeys/{_e(view.journey)}">{_e(view.journey)}</a> '
        f"{state_badge(state)}</h3>"
        f'<p class="who">{view.runs} runs, {multiple(view.bad_runs)} bad in {_e(view.period)} · '
        f"{_e(ceiling_text)}{warn}</p>{slo_table(view.slos)}{blame}</article>"
    )


def journeys_section(views: Sequence[JourneyView]) -> str:
    if not views:
        return ""
    cards = "".join(journey_card(v) for v in views)
    return (
        '<section id="journeys"><h2>Journeys <small>cross-partner paths · '
        f"{len(views)}</small></h2>{cards}</section>"
    )
