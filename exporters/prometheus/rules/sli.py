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

from agent.model import JourneySli, ProbeSli, PrometheusSli
from exporters.prometheus import names
from exporters.prometheus.rules.identity import SloIdentity

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


ABSENT_WINDOW = "5m"
"""The window a PrometheusSli's total query is evaluated over to see whether it has data."""


def absent_expr(identity: SloIdentity) -> str:
    """True (1) while the SLI has no input series at all.

    For a probe SLI: the agent's event counter of this SLO is absent (the agent is not
    scraped, or no probe of the SLO has run). For a PrometheusSli: the user's total query,
    over 5m, returns nothing (the metric is missing or renamed, or its target is not
    scraped). A total query written never to be empty (``... or vector(0)``) never raises it;
    a query that only lost traffic does not either — the burn alerts and the absence of
    ``slo:sli_error:*`` samples show that.
    """
    sli = identity.slo.sli
    if isinstance(sli, ProbeSli | JourneySli):
        return f"absent({EVENTS_TOTAL}{identity.event_selector()})"
    if isinstance(sli, PrometheusSli):
        return f"absent(\n  {with_window(sli.total_query, ABSENT_WINDOW)}\n)"
    raise TypeError(f"unknown SLI {sli!r}")
