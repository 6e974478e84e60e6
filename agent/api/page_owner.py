"""Builds a node's or a journey's page at the time of a snapshot: reads its history series
(:mod:`agent.api.history_read`), its kept raw results (for the incident timeline) and its
journey blame, then renders :func:`agent.api.page_node.owner_page`."""

from __future__ import annotations

from datetime import timedelta

from agent.api.history import History, HistoryQuery
from agent.api.history_read import HistorySource, NotFound, history
from agent.api.history_types import OwnerKind
from agent.api.page_node import OwnerPage, incidents, owner_page
from agent.api.page_parts import _e, utc_text
from agent.model import Journey, Node
from agent.slo.status import Snapshot

DAY = timedelta(days=1)
TIMELINE_SINCE = 48 * 3600.0  # seconds of raw results the incident timeline looks back
TIMELINE_RESULTS = 2000  # the most raw results it reads
BLAME_SLOTS = 6  # the last day in slots of 4 hours


def _charts(
    source: HistorySource, kind: OwnerKind, name: str, slo: str, now: float
) -> tuple[History, History]:
    period = history(source, HistoryQuery(kind, name, slo, ("budget",), None, None), now)
    day = history(source, HistoryQuery(kind, name, slo, ("sli", "burn"), DAY, None), now)
    return period, day


def _blame_table(source: HistorySource, journey: Journey, now: float) -> str:
    slot = 86400.0 / BLAME_SLOTS
    starts = [now - 86400.0 + i * slot for i in range(BLAME_SLOTS)]
    columns = [source.store.journey_blame_counts(journey.name, s, s + slot) for s in starts]
    hops = sorted({(step, node) for col in columns for step, node, _ in col})
    head = "".join(f"<th>from {utc_text(s)[11:16]}</th>" for s in starts)
    rows = []
    for step, node in hops:
        cells = "".join(
            f"<td>{sum(c.runs for (st, nd, _), c in col.items() if (st, nd) == (step, node))}</td>"
            for col in columns
        )
        rows.append(f"<tr><th>{_e(step)}</th><td>{_e(node)}</td>{cells}</tr>")
    if not rows:
        return (
            '<section id="blame"><h2>Blame per hop</h2>'
            '<p class="empty">No bad runs in the last day.</p></section>'
        )
    return (
        '<section id="blame"><h2>Blame per hop <small>bad runs blamed, last day by 4 h</small></h2>'
        f'<table class="blame"><thead><tr><th>step</th><th>node</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render_owner(
    source: HistorySource,
    snapshot: Snapshot,
    kind: OwnerKind,
    name: str,
    trace_url_template: str | None,
) -> str:
    """The page of node or journey ``name``; raises :class:`NotFound` when there is none."""
    owner = source.owner(kind, name)
    now = snapshot.evaluated_at
    charts = {s.name: _charts(source, kind, name, s.name, now) for s in owner.slos}
    if isinstance(owner, Node):
        status = next((n for n in snapshot.nodes if n.node == name), None)
        if status is None:
            raise NotFound(f"node {name!r} is not evaluated by this replica")
        who = f"owner {owner.owner} · capability {owner.capability}"
        if owner.partner:
            who += f" · partner {owner.partner.name}"
        probe_history = history(
            source, HistoryQuery("node", name, None, ("outcomes", "latency"), DAY, None), now
        )
        results = source.store.recent_results(
            node=name, since=now - TIMELINE_SINCE, limit=TIMELINE_RESULTS
        )
        page = OwnerPage(
            kind,
            name,
            status.slos,
            now,
            who,
            owner.alerting.annotations,
            charts,
            probe_history,
            [f for f in snapshot.failures if f.node == name],
            incidents(results),
            trace_url_template,
        )
        return owner_page(page)
    journey = next((j for j in snapshot.journeys if j.journey == name), None)
    if journey is None or not isinstance(owner, Journey):
        raise NotFound(f"journey {name!r} is not evaluated by this replica")
    steps = " → ".join(f"{s.name} ({s.node})" for s in owner.steps)
    page = OwnerPage(
        kind,
        name,
        journey.slos,
        now,
        steps,
        owner.alerting.annotations,
        charts,
        None,
        trace_url_template=trace_url_template,
        blame=_blame_table(source, owner, now),
    )
    return owner_page(page)
