"""Parsing of the ``run`` command's options that need more than a type: each bad value is one
clear line naming the option and what is allowed."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import typer

from agent.cli.options import duration
from agent.probes.https_engine import HttpsEngine, parse_engine
from agent.redaction import redact_url
from agent.runtime.worker_count import MAX_PROBE_WORKERS, usable_cores
from agent.schedule.shard import UNSHARDED, Shard, parse_shard


def alertmanager_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise typer.BadParameter(
            f"{redact_url(value)!r} is not an http:// or https:// URL (e.g. http://127.0.0.1:9093)",
            param_hint="'--alertmanager-url'",
        )
    return value


def shard(value: str | None) -> Shard:
    if value is None:
        return UNSHARDED
    hostname = os.environ.get("HOSTNAME") or socket.gethostname()
    try:
        return parse_shard(value, hostname)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--shard'") from None


def probe_workers(value: str | None) -> int | None:
    """The processes ``--probe-workers`` asks for; None when not given (the spec set's size
    decides, :func:`agent.runtime.worker_count.workers_for`)."""
    if value is None:
        return None
    if value == "auto":
        return min(usable_cores(), MAX_PROBE_WORKERS)
    if not value.isdigit() or not 1 <= int(value) <= MAX_PROBE_WORKERS:
        raise typer.BadParameter(
            f"{value!r} is not a number of processes from 1 to {MAX_PROBE_WORKERS} or auto",
            param_hint="'--probe-workers'",
        )
    return int(value)


def positive_seconds(value: str, option: str) -> float:
    seconds = duration(value).total_seconds()
    if seconds <= 0:
        raise typer.BadParameter(f"must be longer than 0s, got {value!r}", param_hint=f"'{option}'")
    return seconds


def https_engine(value: str | None) -> HttpsEngine | None:
    """The engine ``--https-engine`` names; None when not given (curl when importable)."""
    if value is None:
        return None
    try:
        return parse_engine(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--https-engine'") from None
