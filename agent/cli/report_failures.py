"""``report``'s last failure per probe, read from the store's raw results (no agent running):
the newest failed run among each probe's latest :data:`RECENT_RUNS` stored results, and a table
of the probes whose latest stored run failed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent.api.history_read import ResultReader
from agent.model import SpecSet
from agent.probes.details import one_line
from agent.runtime.failures import NO_DETAIL
from agent.slo.failures import ProbeFailure

RECENT_RUNS = 200  # stored results read per probe to find its last failure


def stored_failures(specs: SpecSet, store: ResultReader) -> tuple[ProbeFailure, ...]:
    """Per probe of ``specs``: its last stored failure, if any of its recent runs failed."""
    found: list[ProbeFailure] = []
    for node in specs.nodes:
        for probe in node.probes:
            results = store.recent_results(node=node.name, probe=probe.name, limit=RECENT_RUNS)
            failed = [r for r in results if not r.ok]
            if not failed:
                continue
            last = failed[-1]
            found.append(
                ProbeFailure(
                    node.name,
                    probe.name,
                    last.started_at,
                    last.observation.reason.value,
                    one_line(last.observation.detail or NO_DETAIL),
                    None,  # the store keeps no trace ids
                    failing=results[-1] is last,
                )
            )
    return tuple(found)


def render_failures(failures: tuple[ProbeFailure, ...], console: Console) -> None:
    """A table of the probes failing now (their latest stored run failed); nothing if none."""
    failing = [f for f in failures if f.failing]
    if not failing:
        return
    table = Table(title="Failing probes (latest stored run)", title_justify="left")
    for header in ("node", "probe", "reason", "detail"):
        table.add_column(header, overflow="fold")
    for f in failing:
        # Text: a detail is the target's words, never Rich markup ("[field:...]")
        table.add_row(f.node, f.probe, f.reason, Text(f.detail))
    console.print(table)
