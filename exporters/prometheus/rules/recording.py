"""Recording rules of one SLO, with Sloth's names and labels.

SLI group: ``slo:sli_error:ratio_rate<W>`` for the standard windows (5m ... 3d), every long
and short window of the node's AlertWindows, and the SLO period (e.g. ``ratio_rate30d``), each
once, shortest first; then ``slo:sli_events:count<W>``, the number of SLI events over the same
windows, which the alerts compare with the SLO's ``min_events`` (fewer events = no data, as
the agent judges a window). Each labelled ``sloth_window="<W>"``.

Meta group: ``slo:objective:ratio``, ``slo:error_budget:ratio`` (1 - objective),
``slo:time_period:days``, ``slo:current_burn_rate:ratio`` (5m error ratio / budget),
``slo:period_burn_rate:ratio`` (period error ratio / budget),
``slo:period_error_budget_remaining:ratio`` (1 - period burn) and the info series
``sloth_slo_info`` (= 1) that Sloth's dashboards build their service and SLO pickers from.

Pure: no I/O.
"""

from __future__ import annotations

from agent.durations import format_duration, parse_duration
from agent.model import AlertWindows
from agent.slo.windows import STANDARD_WINDOWS
from exporters.prometheus.rules.identity import SPEC_LABEL, SloIdentity, number, percent
from exporters.prometheus.rules.rule import RecordingRule
from exporters.prometheus.rules.sli import error_ratio, event_count

SLI_ERROR = "slo:sli_error:ratio_rate{window}"
SLI_EVENTS = "slo:sli_events:count{window}"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
TIME_PERIOD = "slo:time_period:days"
CURRENT_BURN = "slo:current_burn_rate:ratio"
PERIOD_BURN = "slo:period_burn_rate:ratio"
PERIOD_REMAINING = "slo:period_error_budget_remaining:ratio"
INFO = "sloth_slo_info"

CURRENT_WINDOW = "5m"  # the window of slo:current_burn_rate:ratio (as Sloth's)


def sli_error(window: str) -> str:
    """``slo:sli_error:ratio_rate5m`` for ``"5m"``."""
    return SLI_ERROR.format(window=window)


def sli_events(window: str) -> str:
    """``slo:sli_events:count5m`` for ``"5m"``."""
    return SLI_EVENTS.format(window=window)


def sli_windows(identity: SloIdentity, windows: AlertWindows) -> tuple[str, ...]:
    """Every window this SLO records an error ratio for, shortest first, each once."""
    lengths = {parse_duration(label) for label in STANDARD_WINDOWS}
    lengths.add(identity.period.length)
    for tier in windows.tiers:
        lengths.update((tier.long, tier.short))
    return tuple(format_duration(length) for length in sorted(lengths))


def sli_recordings(identity: SloIdentity, windows: AlertWindows) -> tuple[RecordingRule, ...]:
    labels = identity.labels()
    recorded = sli_windows(identity, windows)

    def per_window(window: str) -> dict[str, str]:
        return dict(sorted({**labels, "sloth_window": window}.items()))

    ratios = tuple(
        RecordingRule(sli_error(window), error_ratio(identity, window), per_window(window))
        for window in recorded
    )
    counts = tuple(
        RecordingRule(sli_events(window), event_count(identity, window), per_window(window))
        for window in recorded
    )
    return ratios + counts


def _without_window(identity: SloIdentity, window: str) -> str:
    """This SLO's recorded error ratio over ``window``, without its ``sloth_window`` label."""
    return f"max without (sloth_window) ({sli_error(window)}{identity.selector()})"


def meta_recordings(identity: SloIdentity) -> tuple[RecordingRule, ...]:
    labels = identity.labels()
    budget = number(identity.error_budget)
    info = {
        **labels,
        "sloth_objective": percent(identity.objective),
        "sloth_spec": SPEC_LABEL,
    }
    period = identity.period
    return (
        RecordingRule(OBJECTIVE, f"vector({number(identity.objective)})", labels),
        RecordingRule(ERROR_BUDGET, f"vector({budget})", labels),
        RecordingRule(TIME_PERIOD, f"vector({number(period.days)})", labels),
        RecordingRule(
            CURRENT_BURN, f"{_without_window(identity, CURRENT_WINDOW)}\n/ {budget}", labels
        ),
        RecordingRule(
            PERIOD_BURN, f"{_without_window(identity, period.label)}\n/ {budget}", labels
        ),
        RecordingRule(PERIOD_REMAINING, f"1 - {PERIOD_BURN}{identity.selector()}", labels),
        RecordingRule(INFO, "vector(1)", dict(sorted(info.items()))),
    )
