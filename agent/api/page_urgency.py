"""What the overview shows first: nodes by urgency (paging first, then exhausted, ticket, no
data, ok), the ok ones collapsed into a list of links once there are many, and the phone
layout of the SLO tables. Pure: data to HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence

from agent.slo.status import PRECEDENCE, NodeStatus, SloState, worst_state


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


SUMMARY_AFTER = 50
"""With more nodes than this, the overview shows the ok ones as a list of links, not cards."""

OK_LISTED = 200
"""The most ok nodes a collapsed section lists by name (all of them are in /api/v1/status)."""

PHONE_STYLE = """
@media (max-width:700px){
header,main,footer,.banner{padding:0 8px}
.card{padding:8px}
table.slos thead{display:none}
table.slos,table.slos tbody,table.slos tr{display:block;width:100%}
table.slos tr{border-top:1px solid var(--line);padding:4px 0;display:grid;
grid-template-columns:1fr 1fr;gap:2px 8px}
table.slos th,table.slos td{display:block;border:0;padding:0;min-width:0}
table.slos td:nth-child(4),table.slos td:nth-child(5),table.slos td:nth-child(6){grid-column:1/-1}
.bar{width:100px}
.budget,table.slos td:nth-child(3){white-space:normal;overflow-wrap:anywhere}
.burns{max-width:none}
.timeline,.blame,table.decisions{display:block;overflow-x:auto}
}
.oklist{columns:3 160px;font-size:13px;padding-left:18px}
.attention{list-style:none;margin:0;padding:0}
.urgent{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 8px;
margin:0 0 4px;overflow-wrap:anywhere}
.urgent span:last-child{color:var(--muted);font-size:12px}
"""


def node_state(node: NodeStatus) -> SloState:
    return worst_state(s.state for s in node.slos)


def by_urgency(nodes: Sequence[NodeStatus]) -> list[NodeStatus]:
    """Paging first, then exhausted, ticket, no data, ok; by name within a state."""
    rank = {state: i for i, state in enumerate(PRECEDENCE)}
    return sorted(nodes, key=lambda n: (rank[node_state(n)], n.node))


def ok_list(nodes: Sequence[NodeStatus]) -> str:
    if not nodes:
        return ""
    links = "".join(
        f'<li><a href="/nodes/{_e(n.node)}">{_e(n.node)}</a></li>' for n in nodes[:OK_LISTED]
    )
    more = len(nodes) - OK_LISTED
    rest = (
        f'<p class="who">and {more} more ok nodes: <a href="/api/v1/status">/api/v1/status</a>'
        " lists every one</p>"
        if more > 0
        else ""
    )
    return (
        f'<details class="oknodes"><summary>{len(nodes)} ok nodes</summary>'
        f'<ul class="oklist">{links}</ul>{rest}</details>'
    )
