"""Checks that every SLO's alert tiers can work, across documents (an SLO and the AlertWindows
its owner chooses are often in different files).

Two things make a tier useless, and both are errors:

- its long window is longer than the SLO window (a calendar month counts as 28 days, its
  shortest): the tier would look back past the period the budget is kept for, and its factor
  ``budget_fraction * period / long`` falls so low that one failure fires it;
- its short window cannot hold ``min_events`` runs at the probe's (or journey's) interval: the
  window then has no data for much of the time, so the tier cannot fire reliably. The smallest
  workable short window is ``min_events * interval``.

An SLO with a prometheus SLI has no interval the agent knows, so only the first applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from agent.durations import format_duration
from agent.errors import SpecProblem
from agent.model import (
    AlertTier,
    AlertWindows,
    Journey,
    Node,
    ProbeSli,
    RollingWindow,
    Slo,
    SloOwner,
    Window,
)
from agent.spec.references import DEFAULT_WINDOWS, Entry

CALENDAR_MONTH_SHORTEST = timedelta(days=28)


def shortest_period(window: Window) -> timedelta:
    """The shortest length ``window`` can have: its length, or 28 days for a calendar month."""
    if isinstance(window, RollingWindow):
        return window.length
    return CALENDAR_MONTH_SHORTEST


def feasibility_problems(
    entries: Sequence[Entry], windows: Mapping[str, AlertWindows]
) -> list[SpecProblem]:
    """Every tier, of every valid node's and journey's SLOs, that cannot work. ``windows`` holds
    the valid AlertWindows by name; an owner whose windows are not there is skipped (the
    reference, or the AlertWindows document, is reported by other checks)."""
    problems: list[SpecProblem] = []
    labels: dict[str, Labelled] = {}  # each AlertWindows' tiers labelled once, not per SLO
    for entry in entries:
        owner = entry.value
        if not isinstance(owner, Node | Journey):
            continue
        chosen = windows.get(owner.alerting.windows)
        if chosen is None:
            continue
        labelled = labels.get(owner.alerting.windows)
        if labelled is None:
            labelled = labels[owner.alerting.windows] = tier_labels(chosen)
        for index, slo in enumerate(owner.slos):
            too_long = _longer_than_window(owner, slo, chosen, labelled)
            if too_long is not None:
                path = f"spec.slos[{index}].window"
                problems.append(SpecProblem(entry.file, entry.document, path, too_long))
            too_short = _too_few_runs(owner, slo, chosen, labelled)
            if too_short is not None:
                path = f"spec.slos[{index}].min_events"
                problems.append(SpecProblem(entry.file, entry.document, path, too_short))
    return problems


Labelled = list[tuple[str, AlertTier]]


def tier_labels(windows: AlertWindows) -> Labelled:
    """Each tier with its place in the AlertWindows document: ``page[0]``, ``ticket[1]``..."""
    counts: dict[str, int] = {}
    labelled = []
    for tier in windows.tiers:
        number = counts.get(tier.severity.value, 0)
        counts[tier.severity.value] = number + 1
        labelled.append((f"{tier.severity.value}[{number}]", tier))
    return labelled


def _who(owner: SloOwner, slo: Slo) -> str:
    return f'SLO "{slo.name}" of {type(owner).__name__} "{owner.name}"'


def _longer_than_window(
    owner: SloOwner, slo: Slo, windows: AlertWindows, labelled: Labelled
) -> str | None:
    period = shortest_period(slo.window)
    over = [(label, tier) for label, tier in labelled if tier.long > period]
    if not over:
        return None
    who = _who(owner, slo)
    limit = format_duration(period)
    shown = (
        limit if isinstance(slo.window, RollingWindow) else f"a calendar month, {limit} in February"
    )
    tiers = _listed([f"{label} ({format_duration(tier.long)})" for label, tier in over])
    plural = "s" if len(over) > 1 else ""
    if windows.name == DEFAULT_WINDOWS:
        fix = (
            f"declare an AlertWindows whose long windows are at most {limit} and choose it "
            "with spec.alerting.windows"
        )
    else:
        fix = (
            f'shorten the long windows of AlertWindows "{windows.name}" to at most {limit}, '
            "or choose other AlertWindows with spec.alerting.windows"
        )
    return (
        f"{who}: the SLO window ({shown}) is shorter than the long window of AlertWindows "
        f'"{windows.name}" tier{plural} {tiers}; a tier cannot look back further than the SLO '
        f"window: {fix}"
    )


def _too_few_runs(
    owner: SloOwner, slo: Slo, windows: AlertWindows, labelled: Labelled
) -> str | None:
    cadence = _cadence(owner, slo)
    if cadence is None:
        return None
    runner, interval, faster = cadence
    short = [
        (label, tier, tier.short // interval)
        for label, tier in labelled
        if tier.short // interval < slo.min_events
    ]
    if not short:
        return None
    who = _who(owner, slo)
    needed = format_duration(interval * slo.min_events)
    every = format_duration(interval)
    if len(short) == 1:
        label, tier, runs = short[0]
        held = (
            f'the short window of AlertWindows "{windows.name}" tier {label} '
            f"({format_duration(tier.short)}) holds as few as {_runs(runs)}, fewer than "
            f"min_events ({slo.min_events}): the tier cannot fire reliably"
        )
    else:
        tiers = _listed(
            [
                f"{label} ({format_duration(tier.short)}, as few as {_runs(runs)})"
                for label, tier, runs in short
            ]
        )
        held = (
            f'the short windows of AlertWindows "{windows.name}" tiers {tiers} hold fewer runs '
            f"than min_events ({slo.min_events}): those tiers cannot fire reliably"
        )
    return (
        f"{who}: {runner} runs every {every}, so {held}; the smallest workable short window "
        f"is {needed} ({slo.min_events} x {every}): lengthen the short window, {faster} or "
        "lower min_events"
    )


def _cadence(owner: SloOwner, slo: Slo) -> tuple[str, timedelta, str] | None:
    """What produces the SLO's events, how often, and how to make it more often; None when the
    agent does not know (a prometheus SLI)."""
    if isinstance(owner, Journey):
        return "the journey", owner.interval, "run the journey more often"
    if isinstance(slo.sli, ProbeSli):
        probe = owner.probe(slo.sli.probe)
        return f'probe "{probe.name}"', probe.interval, "probe more often"
    return None


def _runs(count: int) -> str:
    return f"{count} run{'' if count == 1 else 's'}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
