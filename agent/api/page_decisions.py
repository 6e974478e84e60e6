"""The status page's decisions section: every node's operate-vs-orchestrate review, with the
recommendation in force and, while the measurements point elsewhere, what is pending and when it
takes effect. Pure: data to HTML; every text goes through :func:`html.escape`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One node's operate-vs-orchestrate review, as the page shows it."""

    node: str
    mode: str  # the node's current mode
    recommendation: str  # what the measurements point to, e.g. "review: operate"
    flagged: bool  # True when the current mode should be revisited
    reasons: tuple[str, ...] = ()
    scores: tuple[tuple[str, float], ...] = ()  # (axis, score) pairs
    pending: str = ""  # "pending: review: operate, takes effect in 2m10s"; "" = none


def decisions_section(rows: Sequence[DecisionRow] | None) -> str:
    if rows is None:
        return ""
    if not rows:
        body = '<p class="empty">No decision reviews.</p>'
    else:
        body = (
            '<table class="decisions"><thead><tr><th scope="col">node</th>'
            '<th scope="col">mode</th><th scope="col">review</th><th scope="col">reasons</th>'
            '<th scope="col">scores</th></tr></thead><tbody>'
            + "".join(_decision_row(r) for r in rows)
            + "</tbody></table>"
        )
    title = "<h2>Decisions <small>operate or orchestrate</small></h2>"
    return f'<section id="decisions">{title}{body}</section>'


def _decision_row(row: DecisionRow) -> str:
    verdict = (
        f'<span class="badge ticket">{_e(row.recommendation or "review")}</span>'
        if row.flagged
        else f'<span class="badge ok">{_e(row.recommendation or "keep")}</span>'
    )
    if row.pending:
        verdict += f' <span class="badge pending">{_e(row.pending)}</span>'
    reasons = "".join(f"<li>{_e(r)}</li>" for r in row.reasons)
    scores = " · ".join(f"{_e(axis)} {score:.2g}" for axis, score in row.scores)
    return (
        f'<tr><th scope="row">{_e(row.node)}</th><td>{_e(row.mode)}</td><td>{verdict}</td>'
        f"<td><ul>{reasons}</ul></td><td>{scores}</td></tr>"
    )
