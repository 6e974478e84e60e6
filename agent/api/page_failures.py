"""The status page's failure lines of a node card: for each probe failing now, its reason and
the detail of its last run (already redacted and bounded), with when it started failing that
way and its trace id. Pure: data to HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from agent.slo.failures import DrillFailure, ProbeFailure, StepFailure

STYLE = """
.failures{margin:6px 0 0;padding:0;list-style:none;font-size:12px}
.failure{color:var(--page);overflow-wrap:anywhere}
.failure code{font-size:12px;color:var(--ink)}
.failure small{color:var(--muted)}
"""


def failures_list(failures: Sequence[ProbeFailure]) -> str:
    """One line per probe failing now; empty when none is."""
    items = []
    for failure in failures:
        if not failure.failing:
            continue
        at = datetime.fromtimestamp(failure.started_at, UTC).strftime("%H:%M:%S UTC")
        trace = f" · trace {html.escape(failure.trace_id)}" if failure.trace_id else ""
        items.append(
            f'<li class="failure" data-probe="{html.escape(failure.probe)}">'
            f"<strong>{html.escape(failure.probe)}</strong> {html.escape(failure.reason)}: "
            f"<code>{html.escape(failure.detail)}</code> <small>last run {at}{trace}</small></li>"
        )
    return f'<ul class="failures">{"".join(items)}</ul>' if items else ""


def _line(kind: str, name: str, what: str, reason: str, detail: str, when: str) -> str:
    return (
        f'<li class="failure" data-{kind}="{html.escape(name)}">'
        f"<strong>{html.escape(what)}</strong> {html.escape(reason)}: "
        f"<code>{html.escape(detail)}</code> <small>{when}</small></li>"
    )


def run_failures_section(steps: Sequence[StepFailure], drills: Sequence[DrillFailure]) -> str:
    """The journey steps and fallback drills failing now, one line each with its reason and
    last detail (a step's with its journey run's trace id); empty when none is."""
    items = []
    for step in steps:
        if step.failing:
            at = datetime.fromtimestamp(step.started_at, UTC).strftime("%H:%M:%S UTC")
            trace = f" · trace {html.escape(step.trace_id)}" if step.trace_id else ""
            what = f"journey {step.journey} · step {step.step} ({step.node})"
            name = f"{step.journey}/{step.step}"
            items.append(
                _line("step", name, what, step.reason, step.detail, f"last run {at}{trace}")
            )
    for drill in drills:
        if drill.failing:
            at = datetime.fromtimestamp(drill.started_at, UTC).strftime("%H:%M:%S UTC")
            what = f"drill {drill.node} → {drill.fallback}"
            name = f"{drill.node}/{drill.fallback}"
            reason, detail = drill.shown_reason, drill.detail
            items.append(_line("drill", name, what, reason, detail, f"last run {at}"))
    if not items:
        return ""
    return (
        '<section class="mode" id="run-failures"><h2>Failing journey steps and drills</h2>'
        f'<ul class="failures">{"".join(items)}</ul></section>'
    )
