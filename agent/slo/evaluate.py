"""Evaluate SLOs: from event counts per time range to immutable status snapshots.

The caller asks :func:`agent.slo.windows.required_ranges` which ranges are needed, sums its
stored events over each, and passes the sums keyed by the same labels. A label missing from
``counts`` is taken as no events (no data). Pure: no I/O, no clock — ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache, partial

from agent.model import AlertWindows, Node, Slo
from agent.slo.alerts import alert_statuses
from agent.slo.budget import budget_status
from agent.slo.burn import exhaustion_seconds, guarded_burn_rate
from agent.slo.events import Counts
from agent.slo.sli import sli_ratio
from agent.slo.status import NodeStatus, SloKey, SloStatus, TierKey, WindowStatus
from agent.slo.status_memo import Earlier, StatusMemo
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
    earlier: Earlier | None = None,
) -> SloStatus:
    """The status of one SLO at ``now``.

    ``counts`` is keyed by the labels of :func:`agent.slo.windows.required_ranges`.
    ``SloStatus.windows`` holds the standard windows in order, then the period last (a rolling
    period equal to a standard window, e.g. ``1d``, appears once, last). The time to
    exhaustion uses the 1h burn rate as the current burn, or the period's burn rate when the
    last hour has no data. ``firing_before`` holds the tiers that fired at the previous
    evaluation (see :mod:`agent.slo.alerts` for why it matters).

    ``earlier``: a status of the same SLO, alert windows, owner, mode and period length, and
    the counts it was built from; its parts whose inputs are equal are taken over (a window
    whose counts are equal, the budget, the alerts when every burn rate is equal). The status
    equals the one built without it.
    """
    period = period_of(slo.window, now)
    shown = _shown(period.label)
    before = None if earlier is None else earlier.counts
    window_statuses = []
    for i, label in enumerate(shown):
        window_counts = counts.get(label, _NONE)
        if before is not None and before.get(label, _NONE) == window_counts:
            window_statuses.append(earlier.status.windows[i])  # type: ignore[union-attr]
        else:
            window_statuses.append(
                window_status(label, window_counts, slo.objective, slo.min_events)
            )
    burns: dict[str, float | None] = {w.window: w.burn_rate for w in window_statuses}
    for label in required_ranges(slo, windows, now):
        if label not in burns:
            burns[label] = guarded_burn_rate(
                counts.get(label, _NONE), slo.objective, slo.min_events
            )
    period_counts = counts.get(period.label, _NONE)
    if before is not None and before.get(period.label, _NONE) == period_counts:
        budget = earlier.status.budget  # type: ignore[union-attr]
    else:
        budget = budget_status(period_counts, slo.objective, period.length, slo.min_events)
    if earlier is not None and _same_burns(earlier, burns, firing_before):
        alerts = earlier.status.alerts
    else:
        alerts = alert_statuses(windows, period.length, burns, firing_before)
    current_burn = burns.get(CURRENT_BURN_WINDOW)
    if current_burn is None:
        current_burn = burns[period.label]
    return SloStatus(
        node=node_name,
        slo=slo.name,
        mode=mode,
        objective=slo.objective,
        period=period.label,
        windows=tuple(window_statuses),
        budget=budget,
        alerts=alerts,
        exhaustion_seconds=exhaustion_seconds(
            budget.remaining_ratio, current_burn, period.length.total_seconds()
        ),
    )


_NONE = Counts()  # immutable: a window without counts


@lru_cache(maxsize=16)
def _shown(period: str) -> tuple[str, ...]:
    """The windows a status shows: the standard ones, then the period last (once)."""
    return (*(label for label in STANDARD_WINDOWS if label != period), period)


def _same_burns(
    earlier: Earlier, burns: Mapping[str, float | None], firing_before: Collection[TierKey]
) -> bool:
    """Whether ``earlier``'s alerts hold: each tier's burn rates and the tiers fired before
    are what they were built from."""
    return earlier.firing_before == firing_before and all(
        a.long_burn == burns.get(a.long) and a.short_burn == burns.get(a.short)
        for a in earlier.status.alerts
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
            slos.append(build(None))
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
