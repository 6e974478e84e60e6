"""Which part of a snapshot ``/api/v1/status`` answers with: filters, order and pages.

- ``node`` (repeatable): only these nodes (and journeys, by name);
- ``state`` (repeatable): only nodes and journeys in one of these states (a node's state is the
  worst of its SLOs' states, by :data:`agent.slo.status.PRECEDENCE`);
- ``limit``: at most this many nodes (default :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`);
- ``cursor``: the ``next_cursor`` of the previous page.

Nodes come most urgent first (``page``, ``exhausted``, ``ticket``, ``no_data``, ``ok``), then by
name; the cursor names the last node returned (its state and name), so a page never repeats or
skips a node whose state did not change between requests. Journeys are few: they are filtered,
not paged, and come on the first page only. The summary always counts the whole snapshot,
whatever the filters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.slo.status import PRECEDENCE, JourneyStatus, NodeStatus, SloState, Snapshot, worst_state

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

    @property
    def filtered(self) -> bool:
        return bool(self.nodes or self.states)


def _cursor(rank: int, node: str) -> str:
    raw = json.dumps([rank, node], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, node = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise QueryError(
            f"query parameter cursor: {cursor[:40]!r} is not a cursor this agent gave "
            "(use the next_cursor of the previous page)"
        ) from None
    if not isinstance(rank, int) or not isinstance(node, str) or not 0 <= rank < len(PRECEDENCE):
        raise QueryError(
            f"query parameter cursor: {cursor[:40]!r} is not a cursor this agent gave "
            "(use the next_cursor of the previous page)"
        )
    return rank, node


def _limit(values: Sequence[str]) -> int:
    if len(values) > 1:
        raise QueryError("query parameter limit: give it once")
    text = values[0]
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
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
    if any(not n for n in given.get("node", [])):
        raise QueryError("query parameter node: give a node's name")
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


def select(snapshot: Snapshot, query: StatusQuery) -> StatusPage:
    """The page of ``snapshot`` that ``query`` asks for, with the whole snapshot's counts."""
    slo_states = dict.fromkeys(PRECEDENCE, 0)
    for slo in snapshot.slos():
        slo_states[slo.state] += 1
    ranked: list[tuple[int, str, NodeStatus]] = []
    node_states = dict.fromkeys(PRECEDENCE, 0)
    for node in snapshot.nodes:
        state = node_state(node)
        node_states[state] += 1
        if query.nodes and node.node not in query.nodes:
            continue
        if query.states and state not in query.states:
            continue
        ranked.append((_RANK[state], node.node, node))
    ranked.sort(key=lambda r: (r[0], r[1]))
    matched = len(ranked)
    if query.after is not None:
        after = query.after
        ranked = [r for r in ranked if (r[0], r[1]) > after]
    page = ranked[: query.limit]
    more = len(ranked) > query.limit
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
        slo_states=slo_states,
        node_states=node_states,
    )
