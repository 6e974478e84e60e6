"""``slo-agent demo``: the simulated ecosystem plus a real agent, with live progress.

Starts the demo servers on 127.0.0.1, renders the bundled demo specs for their ports, runs the
agent against them and shows, every couple of seconds, which faults are in force and how each
SLO's budget and burn rate respond. Alert state changes are printed as they happen. Ctrl-C (or
``--duration``) stops everything; no process or port is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from agent.advisor.review import DecisionReport
from agent.app import RunningAgent, RunOptions, running_agent
from agent.cli.styles import STATE_STYLES
from agent.demo.ecosystem import Ecosystem
from agent.demo.next_steps import next_steps
from agent.demo.templates import render_demo_specs
from agent.model import JOURNEY_MODE
from agent.numbers import times
from agent.runtime.advice import Advisor
from agent.runtime.agent import Agent, AgentSettings
from agent.slo.status import SloState, SloStatus, Snapshot

REFRESH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    store_path: Path | None = None  # None: a temporary file, removed at the end
    host: str = "127.0.0.1"
    port: int = 9464
    duration: float | None = None  # seconds; None = until Ctrl-C
    start_at: float = 0.0  # seconds into the fault schedule to begin at


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _pct(ratio: float | None) -> str:
    return "  -  " if ratio is None else f"{ratio * 100:6.2f}%"


def _burn(rate: float | None) -> str:
    return "-" if rate is None else times(rate)


def progress_table(snapshot: Snapshot | None, faults: Mapping[str, str], elapsed: float) -> Table:
    table = Table(
        title=f"slo-agent demo - {_clock(elapsed)} into the fault schedule", title_justify="left"
    )
    for column in (
        "node",
        "mode",
        "slo",
        "fault now",
        "SLI 5m",
        "budget left",
        "burn 5m",
        "burn 1h",
        "state",
    ):
        table.add_column(column)
    if snapshot is None:
        return table
    rows = [(node.node, node.mode.value, slo) for node in snapshot.nodes for slo in node.slos]
    rows += [(j.journey, JOURNEY_MODE, slo) for j in snapshot.journeys for slo in j.slos]
    for name, mode, slo in rows:
        state = slo.state
        table.add_row(
            name,
            mode,
            slo.slo,
            faults.get(name, ""),
            _pct(slo.window("5m").sli),
            slo.budget.left_text(2) or "  -  ",
            _burn(slo.window("5m").burn_rate),
            _burn(slo.window("1h").burn_rate),
            Text(state.label, style=STATE_STYLES[state]),
        )
    return table


def alert_changes(
    before: Mapping[str, SloState], snapshot: Snapshot
) -> tuple[dict[str, SloState], list[str]]:
    """New state per ``node/slo`` and a line for each change since ``before`` (an SLO not in
    ``before`` starts with no data, so the first data coming in prints nothing)."""
    now: dict[str, SloState] = {}
    lines: list[str] = []
    for slo in snapshot.slos():
        key = f"{slo.node}/{slo.slo}"
        state = slo.state
        now[key] = state
        previous = before.get(key, SloState.NO_DATA)
        if state != previous:
            line = _change_line(key, slo, previous)
            if line:
                lines.append(line)
    return now, lines


def _change_line(key: str, slo: SloStatus, previous: SloState) -> str:
    state = slo.state
    if state is SloState.OK:
        return "" if previous is SloState.NO_DATA else f"resolved  {key}"
    if state is SloState.NO_DATA:
        return f"NO DATA   {key}: too few events in the period to judge it"
    if state is SloState.EXHAUSTED:
        return f"EXHAUSTED {key}: error budget {slo.budget.left_text(2)}"
    burns = "; ".join(
        f"{a.severity.value} {a.long}/{a.short} burning "
        f"{_burn(a.long_burn)}/{_burn(a.short_burn)} (threshold {times(a.factor)})"
        for a in slo.firing
    )
    return f"{state.label.upper():<8}  {key}: {burns}"


def decision_changes(
    before: Mapping[str, str], report: DecisionReport
) -> tuple[dict[str, str], list[str]]:
    """The recommendation in force per node and a line for each change since ``before``."""
    now: dict[str, str] = {}
    lines: list[str] = []
    for review in report.reviews:
        shown = review.recommendation
        if review.target is not None:
            shown = f"{shown} to {review.target}"
        now[review.node] = shown
        if shown != before.get(review.node, "keep"):
            if review.flagged:
                why = "; ".join(reason.text for reason in review.advice.reasons)
                lines.append(f"FLAG      {review.node}: {shown} ({why})")
            else:
                lines.append(f"cleared   {review.node}: keep")
    return now, lines


async def run_demo(options: DemoOptions) -> None:
    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough for the table, no wrapping
        console = Console(width=140)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="slo-agent-demo-") as tmp:
        work = Path(tmp)
        store = options.store_path or work / "demo.db"
        console.print("[bold]slo-agent demo[/bold]: starting the simulated ecosystem...")
        async with Ecosystem(time_offset=options.start_at) as ecosystem:
            spec_dir = work / "specs"
            render_demo_specs(ecosystem.urls, ecosystem.ports, spec_dir)
            run_options = RunOptions(
                spec_args=(str(spec_dir),),
                store_path=store,
                host=options.host,
                port=options.port,
                settings=AgentSettings(flush_interval=1.0, evaluation_interval=REFRESH_SECONDS),
            )
            async with running_agent(run_options, os.environ) as running:
                _print_where_to_look(console, running, ecosystem, spec_dir, store, options)
                await _show_progress(
                    console, running.agent, ecosystem, stop, options.duration, running.advisor
                )
            console.print("stopping: ecosystem and agent shut down, store flushed.")
        if options.store_path is None:
            console.print("The demo's temporary store was removed; pass --store FILE to keep it.")
        else:
            console.print(
                f"Budgets kept in {store}; see them with "
                f"[bold]slo-agent report --store {store} <specs>[/bold] "
                "(the demo specs are rendered per run)."
            )


def _print_where_to_look(
    console: Console,
    running: RunningAgent,
    ecosystem: Ecosystem,
    spec_dir: Path,
    store: Path,
    options: DemoOptions,
) -> None:
    url = running.url
    nodes = ", ".join(f"{n} {u}" for n, u in sorted(ecosystem.urls.items()))
    until = f"for {_clock(options.duration)}" if options.duration else "until Ctrl-C"
    tracing = running.tracing.target if running.tracing is not None else None
    steps = next_steps(
        url,
        sorted(ecosystem.urls),
        spec_dir,
        store,
        store_kept=options.store_path is not None,
        tracing_target=tracing,
    )
    console.print(
        f"Demo nodes on loopback: {nodes}\n"
        f"Specs (rendered for this run): {spec_dir}\n"
        f"Store: {store}\n"
        f"Fault schedule (10-minute cycle): acme-pay outage at 1:00 pages within a minute; "
        f"storefront 5xx burst at 2:00; inventory down at 2:40 and 3:20; fastship latency spike "
        f"at 4:00; inventory errors at 6:30; backup-pay contract break at 8:00. The checkout "
        f"journey (storefront -> acme-pay, falling back to backup-pay -> fastship) runs every "
        f"2s, one trace per run. The advisor flags inventory (review: orchestrate) near 4:10, "
        f"fastship (reroute) near 5:00, backup-pay and acme-pay (review: operate) "
        f"after 8:00. Running {until}.",
        markup=False,
    )
    console.print("[bold]Next steps[/bold] (in another terminal while the demo runs):")
    for line in steps:
        console.print(f"  {line}", markup=False, soft_wrap=True)
    console.print()


async def _show_progress(
    console: Console,
    agent: Agent,
    ecosystem: Ecosystem,
    stop: asyncio.Event,
    duration: float | None,
    advisor: Advisor | None = None,
) -> None:
    states: dict[str, SloState] = {}
    decisions: dict[str, str] = {}
    deadline = None if duration is None else asyncio.get_running_loop().time() + duration
    live = Live(console=console, auto_refresh=False, transient=False)
    interactive = console.is_terminal
    last_plain = -1.0
    with live if interactive else contextlib.nullcontext():
        while not stop.is_set():
            elapsed = ecosystem.elapsed()
            faults = {node: fault.describe() for node, fault in ecosystem.faults_now().items()}
            snapshot = agent.snapshot
            if snapshot is not None:
                states, lines = alert_changes(states, snapshot)
                for line in lines:
                    console.print(f"[{_clock(elapsed)}] {line}")
            if advisor is not None and advisor.report is not None:
                decisions, lines = decision_changes(decisions, advisor.report)
                for line in lines:
                    console.print(f"[{_clock(elapsed)}] {line}", markup=False)
            table = progress_table(snapshot, faults, elapsed)
            if interactive:
                live.update(Group(table), refresh=True)
            elif snapshot is not None and elapsed - last_plain >= 30:  # pipes: every 30 s
                console.print(table)
                last_plain = elapsed
            timeout = REFRESH_SECONDS
            if deadline is not None:
                timeout = min(timeout, deadline - asyncio.get_running_loop().time())
                if timeout <= 0:
                    break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await stop.wait()
