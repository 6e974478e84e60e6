"""``report``'s failed fallback drills: per node, each drilled fallback with failed runs over
the node's longest SLO period, from one aggregate of every stored drill run
(:meth:`~agent.store.evidence_reads.EvidenceReads.drill_tallies`).

Each failed drill shows why its last failed run failed: the probe's reason (``timeout``,
``connect``, ``status``, ``assertion``, ...), stored with every run since layout 8; runs stored
before have none (``-``, null). The detail of a drill's last failure (the target's words) is not
stored: it lives in the running agent (``drill_failures`` in ``/api/v1/status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from rich.console import Console
from rich.table import Table
from typing_extensions import TypedDict

from agent.api.timestamps import rfc3339_or_none
from agent.cli.bounded import MAX_ROWS, print_bounded
from agent.model import SpecSet
from agent.numbers import whole
from agent.slo.windows import longest_period
from agent.store.evidence import DrillTally

TITLE = "Failed fallback drills (over each node's SLO period)"
NO_REASON = "-"
NO_REASONS = (
    "reason -: the last failed run was stored before the store kept drill failure reasons "
    "(layout 8)"
)


@dataclass(frozen=True, slots=True)
class FailedDrill:
    node: str
    fallback: str
    period: str  # the label of the range counted, e.g. "28d"
    tally: DrillTally


class DrillTallies(Protocol):
    def drill_tallies(self, node: str, start: float, end: float) -> dict[str, DrillTally]: ...


class FailedDrillJson(TypedDict):
    fallback: str
    period: str
    runs: int
    failed_runs: int
    failing: bool  # the latest run failed
    last_failed_run_started_at: str | None
    last_failure_reason: str | None  # a probe failure reason; None if stored before layout 8
    last_run_started_at: str | None


def failed_drills(specs: SpecSet, store: DrillTallies, now: float) -> tuple[FailedDrill, ...]:
    """Every drilled fallback of ``specs`` with a failed run over its node's longest SLO
    period up to ``now``: the failing ones (latest run failed) first, then the most failures,
    then by node and fallback."""
    found: list[FailedDrill] = []
    for node in specs.nodes:
        drilled = [f.node for f in node.fallbacks if f.drill is not None]
        if not drilled:
            continue
        label, start = longest_period(node.slos, now)
        tallies = store.drill_tallies(node.name, start, now)
        for fallback in drilled:
            tally = tallies.get(fallback, DrillTally())
            if tally.failures:
                found.append(FailedDrill(node.name, fallback, label, tally))
    found.sort(key=lambda d: (not d.tally.failing, -d.tally.failures, d.node, d.fallback))
    return tuple(found)


def failed_drills_json(drills: Sequence[FailedDrill]) -> dict[str, list[FailedDrillJson]]:
    """Node -> its failed drills, in :func:`failed_drills`' order."""
    by_node: dict[str, list[FailedDrillJson]] = {}
    for d in drills:
        by_node.setdefault(d.node, []).append(
            {
                "fallback": d.fallback,
                "period": d.period,
                "runs": d.tally.runs,
                "failed_runs": d.tally.failures,
                "failing": d.tally.failing,
                "last_failed_run_started_at": rfc3339_or_none(d.tally.last_failure_at),
                "last_failure_reason": _reason(d.tally),
                "last_run_started_at": rfc3339_or_none(d.tally.last_run_at),
            }
        )
    return by_node


def _reason(tally: DrillTally) -> str | None:
    reason = tally.last_failure_reason
    return None if reason is None else reason.value


def _when(at: float | None) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_failed_drills(drills: Sequence[FailedDrill], console: Console) -> None:
    """A table of :func:`failed_drills` and what it cannot say; nothing if none failed."""
    table = Table(title=TITLE, title_justify="left")
    headers = ("node", "fallback", "period", "failed", "last failed run", "reason", "latest run")
    for header in headers:
        table.add_column(header)
    rows = [
        [
            d.node,
            d.fallback,
            d.period,
            f"{whole(d.tally.failures)} of {whole(d.tally.runs)}",
            _when(d.tally.last_failure_at),
            _reason(d.tally) or NO_REASON,
            "failed" if d.tally.failing else "passed",
        ]
        for d in drills
    ]
    print_bounded(console, table, rows, "failed drills")
    if any(row[5] == NO_REASON for row in rows[:MAX_ROWS]):
        console.print(NO_REASONS, markup=False)
