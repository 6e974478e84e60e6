"""The status page's failure lines of a node card: for each probe failing now, its reason and
the detail of its last run (already redacted and bounded), with when it started failing that
way and its trace id. Pure: data to HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from agent.slo.failures import ProbeFailure

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
