"""Which part of a snapshot ``/api/v1/status`` answers with: filters, order and pages.

- ``node`` (repeatable): only these nodes (and journeys, by name);
- ``state`` (repeatable): only nodes and journeys in one of these states (a node's state is the
  worst of its SLOs' states, by :data:`agent.slo.status.PRECEDENCE`);
- ``limit``: at most this many nodes (default :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`);
- ``cursor``: the ``next_cursor`` of the previous page.

Nodes come most urgent first (``page``, ``exhausted``, ``ticket``, ``no_data``, ``ok``), then by
name; the cursor names the last node returned (``state:node``), so a page never repeats or
skips a node whose state did not change between requests. Journeys are few: they are filtered,
not paged, and come on the first page only. The summary always counts the whole snapshot,
whatever the filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.slo.status import PRECEDENCE, JourneyStatus, NodeStatus, SloState, Snapshot, worst_state
from agent.spec.scalars import NAME_PATTERN

DEFAULT_LIMIT = 1000  # nodes per page when ``limit`` is not given
MAX_LIMIT = 5000
PARAMETERS = ("node", "state", "limit", "cursor")
_RANK = {state: rank for rank, state in enumerate(PRECEDENCE)}
_STATES = ", ".join(s.value for s in PRECEDENCE)


class QueryError(ValueError):
    """A bad query parameter: the message names it and what is allowed (a 400)."""


@dataclass(frozen=True, slots=True)
class StatusQuery:
    nodes: frozenset[str] = frozenset()  # empty = every node
    states: frozenset[SloState] = frozenset()  # empty = every state
    limit: int = DEFAULT_LIMIT
    after: tuple[int, str] | None = None  # (state rank, node) of the last node already returned


CURSOR_PATTERN = rf"^({'|'.join(s.value for s in PRECEDENCE)}):{NAME_PATTERN[1:]}"
"""A cursor is the last node returned, ``state:node`` (``page:acme-pay``): the next page starts
after it in the order (state by urgency, then name)."""


def _cursor(rank: int, node: str) -> str:
    return f"{PRECEDENCE[rank].value}:{node}"


def _after(cursor: str) -> tuple[int, str]:
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise QueryError(
            f"query parameter cursor: {cursor[:80]!r} is not state:node "
            "(use the next_cursor of the previous page)"
        )
    state, node = cursor.split(":", 1)
    return _RANK[SloState(state)], node


def _limit(values: Sequence[str]) -> int:
    if len(values) > 1:
        raise QueryError("query parameter limit: give it once")
    text = values[0]
    if re.fullmatch(r"[0-9]{1,9}", text) is None or not 1 <= int(text) <= MAX_LIMIT:
        raise QueryError(
            f"query parameter limit: {text[:40]!r} is not a whole number from 1 to {MAX_LIMIT}"
        )
    return int(text)


def _state(text: str) -> SloState:
    try:
        return SloState(text)
    except ValueError:
        raise QueryError(f"query parameter state: {text[:40]!r} is not one of {_STATES}") from None


def parse_query(params: Iterable[tuple[str, str]]) -> StatusQuery:
    """The query of ``params`` (name, value pairs in order); :class:`QueryError` if bad."""
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name not in PARAMETERS:
            raise QueryError(
                f"query parameter {name[:40]!r} is not known: use {', '.join(PARAMETERS)}"
            )
        given.setdefault(name, []).append(value)
    cursors = given.get("cursor", [])
    if len(cursors) > 1:
        raise QueryError("query parameter cursor: give it once")
    for node in given.get("node", []):
        if re.fullmatch(NAME_PATTERN, node) is None:
            raise QueryError(
                f"query parameter node: {node[:80]!r} is not a node or journey name "
                "(lower-case letters, digits and '-', at most 63)"
            )
    return StatusQuery(
        nodes=frozenset(given.get("node", [])),
        states=frozenset(_state(s) for s in given.get("state", [])),
        limit=_limit(given["limit"]) if "limit" in given else DEFAULT_LIMIT,
        after=_after(cursors[0]) if cursors else None,
    )


def node_state(node: NodeStatus | JourneyStatus) -> SloState:
    return worst_state(s.state for s in node.slos)


@dataclass(frozen=True, slots=True)
class StatusPage:
    nodes: tuple[NodeStatus, ...]
    journeys: tuple[JourneyStatus, ...]
    matched: int  # nodes that pass the filters, on every page
    next_cursor: str | None  # None = this is the last page
    slo_states: dict[SloState, int]  # every SLO of the snapshot (nodes' and journeys')
    node_states: dict[SloState, int]  # every node of the snapshot


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A snapshot's nodes in order with their states, and its counts: computed once per
    snapshot (the evaluator makes a new one each cycle), not once per request."""

    snapshot: Snapshot
    nodes: tuple[tuple[int, str, NodeStatus], ...]  # (state rank, name, node), in order
    slo_states: dict[SloState, int]
    node_states: dict[SloState, int]


_last: list[_Ranked] = []  # the latest snapshot's ranking (one entry)


def _ranked(snapshot: Snapshot) -> _Ranked:
    if _last and _last[0].snapshot is snapshot:
        return _last[0]
    slo_states = dict.fromkeys(PRECEDENCE, 0)
    for slo in snapshot.slos():
        slo_states[slo.state] += 1
    node_states = dict.fromkeys(PRECEDENCE, 0)
    nodes = []
    for node in snapshot.nodes:
        state = node_state(node)
        node_states[state] += 1
        nodes.append((_RANK[state], node.node, node))
    nodes.sort(key=lambda r: (r[0], r[1]))
    ranked = _Ranked(snapshot, tuple(nodes), slo_states, node_states)
    _last[:] = [ranked]
    return ranked


def select(snapshot: Snapshot, query: StatusQuery) -> StatusPage:
    """The page of ``snapshot`` that ``query`` asks for, with the whole snapshot's counts."""
    ranked = _ranked(snapshot)
    rows = [
        r
        for r in ranked.nodes
        if (not query.nodes or r[1] in query.nodes)
        and (not query.states or PRECEDENCE[r[0]] in query.states)
    ]
    matched = len(rows)
    if query.after is not None:
        after = query.after
        rows = [r for r in rows if (r[0], r[1]) > after]
    page = rows[: query.limit]
    more = len(rows) > query.limit
    journeys = tuple(
        j
        for j in snapshot.journeys
        if query.after is None  # the first page only
        and (not query.nodes or j.journey in query.nodes)
        and (not query.states or node_state(j) in query.states)
    )
    return StatusPage(
        nodes=tuple(r[2] for r in page),
        journeys=journeys,
        matched=matched,
        next_cursor=_cursor(page[-1][0], page[-1][1]) if more else None,
        slo_states=ranked.slo_states,
        node_states=ranked.node_states,
    )
