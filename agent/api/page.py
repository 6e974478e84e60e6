"""The status page at ``/``: one server-rendered HTML document from the status snapshot, the
journey views and (when the advisor runs) the decision reviews.

Pure functions from data to HTML: no I/O, no clock, no JavaScript, no external assets (the CSS
is inline), so the page works offline and under a strict Content-Security-Policy. Every piece of
text that comes from specs, probes or errors goes through :func:`html.escape`. The page reloads
itself with a meta refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.api import page_urgency
from agent.api.page_certificates import certificates_line
from agent.api.page_decisions import DecisionRow, decisions_section
from agent.api.page_failures import failures_list, run_failures_section
from agent.api.page_journeys import journeys_section
from agent.api.page_parts import _e, burn_text, document, percent, slo_table, state_badge, utc_text
from agent.api.page_urgency import by_urgency, node_state, ok_list
from agent.journeys.views import JourneyView
from agent.model import Mode
from agent.slo.certificates import CertificateStatus
from agent.slo.failures import ProbeFailure
from agent.slo.status import (
    PRECEDENCE,
    NodeStatus,
    SloState,
    SloStatus,
    Snapshot,
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
        f'<h3><a class="name" href="/nodes/{_e(node.node)}">{_e(node.node)}</a> '
        f"{state_badge(state)}</h3>"
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
    collapse: bool = False,
) -> str:
    """The nodes of one mode, most urgent first; with ``collapse`` the ok ones as a short list
    of links (the page stays small with thousands of nodes)."""
    title, subtitle = MODE_TITLES[mode]
    by_node: dict[str, list[CertificateStatus]] = {}
    for cert in certificates:
        by_node.setdefault(cert.node, []).append(cert)
    failing: dict[str, list[ProbeFailure]] = {}
    for failure in failures:
        failing.setdefault(failure.node, []).append(failure)
    ranked = by_urgency(nodes)
    shown = [n for n in ranked if node_state(n) is not SloState.OK] if collapse else ranked
    cards = "".join(
        node_card(n, by_node.get(n.node, ()), at, failing.get(n.node, ())) for n in shown
    )
    if collapse:
        cards += ok_list([n for n in ranked if node_state(n) is SloState.OK])
    body = cards or '<p class="empty">None.</p>'
    return (
        f'<section class="mode" id="{_e(mode.value)}">'
        f"<h2>{_e(title)} <small>{_e(subtitle)} · {len(nodes)}</small></h2>{body}</section>"
    )


ATTENTION_LISTED = 500
"""The most nodes the "needs attention" list shows (the worst first)."""


def attention_section(nodes: Sequence[NodeStatus]) -> str:
    """Every node not ok, most urgent first, one line each with its worst SLO's budget and
    burn: what an on-call person opens the page for, first and phone-sized."""
    urgent = [n for n in by_urgency(nodes) if node_state(n) is not SloState.OK]
    if not urgent:
        return ""
    rows = []
    for n in urgent[:ATTENTION_LISTED]:
        worst = min(n.slos, key=lambda s: PRECEDENCE.index(s.state))
        remaining = worst.budget.remaining_ratio
        fastest = max((w.burn_rate or 0.0 for w in worst.windows[:-1]), default=0.0)
        rows.append(
            f'<li class="urgent state-{_e(worst.state.value)}" data-node="{_e(n.node)}">'
            f"{state_badge(worst.state)} "
            f'<a class="name" href="/nodes/{_e(n.node)}">{_e(n.node)}</a> '
            f"<span>{_e(worst.slo)} · budget {_e(percent(remaining, 1))} · "
            f"burn up to {_e(burn_text(fastest))}</span></li>"
        )
    more = len(urgent) - ATTENTION_LISTED
    rest = f'<p class="who">and {more} more below</p>' if more > 0 else ""
    return (
        '<section id="attention"><h2>Needs attention <small>most urgent first · '
        f'{len(urgent)}</small></h2><ul class="attention">{"".join(rows)}</ul>{rest}</section>'
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
            collapse=len(snapshot.nodes) > page_urgency.SUMMARY_AFTER,
        )
        for mode in MODE_TITLES
    )
    main = (
        f"<main>{attention_section(snapshot.nodes)}{sections}{journeys_section(data.journeys)}"
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
