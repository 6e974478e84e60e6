"""``slo-agent --version``: the installed package's version (its metadata), then exit."""

from __future__ import annotations

import typer

from agent.version import agent_version


def print_version(value: bool) -> None:
    """An eager ``--version`` option's callback: print ``slo-agent 0.1.0`` and exit 0."""
    if value:
        typer.echo(f"slo-agent {agent_version()}")
        raise typer.Exit(0)
