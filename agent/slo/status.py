"""The immutable status snapshot the evaluator produces and every output reads.

``/metrics``, ``/api/v1/status``, ``slo-agent report`` and alerting all render one
:class:`Snapshot`; none of them computes SLO numbers of its own.

Each SLO has one :class:`SloState`, derived here from its firing tiers and its budget, and
shown the same on every path (status page, ``/api/v1/status``, ``report``, pushed alerts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from agent.model import Mode, Severity
from agent.numbers import multiple as multiple  # re-exported: a burn rate for people
from agent.numbers import times
from agent.slo.certificates import CertificateStatus
from agent.slo.failures import DrillFailure, ProbeFailure, StepFailure


class SloState(StrEnum):
    """The one state of an SLO, from worst to best (see :data:`PRECEDENCE`):

    - ``page``: a page tier fires;
    - ``exhausted``: the budget over the period is used up (remaining <= 0, with data);
    - ``ticket``: a ticket tier fires;
    - ``no_data``: the period holds fewer than ``min_events`` events;
    - ``ok``: none of these.
    """

    OK = "ok"
    NO_DATA = "no_data"
    TICKET = "ticket"
    PAGE = "page"
    EXHAUSTED = "exhausted"

    @property
    def label(self) -> str:
        """For people: ``"no data"`` rather than ``"no_data"``."""
        return self.value.replace("_", " ")


PRECEDENCE: tuple[SloState, ...] = (
    SloState.PAGE,
    SloState.EXHAUSTED,
    SloState.TICKET,
    SloState.NO_DATA,
    SloState.OK,
)
"""Worst first: an SLO in two states at once (paging with its budget gone) shows the first."""

SEVERITY_STATES = {Severity.PAGE: SloState.PAGE, Severity.TICKET: SloState.TICKET}
"""The state a firing tier of each severity puts its SLO in."""


def worst_state(states: Iterable[SloState]) -> SloState:
    """The first of ``states`` by :data:`PRECEDENCE`; ``ok`` when there are none."""
    present = set(states)
    return next((state for state in PRECEDENCE if state in present), SloState.OK)


@dataclass(frozen=True, slots=True)
class WindowStatus:
    window: str  # "5m", "30m", "1h", "2h", "6h", "1d", "3d", or the period ("28d", "month")
    total: float  # events; whole for probe SLIs, estimated from rates for Prometheus SLIs
    bad: float
    sli: float | None  # good/total as a ratio; None = no data (fewer than min_events events)
    burn_rate: float | None  # (bad/total) / (1 - objective); None = no data


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """The error budget over the SLO period."""

    allowed_bad_events: float  # (1 - objective) * events so far in the period
    consumed_events: float  # bad events so far in the period
    consumed_ratio: float | None  # consumed / allowed (may exceed 1); None = no data
    remaining_ratio: float | None  # 1 - consumed_ratio (negative when overspent); None = no data
    budget_minutes: float  # (1 - objective) * period length in minutes: 43.2 for 99.9% / 30d
    remaining_minutes: float | None  # remaining_ratio * budget_minutes

    def left_text(self, digits: int = 1) -> str | None:
        """The budget left for people: ``"87.5%"``, or once it is overspent ``"overspent
        636\u00d7"`` (the budget used 636 times over) rather than ``"-63536.4%"``; None = no
        data."""
        remaining, consumed = self.remaining_ratio, self.consumed_ratio
        if remaining is None or consumed is None:  # both or neither: see budget_status
            return None
        if remaining >= 0:
            return f"{remaining * 100:.{digits}f}%"
        return f"overspent {times(consumed)}"

    @property
    def has_data(self) -> bool:
        """The period holds at least ``min_events`` events (the ratios are known)."""
        return self.remaining_ratio is not None

    @property
    def exhausted(self) -> bool:
        """Used up: remaining <= 0 over the period, with data (``ErrorBudgetExhausted``)."""
        return self.remaining_ratio is not None and self.remaining_ratio <= 0


class SloKey(NamedTuple):
    """Which SLO: its owner (a node or a journey) and its name."""

    owner: str
    slo: str


class TierKey(NamedTuple):
    """Which alert tier of an SLO: its severity and its two windows."""

    severity: Severity
    long: str
    short: str


@dataclass(frozen=True, slots=True)
class AlertStatus:
    severity: Severity
    long: str
    short: str
    factor: float  # burn-rate threshold of this tier
    long_burn: float | None
    short_burn: float | None
    firing: bool

    @property
    def key(self) -> TierKey:
        return TierKey(self.severity, self.long, self.short)


@dataclass(frozen=True, slots=True)
class SloStatus:
    node: str
    slo: str
    mode: str  # "operated" | "orchestrated" | "journey"
    objective: float  # ratio
    period: str  # the SLO window label: "28d" or "month"
    windows: tuple[WindowStatus, ...]  # standard windows, then the period last
    budget: BudgetStatus
    alerts: tuple[AlertStatus, ...]
    exhaustion_seconds: float | None  # remaining budget / current burn; None = not burning

    def window(self, label: str) -> WindowStatus:
        for w in self.windows:
            if w.window == label:
                return w
        raise KeyError(label)

    @property
    def firing(self) -> tuple[AlertStatus, ...]:
        return tuple(a for a in self.alerts if a.firing)

    @property
    def alert_severity(self) -> Severity | None:
        """The most severe firing tier's severity (``page`` over ``ticket``); None = none fires."""
        firing = {a.severity for a in self.firing}
        return next((s for s in Severity if s in firing), None)

    @property
    def state(self) -> SloState:
        """The one state of this SLO: its firing tiers' severities, its budget exhausted, no
        data over the period, else ok; the worst by :data:`PRECEDENCE` wins."""
        states = {SEVERITY_STATES[a.severity] for a in self.firing}
        if self.budget.exhausted:
            states.add(SloState.EXHAUSTED)
        if not self.budget.has_data:
            states.add(SloState.NO_DATA)
        return worst_state(states)


@dataclass(frozen=True, slots=True)
class NodeStatus:
    node: str
    mode: Mode
    owner: str
    capability: str
    partner: str  # "" for operated nodes
    slos: tuple[SloStatus, ...]


@dataclass(frozen=True, slots=True)
class JourneyStatus:
    journey: str
    slos: tuple[SloStatus, ...]  # mode "journey"


@dataclass(frozen=True, slots=True)
class Snapshot:
    evaluated_at: float  # unix seconds
    nodes: tuple[NodeStatus, ...]
    journeys: tuple[JourneyStatus, ...] = ()
    # the last peer certificate of every probe that saw one (agent.slo.certificates)
    certificates: tuple[CertificateStatus, ...] = ()
    # the last failure of every probe that failed since the agent started (agent.slo.failures)
    failures: tuple[ProbeFailure, ...] = ()
    # the last failure of every journey step and fallback drill, likewise
    step_failures: tuple[StepFailure, ...] = ()
    drill_failures: tuple[DrillFailure, ...] = ()
    # firing_tiers(), once asked: a snapshot (or a dataclasses.replace copy) computes it once
    _firing: Mapping[SloKey, frozenset[TierKey]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def firing_tiers(self) -> Mapping[SloKey, frozenset[TierKey]]:
        """SLO -> the tiers firing in this snapshot (only SLOs with any), read-only.

        Computed on the first call and kept: the agent saves it after an evaluation
        (:mod:`agent.runtime.held_tiers`) and the next evaluation starts from the same one.
        """
        firing = self._firing
        if firing is None:
            firing = MappingProxyType(
                {
                    SloKey(s.node, s.slo): frozenset(a.key for a in s.firing)
                    for s in self.slos()
                    if s.firing
                }
            )
            object.__setattr__(self, "_firing", firing)  # frozen: set once, on first use
        return firing

    def slos(self) -> tuple[SloStatus, ...]:
        """Every SLO: the nodes' first, then the journeys' (``node`` = the journey's name)."""
        return tuple(s for n in self.nodes for s in n.slos) + tuple(
            s for j in self.journeys for s in j.slos
        )
