"""The status page at ``/``: one server-rendered HTML document from the status snapshot, the
journey views and (when the advisor runs) the decision reviews.

Pure functions from data to HTML: no I/O, no clock, no JavaScript, no external assets (the CSS
is inline), so the page works offline and under a strict Content-Security-Policy. Every piece of
text that comes from specs, probes or errors goes through :func:`html.escape`. The page reloads
itself with a meta refresh.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from agent.api.page_certificates import STYLE as CERTIFICATE_STYLE
from agent.api.page_certificates import certificates_line
from agent.api.page_decisions import DecisionRow, decisions_section
from agent.api.page_failures import STYLE as FAILURE_STYLE
from agent.api.page_failures import failures_list, run_failures_section
from agent.api.page_style import STYLE
from agent.journeys.views import HopShare, JourneyView
from agent.model import Mode
from agent.slo.certificates import CertificateStatus
from agent.slo.failures import ProbeFailure
from agent.slo.status import (
    PRECEDENCE,
    BudgetStatus,
    NodeStatus,
    SloState,
    SloStatus,
    Snapshot,
    multiple,
    worst_state,
)

DEFAULT_REFRESH = 10  # seconds between reloads of the page

ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("/metrics", "Prometheus metrics"),
    ("/healthz", "liveness"),
    ("/readyz", "readiness (after the first SLO evaluation)"),
    ("/api/v1/status", "every node and SLO: SLI per window, budget, burn rates, alerts"),
    ("/api/v1/journeys", "every journey: SLOs, burned budget per hop and partner, ceiling"),
    ("/api/v1/decisions", "every node's operate-vs-orchestrate review: flags, reasons, scores"),
)
"""The endpoints the page's footer lists (those the app serves)."""

MODE_TITLES = {
    Mode.OPERATED: ("Operated nodes", "run by the team"),
    Mode.ORCHESTRATED: ("Orchestrated nodes", "run by partners"),
}


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """An SLI source outside the agent that did not answer, and why."""

    name: str
    url: str
    error: str


@dataclass(frozen=True, slots=True)
class PageData:
    snapshot: Snapshot
    journeys: Sequence[JourneyView] = ()
    decisions: Sequence[DecisionRow] | None = None  # None: no advisor, no section
    reload_error: str | None = None
    source_problems: Sequence[SourceProblem] = ()
    refresh: int = DEFAULT_REFRESH
    shard: str = ""  # "i/n" when this replica probes one shard of the nodes
    endpoints: Sequence[tuple[str, str]] = ENDPOINTS


# --- numbers ------------------------------------------------------------------------------------


def bar_width(ratio: float | None) -> float:
    """A bar's width in percent: ``ratio`` clamped to 0..1 (None and NaN give 0)."""
    if ratio is None or ratio != ratio:
        return 0.0
    return max(0.0, min(1.0, ratio)) * 100.0


def percent(ratio: float | None, digits: int = 2) -> str:
    """``0.999`` -> ``99.9%``; None -> an em dash."""
    if ratio is None:
        return "—"
    text = f"{ratio * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def objective_text(ratio: float) -> str:
    return percent(ratio, 4)


def burn_text(burn: float | None) -> str:
    if burn is None:
        return "—"
    return f"{multiple(burn)}\u00d7"  # multiplication sign


def duration_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)}s"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def utc_text(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- pieces -------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def state_badge(state: SloState) -> str:
    return f'<span class="badge {_e(state.value)}">{_e(state.label)}</span>'


def budget_bar(budget: BudgetStatus) -> str:
    """The remaining error budget as a bar (0 to 100%), with the overspent case called out."""
    remaining, consumed = budget.remaining_ratio, budget.consumed_ratio
    if remaining is None or consumed is None:  # both or neither: see budget_status
        return '<div class="budget nodata"><div class="bar"></div><span>no data</span></div>'
    width = bar_width(remaining)
    if remaining < 0:
        return (
            '<div class="budget overspent"><div class="bar">'
            f'<span class="fill" style="width:{width:.1f}%"></span></div>'
            f"<span>overspent: {_e(percent(consumed, 0))} of budget used</span></div>"
        )
    level = "good" if remaining > 0.5 else "low" if remaining > 0.2 else "critical"
    minutes = budget.remaining_minutes
    left = f" · {minutes:.1f} min" if minutes is not None else ""
    return (
        f'<div class="budget {level}"><div class="bar">'
        f'<span class="fill" style="width:{width:.1f}%"></span></div>'
        f"<span>{_e(percent(remaining, 1))} left{_e(left)}</span></div>"
    )


def burn_rates(slo: SloStatus) -> str:
    """Burn rate per standard window (the period is left to the SLI column)."""
    cells = "".join(
        f'<span class="burn{" hot" if (w.burn_rate or 0) >= 1 else ""}">'
        f"<b>{_e(w.window)}</b> {_e(burn_text(w.burn_rate))}</span>"
        for w in slo.windows[:-1]
    )
    return f'<div class="burns">{cells}</div>'


def alert_cell(slo: SloStatus) -> str:
    tiers = "".join(
        f"<li>{_e(a.severity.value)} {_e(a.long)}/{_e(a.short)}: "
        f"{_e(burn_text(a.long_burn))}/{_e(burn_text(a.short_burn))} "
        f"(fires at {_e(burn_text(a.factor))})</li>"
        for a in slo.firing
    )
    exhaustion = ""
    left = slo.exhaustion_seconds
    if left is not None:
        gone = "budget exhausted" if left <= 0 else f"budget gone in {duration_text(left)}"
        exhaustion = f'<p class="exhaust">{_e(gone)}</p>'
    listing = f'<ul class="tiers">{tiers}</ul>' if tiers else ""
    return f"{state_badge(slo.state)}{listing}{exhaustion}"


def slo_table(slos: Sequence[SloStatus]) -> str:
    if not slos:
        return '<p class="empty">No SLOs.</p>'
    rows = "".join(
        f'<tr class="slo state-{_e(s.state.value)}">'
        f'<th scope="row">{_e(s.slo)}</th>'
        f"<td>{_e(objective_text(s.objective))}</td>"
        f"<td>{_e(percent(s.windows[-1].sli, 3))} <small>{_e(s.period)}</small></td>"
        f"<td>{budget_bar(s.budget)}</td>"
        f"<td>{burn_rates(s)}</td>"
        f"<td>{alert_cell(s)}</td></tr>"
        for s in slos
    )
    return (
        '<table class="slos"><thead><tr><th scope="col">SLO</th><th scope="col">objective</th>'
        '<th scope="col">SLI</th><th scope="col">error budget</th>'
        '<th scope="col">burn rate</th><th scope="col">state</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def node_card(
    node: NodeStatus,
    certificates: Sequence[CertificateStatus] = (),
    at: float = 0.0,
    failures: Sequence[ProbeFailure] = (),
) -> str:
    """A node's card; ``certificates`` are its probes' (days left counted at ``at``), and
    ``failures`` its probes' last failures (those failing now are shown)."""
    who = [f"owner {node.owner}", f"capability {node.capability}"]
    if node.partner:
        who.append(f"partner {node.partner}")
    state = worst_state(s.state for s in node.slos)
    return (
        f'<article class="card state-{_e(state.value)}" id="node-{_e(node.node)}">'
        f'<h3><span class="name">{_e(node.node)}</span> {state_badge(state)}</h3>'
        f'<p class="who">{" · ".join(_e(w) for w in who)}</p>'
        f"{failures_list(failures)}{slo_table(node.slos)}{certificates_line(certificates, at)}"
        "</article>"
    )


def mode_section(
    mode: Mode,
    nodes: Sequence[NodeStatus],
    certificates: Sequence[CertificateStatus] = (),
    at: float = 0.0,
    failures: Sequence[ProbeFailure] = (),
) -> str:
    title, subtitle = MODE_TITLES[mode]
    by_node: dict[str, list[CertificateStatus]] = {}
    for cert in certificates:
        by_node.setdefault(cert.node, []).append(cert)
    failing: dict[str, list[ProbeFailure]] = {}
    for failure in failures:
        failing.setdefault(failure.node, []).append(failure)
    cards = "".join(
        node_card(n, by_node.get(n.node, ()), at, failing.get(n.node, ())) for n in nodes
    )
    body = cards or '<p class="empty">None.</p>'
    return (
        f'<section class="mode" id="{_e(mode.value)}">'
        f"<h2>{_e(title)} <small>{_e(subtitle)} · {len(nodes)}</small></h2>{body}</section>"
    )


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
        f'<h3><span class="name">{_e(view.journey)}</span> {state_badge(state)}</h3>'
        f'<p class="who">{view.runs} runs, {view.bad_runs:g} bad in {_e(view.period)} · '
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


def banners(data: PageData) -> str:
    out = []
    if data.reload_error:
        out.append(
            '<p class="banner">Spec reload failed; the last good specs stay in force: '
            f"{_e(data.reload_error)}</p>"
        )
    for problem in data.source_problems:
        out.append(
            f'<p class="banner">SLI source {_e(problem.name)} ({_e(problem.url)}) did not answer: '
            f"{_e(problem.error)}</p>"
        )
    return "".join(out)


def footer(endpoints: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><a href="{_e(path)}"><code>{_e(path)}</code></a> {_e(what)}</li>'
        for path, what in endpoints
    )
    return f'<footer><h2>Endpoints</h2><ul class="endpoints">{items}</ul></footer>'


def document(title: str, refresh: int, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{max(1, int(refresh))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}{CERTIFICATE_STYLE}{FAILURE_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def state_counts(slos: Iterable[SloStatus]) -> dict[SloState, int]:
    """How many SLOs are in each state, worst first (every state, zeros included)."""
    states = [s.state for s in slos]
    return {state: states.count(state) for state in PRECEDENCE}


def count_badge(state: SloState, count: int) -> str:
    """A header count in its state's colour, greyed out at zero."""
    kind = state.value if count else "none"
    return f'<span class="badge count {_e(kind)}">{count} {_e(state.label)}</span>'


# --- pages --------------------------------------------------------------------------------------


def status_page(data: PageData) -> str:
    """The whole status page for one snapshot."""
    snapshot = data.snapshot
    slos = snapshot.slos()
    counts = state_counts(slos)
    summary = (
        f"{len(snapshot.nodes)} nodes · {len(snapshot.journeys)} journeys · {len(slos)} SLOs · "
        + " ".join(count_badge(state, n) for state, n in counts.items())
    )
    shard = f"shard {_e(data.shard)} (this replica's nodes) · " if data.shard else ""
    header = (
        f"<header><h1>slo-agent</h1><p>evaluated {_e(utc_text(snapshot.evaluated_at))} · "
        f"{shard}{summary}</p></header>"
    )
    sections = "".join(
        mode_section(
            mode,
            [n for n in snapshot.nodes if n.mode is mode],
            snapshot.certificates,
            snapshot.evaluated_at,
            snapshot.failures,
        )
        for mode in MODE_TITLES
    )
    main = (
        f"<main>{sections}{journeys_section(data.journeys)}"
        f"{run_failures_section(snapshot.step_failures, snapshot.drill_failures)}"
        f"{decisions_section(data.decisions)}</main>"
    )
    alerting = ", ".join(f"{counts[s]} {s.label}" for s in PRECEDENCE[:3])
    title = f"slo-agent · {alerting}"
    return document(title, data.refresh, header + banners(data) + main + footer(data.endpoints))


def pending_page(
    refresh: int = DEFAULT_REFRESH, endpoints: Sequence[tuple[str, str]] = ENDPOINTS
) -> str:
    """The page before the first SLO evaluation: nothing measured yet."""
    body = (
        "<header><h1>slo-agent</h1></header><main><section>"
        '<h2 class="pending">First evaluation pending</h2>'
        "<p>The agent is probing; node status, budgets and alerts appear after its first SLO "
        f"evaluation. This page reloads every {max(1, int(refresh))} s.</p></section></main>"
        + footer(endpoints)
    )
    return document("slo-agent · first evaluation pending", refresh, body)
