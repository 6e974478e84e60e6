"""Evaluate SLOs: from event counts per time range to immutable status snapshots.

The caller asks :func:`agent.slo.windows.required_ranges` which ranges are needed, sums its
stored events over each, and passes the sums keyed by the same labels. A label missing from
``counts`` is taken as no events (no data). Pure: no I/O, no clock — ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import partial

from agent.model import AlertWindows, Node, Slo
from agent.slo.alerts import alert_statuses
from agent.slo.budget import budget_status
from agent.slo.burn import exhaustion_seconds, guarded_burn_rate
from agent.slo.events import Counts
from agent.slo.sli import sli_ratio
from agent.slo.status import NodeStatus, SloKey, SloStatus, TierKey, WindowStatus
from agent.slo.status_memo import StatusMemo
from agent.slo.windows import STANDARD_WINDOWS, period_of, required_ranges

CURRENT_BURN_WINDOW = "1h"
"""The window whose burn rate is "the current burn" used for time to exhaustion."""


def window_status(label: str, counts: Counts, objective: float, min_events: int) -> WindowStatus:
    """SLI and burn rate of one window; both ``None`` below ``min_events`` events."""
    return WindowStatus(
        window=label,
        total=counts.total,
        bad=counts.bad,
        sli=sli_ratio(counts, min_events),
        burn_rate=guarded_burn_rate(counts, objective, min_events),
    )


def evaluate_slo(
    node_name: str,
    mode: str,
    slo: Slo,
    windows: AlertWindows,
    counts: Mapping[str, Counts],
    now: float,
    firing_before: Collection[TierKey] = frozenset(),
) -> SloStatus:
    """The status of one SLO at ``now``.

    ``counts`` is keyed by the labels of :func:`agent.slo.windows.required_ranges`.
    ``SloStatus.windows`` holds the standard windows in order, then the period last (a rolling
    period equal to a standard window, e.g. ``1d``, appears once, last). The time to
    exhaustion uses the 1h burn rate as the current burn, or the period's burn rate when the
    last hour has no data. ``firing_before`` holds the tiers that fired at the previous
    evaluation (see :mod:`agent.slo.alerts` for why it matters).
    """
    period = period_of(slo.window, now)
    labels = required_ranges(slo, windows, now)
    burns: dict[str, float | None] = {
        label: guarded_burn_rate(counts.get(label, Counts()), slo.objective, slo.min_events)
        for label in labels
    }
    shown = [label for label in STANDARD_WINDOWS if label != period.label] + [period.label]
    window_statuses = tuple(
        window_status(label, counts.get(label, Counts()), slo.objective, slo.min_events)
        for label in shown
    )
    budget = budget_status(
        counts.get(period.label, Counts()), slo.objective, period.length, slo.min_events
    )
    current_burn = burns.get(CURRENT_BURN_WINDOW)
    if current_burn is None:
        current_burn = burns[period.label]
    return SloStatus(
        node=node_name,
        slo=slo.name,
        mode=mode,
        objective=slo.objective,
        period=period.label,
        windows=window_statuses,
        budget=budget,
        alerts=alert_statuses(windows, period.length, burns, firing_before),
        exhaustion_seconds=exhaustion_seconds(
            budget.remaining_ratio, current_burn, period.length.total_seconds()
        ),
    )


def evaluate_node(
    node: Node,
    windows: AlertWindows,
    counts_by_slo: Mapping[str, Mapping[str, Counts]],
    now: float,
    firing_before: Mapping[SloKey, Collection[TierKey]] | None = None,
    memo: StatusMemo | None = None,
) -> NodeStatus:
    """The status of every SLO of ``node``; ``counts_by_slo`` is keyed by SLO name.

    An SLO missing from ``counts_by_slo`` is evaluated with no events (no data).
    ``firing_before`` holds the tiers that fired at the previous evaluation, per SLO.
    ``memo``: the statuses of the evaluation before, handed back where their inputs are equal
    (:mod:`agent.slo.status_memo`); the result equals the one built without it.
    """
    before = firing_before or {}
    mode = node.mode.value
    slos = []
    for slo in node.slos:
        counts = counts_by_slo.get(slo.name, {})
        fired = before.get(SloKey(node.name, slo.name), frozenset())
        build = partial(evaluate_slo, node.name, mode, slo, windows, counts, now, fired)
        if memo is None:
            slos.append(build())
        else:
            slos.append(memo.slo(node.name, mode, slo, windows, counts, now, fired, build))
    statuses = tuple(slos)
    build_node = partial(
        NodeStatus,
        node=node.name,
        mode=node.mode,
        owner=node.owner,
        capability=node.capability,
        partner=node.partner.name if node.partner is not None else "",
        slos=statuses,
    )
    return build_node() if memo is None else memo.node(node, statuses, build_node)
