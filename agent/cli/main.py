"""The ``slo-agent`` command line.

Exit codes: 0 ok, 1 findings or invalid input, 2 usage error.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from agent.cli import loop
from agent.cli.options import duration, listen_address, setup_logging
from agent.errors import UserError

app = typer.Typer(
    name="slo-agent",
    help="Probe the nodes you operate and the partners you orchestrate; keep their error budgets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Spec files or directories (default: $SLO_AGENT_SPECS, then ./slo_specs).",
        show_default=False,
    ),
]
StoreOpt = Annotated[
    Path, typer.Option("--store", envvar="SLO_AGENT_STORE", help="SQLite store file.")
]


def _fail(exc: UserError) -> typer.Exit:
    typer.echo(str(exc), err=True)
    return typer.Exit(1)


@app.command()
def validate(paths: Paths = None) -> None:
    """Check spec files; print every problem as file: document N: field: message."""
    from agent.cli.validate import validate as run_validate

    code = run_validate(paths or [], os.environ, sys.stdout, sys.stderr)
    raise typer.Exit(code)


@app.command()
def run(
    paths: Paths = None,
    store: StoreOpt = Path("slo-agent.db"),
    listen: Annotated[
        str, typer.Option(help="HTTP listen address for /metrics and the API (port 0 = any).")
    ] = "127.0.0.1:9464",
    flush_interval: Annotated[
        str,
        typer.Option(help="How often results are written to the store (the most kill -9 loses)."),
    ] = "1s",
    evaluation_interval: Annotated[str, typer.Option(help="How often SLOs are evaluated.")] = "10s",
    watch_interval: Annotated[
        str,
        typer.Option(help="How often spec files are checked for changes (0s: only on SIGHUP)."),
    ] = "2s",
    raw_retention: Annotated[
        str, typer.Option(help="How long raw probe results are kept for incident timelines.")
    ] = "48h",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    uvloop: Annotated[bool, typer.Option(help="Use uvloop when installed.")] = True,
) -> None:
    """Run the agent: probe on schedule, keep budgets, serve /metrics and /api/v1/status."""
    from agent.app import RunOptions, run_until_stopped
    from agent.runtime.agent import AgentSettings

    setup_logging(log_level)
    host, port = listen_address(listen)
    options = RunOptions(
        spec_args=paths or [],
        store_path=store,
        host=host,
        port=port,
        raw_retention=duration(raw_retention),
        settings=AgentSettings(
            flush_interval=duration(flush_interval).total_seconds(),
            evaluation_interval=duration(evaluation_interval).total_seconds(),
            watch_interval=duration(watch_interval).total_seconds(),
        ),
    )
    try:
        loop.run(run_until_stopped(options, os.environ), use_uvloop=uvloop)
    except UserError as exc:
        raise _fail(exc) from None


@app.command()
def report(
    paths: Paths = None,
    store: StoreOpt = Path("slo-agent.db"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print every SLO's budget from the store (the agent need not be running)."""
    from agent.cli.report import report as run_report

    try:
        code = run_report(
            paths or [], os.environ, store, as_json=as_json, now=time.time(), out=sys.stdout
        )
    except UserError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def demo(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="SQLite store file (default: a fresh temporary one)."),
    ] = None,
    listen: Annotated[
        str, typer.Option(help="Agent HTTP address (port 0 = any).")
    ] = "127.0.0.1:9464",
    duration_: Annotated[
        str | None,
        typer.Option("--duration", help="Stop by itself after this long (default: until Ctrl-C)."),
    ] = None,
    start_at: Annotated[
        str, typer.Option(help="Begin this far into the 10-minute fault schedule (e.g. 55s).")
    ] = "0s",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    """Start a simulated ecosystem on 127.0.0.1 and run the agent against it (zero setup)."""
    from agent.demo.runner import DemoOptions, run_demo

    setup_logging(log_level)
    host, port = listen_address(listen)
    options = DemoOptions(
        store_path=store,
        host=host,
        port=port,
        duration=duration(duration_).total_seconds() if duration_ else None,
        start_at=duration(start_at).total_seconds(),
    )
    try:
        loop.run(run_demo(options))
    except UserError as exc:
        raise _fail(exc) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
