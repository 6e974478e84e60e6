"""The SLI error ratio of one SLO over one window, as PromQL.

Always a ratio of sums: bad events over all events in the whole window, never an average of
shorter ratios, so it stays exact under uneven traffic (Sloth's period SLI averages 5-minute
ratios, which weighs a quiet night like a busy day). A window without any event yields no
sample (the denominator is filtered by ``> 0``), never NaN.

- A probe (or journey) SLI reads the agent's counters, ``increase(bad[W]) /
  increase(total[W])``. Both counters are sampled together, so Prometheus extrapolates both
  by the same factor and the ratio is that of the events actually counted.
- A :class:`~agent.model.PrometheusSli` divides the user's two queries with ``{{window}}``
  replaced by the window (Sloth's ``events`` shape). An error query without any series counts
  as zero errors while the total has data (a ``code="500"`` series only exists once a 500 was
  served), as the agent counts it: ``(errors or on() vector(0)) / (total > 0)``. This assumes
  Sloth's shape, both queries aggregated to one series without labels.

Pure: no I/O.
"""

from __future__ import annotations

import re

from agent.durations import parse_duration
from agent.model import JourneySli, ProbeSli, PrometheusSli
from exporters.alerting import SILENT_WINDOW
from exporters.prometheus import names
from exporters.prometheus.rules.identity import SloIdentity, number

EVENTS_TOTAL = f"{names.SLI_EVENTS}_total"
BAD_EVENTS_TOTAL = f"{names.SLI_BAD_EVENTS}_total"

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
"""``{{window}}`` (also Sloth's ``{{.window}}``) in a PrometheusSli query."""


def with_window(query: str, window: str) -> str:
    """``query`` with every ``{{window}}`` replaced by ``window`` (e.g. ``5m``)."""
    return WINDOW_PLACEHOLDER.sub(window, query.strip())


def error_ratio(identity: SloIdentity, window: str) -> str:
    """Bad events / all events over ``window``; no sample when there were no events."""
    sli = identity.slo.sli
    if isinstance(sli, ProbeSli | JourneySli):
        selector = identity.event_selector()
        bad = f"sum(increase({BAD_EVENTS_TOTAL}{selector}[{window}]))"
        total = f"sum(increase({EVENTS_TOTAL}{selector}[{window}]))"
        return f"{bad}\n/\n({total} > 0)"
    if isinstance(sli, PrometheusSli):
        bad = with_window(sli.error_query, window)
        total = with_window(sli.total_query, window)
        return f"(({bad}) or on() vector(0))\n/\n(({total}) > 0)"
    raise TypeError(f"unknown SLI {sli!r}")


def event_count(identity: SloIdentity, window: str) -> str:
    """The number of SLI events over ``window``; the SLO's ``min_events`` guard reads it.

    A probe or journey SLI: the growth of the agent's event counter, ``increase(total[W])``,
    as in the ratio's denominator. A :class:`~agent.model.PrometheusSli`: the total query (a
    per-second rate) times the window's length in seconds, as the agent turns the same answer
    into events (:mod:`agent.sources.prometheus`). No sample when the total query returns
    nothing.
    """
    sli = identity.slo.sli
    if isinstance(sli, ProbeSli | JourneySli):
        return f"sum(increase({EVENTS_TOTAL}{identity.event_selector()}[{window}]))"
    if isinstance(sli, PrometheusSli):
        seconds = parse_duration(window).total_seconds()
        return f"({with_window(sli.total_query, window)}) * {number(seconds)}"
    raise TypeError(f"unknown SLI {sli!r}")


ABSENT_WINDOW = "5m"
"""The window a PrometheusSli's total query is evaluated over to see whether it has data."""


def absent_expr(identity: SloIdentity) -> str:
    """True (1) while the SLI has no input: no series at all, or no event in the last hour.

    For a probe or journey SLI: the agent's event counter of this SLO is absent (the agent is
    not scraped, or no run of the SLO has happened yet), or it has not grown in the last hour
    (its probes stopped running). For a PrometheusSli: the user's total query over 5m returns
    nothing (the metric is missing or renamed, or its target is not scraped), or over 1h it
    returns 0 (no traffic at all). A total query written never to be empty (``... or
    vector(0)``) raises it only through the second case. The agent's push raises the same
    alert after an hour without events (:mod:`exporters.alertmanager.payload`).
    """
    sli = identity.slo.sli
    if isinstance(sli, ProbeSli | JourneySli):
        counter = f"{EVENTS_TOTAL}{identity.event_selector()}"
        return f"absent({counter})\nor\nsum(increase({counter}[{SILENT_WINDOW}])) == 0"
    if isinstance(sli, PrometheusSli):
        missing = with_window(sli.total_query, ABSENT_WINDOW)
        silent = with_window(sli.total_query, SILENT_WINDOW)
        return f"absent(\n  {missing}\n)\nor\n(\n  {silent}\n) == 0"
    raise TypeError(f"unknown SLI {sli!r}")
