"""The statuses of the evaluation before, reused where their inputs did not change.

An SLO's :class:`~agent.slo.status.SloStatus` is a pure function of the SLO and its alert
windows, its owner's name and mode, the window counts, the period's length (which moves only
when a calendar month rolls over) and the tiers that fired at the evaluation before
(:func:`agent.slo.evaluate.evaluate_slo`; ``now`` enters through the period alone). The memo
keeps, per SLO, those inputs and the status built from them; an evaluation whose inputs are
equal, by value, gets the same object back instead of a new, equal one. A node whose SLOs all
came back the same gets its :class:`~agent.slo.status.NodeStatus` back too.

Only what the last complete evaluation built is kept: an SLO gone after a spec reload is not
asked for again and goes with the next evaluation. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

from agent.model import AlertWindows, Node, Slo, Window
from agent.slo.events import Counts
from agent.slo.status import NodeStatus, SloKey, SloStatus, TierKey
from agent.slo.windows import period_of


class Earlier(NamedTuple):
    """A status built before, the counts and the tiers fired before it was built from (see
    :func:`agent.slo.evaluate.evaluate_slo`)."""

    status: SloStatus
    counts: Mapping[str, Counts]
    firing_before: Collection[TierKey]


class _SloEntry(NamedTuple):
    slo: Slo
    windows: AlertWindows
    mode: str
    period: timedelta
    counts: Mapping[str, Counts]
    firing_before: Collection[TierKey]
    status: SloStatus


class _NodeEntry(NamedTuple):
    node: Node
    slos: tuple[SloStatus, ...]
    status: NodeStatus


class StatusMemo:
    """The statuses of the last evaluation, keyed by SLO (and node), with their inputs.

    :meth:`start` begins an evaluation, :meth:`slo` and :meth:`node` look up or build,
    :meth:`finish` makes what this evaluation built the memo for the next one (an evaluation
    that never finishes leaves the memo as it was).
    """

    def __init__(self) -> None:
        self._slos: dict[SloKey, _SloEntry] = {}
        self._nodes: dict[str, _NodeEntry] = {}
        self._next_slos: dict[SloKey, _SloEntry] = {}
        self._next_nodes: dict[str, _NodeEntry] = {}
        self.reused = 0  # SLO statuses handed back unchanged by this evaluation (for tests)

    def start(self) -> None:
        self._next_slos, self._next_nodes = {}, {}
        self.reused = 0

    def finish(self) -> None:
        self._slos, self._nodes = self._next_slos, self._next_nodes
        self._next_slos, self._next_nodes = {}, {}

    def slo(
        self,
        owner: str,
        mode: str,
        slo: Slo,
        windows: AlertWindows,
        counts: Mapping[str, Counts],
        now: float,
        firing_before: Collection[TierKey],
        build: Callable[[Earlier | None], SloStatus],
    ) -> SloStatus:
        """The status of ``slo`` for these inputs: the one kept when they are all equal to
        its inputs, else ``build(earlier)``'s (kept for the next evaluation either way), where
        ``earlier`` is the status kept when only the counts or the tiers fired before differ
        (its parts with equal inputs can be taken over), else None."""
        key = SloKey(owner, slo.name)
        period = _period_length(slo.window, now)
        old = self._slos.get(key)
        earlier = None
        if (
            old is not None
            and (old.slo is slo or old.slo == slo)
            and (old.windows is windows or old.windows == windows)
            and old.mode == mode
            and old.period == period
        ):
            if old.counts == counts and old.firing_before == firing_before:
                self._next_slos[key] = old
                self.reused += 1
                return old.status
            earlier = Earlier(old.status, old.counts, old.firing_before)
        status = build(earlier)
        self._next_slos[key] = _SloEntry(
            slo, windows, mode, period, counts, frozenset(firing_before), status
        )
        return status

    def node(
        self, node: Node, slos: tuple[SloStatus, ...], build: Callable[[], NodeStatus]
    ) -> NodeStatus:
        """The status of ``node`` with these SLO statuses: the one kept when its SLO statuses
        are the same objects and the node is equal, else ``build()``'s."""
        old = self._nodes.get(node.name)
        if (
            old is not None
            and len(old.slos) == len(slos)
            and all(a is b for a, b in zip(old.slos, slos, strict=True))
            and (old.node is node or old.node == node)
        ):
            self._next_nodes[node.name] = old
            return old.status
        status = build()
        self._next_nodes[node.name] = _NodeEntry(node, slos, status)
        return status


@lru_cache(maxsize=64)
def _period_length(window: Window, now: float) -> timedelta:
    """The period's full length at ``now`` (the same for a rolling window at any ``now``)."""
    return period_of(window, now).length
