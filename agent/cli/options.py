"""Parsing of command-line values shared by several verbs."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import typer

from agent.durations import parse_duration


def duration(value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def prometheus_url(value: str | None) -> str | None:
    """``--prometheus-url``: an http(s) URL of a Prometheus server, or not given."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(
            f"{value!r} is not an http:// or https:// URL (e.g. http://127.0.0.1:9090)"
        )
    return value


def listen_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise typer.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:9464, port 0 = any)")
    return host.strip("[]") or "127.0.0.1", int(port)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # APScheduler logs every run at INFO and every skip at WARNING; the agent counts skips in
    # slo_agent_scheduler_skipped_runs_total instead of flooding the log.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
