"""The pieces every server-rendered page is built of: numbers as text, state badges, budget bars,
an SLO table and the HTML document around a body. Pure functions from data to HTML; every piece
of text from specs, probes or errors goes through :func:`html.escape`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from agent.api.page_certificates import STYLE as CERTIFICATE_STYLE
from agent.api.page_failures import STYLE as FAILURE_STYLE
from agent.api.page_style import STYLE
from agent.api.page_urgency import PHONE_STYLE
from agent.numbers import times
from agent.slo.status import BudgetStatus, SloState, SloStatus, multiple

# --- numbers ------------------------------------------------------------------------------------


def bar_width(ratio: float | None) -> float:
    """A bar's width in percent: ``ratio`` clamped to 0..1 (None and NaN give 0)."""
    if ratio is None or ratio != ratio:
        return 0.0
    return max(0.0, min(1.0, ratio)) * 100.0


def percent(ratio: float | None, digits: int = 2) -> str:
    """``0.999`` -> ``99.9%``; None -> an em dash."""
    if ratio is None:
        return "—"
    text = f"{ratio * 100:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def objective_text(ratio: float) -> str:
    return percent(ratio, 4)


def burn_text(burn: float | None) -> str:
    if burn is None:
        return "—"
    return f"{multiple(burn)}\u00d7"  # multiplication sign


def duration_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)}s"
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def utc_text(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- pieces -------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def state_badge(state: SloState) -> str:
    return f'<span class="badge {_e(state.value)}">{_e(state.label)}</span>'


def budget_bar(budget: BudgetStatus) -> str:
    """The remaining error budget as a bar (0 to 100%), with the overspent case called out."""
    remaining, consumed = budget.remaining_ratio, budget.consumed_ratio
    if remaining is None or consumed is None:  # both or neither: see budget_status
        return '<div class="budget nodata"><div class="bar"></div><span>no data</span></div>'
    width = bar_width(remaining)
    if remaining < 0:
        return (
            '<div class="budget overspent"><div class="bar">'
            f'<span class="fill" style="width:{width:.1f}%"></span></div>'
            f"<span>overspent: used {_e(times(consumed))} the budget</span></div>"
        )
    level = "good" if remaining > 0.5 else "low" if remaining > 0.2 else "critical"
    minutes = budget.remaining_minutes
    left = f" · {minutes:.1f} min" if minutes is not None else ""
    return (
        f'<div class="budget {level}"><div class="bar">'
        f'<span class="fill" style="width:{width:.1f}%"></span></div>'
        f"<span>{_e(percent(remaining, 1))} left{_e(left)}</span></div>"
    )


def burn_rates(slo: SloStatus) -> str:
    """Burn rate per standard window (the period is left to the SLI column)."""
    cells = "".join(
        f'<span class="burn{" hot" if (w.burn_rate or 0) >= 1 else ""}">'
        f"<b>{_e(w.window)}</b> {_e(burn_text(w.burn_rate))}</span>"
        for w in slo.windows[:-1]
    )
    return f'<div class="burns">{cells}</div>'


def alert_cell(slo: SloStatus) -> str:
    tiers = "".join(
        f"<li>{_e(a.severity.value)} {_e(a.long)}/{_e(a.short)}: "
        f"{_e(burn_text(a.long_burn))}/{_e(burn_text(a.short_burn))} "
        f"(fires at {_e(burn_text(a.factor))})</li>"
        for a in slo.firing
    )
    exhaustion = ""
    left = slo.exhaustion_seconds
    if left is not None:
        gone = "budget exhausted" if left <= 0 else f"budget gone in {duration_text(left)}"
        exhaustion = f'<p class="exhaust">{_e(gone)}</p>'
    listing = f'<ul class="tiers">{tiers}</ul>' if tiers else ""
    return f"{state_badge(slo.state)}{listing}{exhaustion}"


def slo_table(slos: Sequence[SloStatus]) -> str:
    if not slos:
        return '<p class="empty">No SLOs.</p>'
    rows = "".join(
        f'<tr class="slo state-{_e(s.state.value)}">'
        f'<th scope="row">{_e(s.slo)}</th>'
        f"<td>{_e(objective_text(s.objective))}</td>"
        f"<td>{_e(percent(s.windows[-1].sli, 3))} <small>{_e(s.period)}</small></td>"
        f"<td>{budget_bar(s.budget)}</td>"
        f"<td>{burn_rates(s)}</td>"
        f"<td>{alert_cell(s)}</td></tr>"
        for s in slos
    )
    return (
        '<table class="slos"><thead><tr><th scope="col">SLO</th><th scope="col">objective</th>'
        '<th scope="col">SLI</th><th scope="col">error budget</th>'
        '<th scope="col">burn rate</th><th scope="col">state</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def document(title: str, refresh: int, body: str, extra_style: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{max(1, int(refresh))}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}{CERTIFICATE_STYLE}{FAILURE_STYLE}{PHONE_STYLE}"
        f"{extra_style}</style></head>"
        f"<body>{body}</body></html>"
    )
