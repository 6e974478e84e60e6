"""Parsing of command-line values shared by several verbs."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import typer

from agent.durations import parse_duration
from agent.redaction import KnownSecrets, RedactingFilter, redact_url


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
            f"{redact_url(value)!r} is not an http:// or https:// URL (e.g. http://127.0.0.1:9090)"
        )
    return value


def listen_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPV6]:PORT`` (an empty host is 127.0.0.1); BadParameter otherwise."""
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        well_formed = ":" in host and "[" not in host and "]" not in host
    else:  # an IPv6 address must be in brackets, and a bracket only around one
        well_formed = not any(c in host for c in "[]:")
    if not (sep and well_formed and port.isdigit() and 0 <= int(port) <= 65535):
        raise typer.BadParameter(
            f"{value!r} is not HOST:PORT or [IPV6]:PORT (e.g. 127.0.0.1:9464, [::1]:9464; "
            "port 0 = any)",
            param_hint="'--listen'",
        )
    return host or "127.0.0.1", int(port)


QUIET_LOGGERS = {
    # APScheduler logs every run at INFO and every skip at WARNING; the agent counts skips in
    # slo_agent_scheduler_skipped_runs_total instead of flooding the log.
    "apscheduler": logging.ERROR,
    # one INFO line per request and per redirect hop, URL included: probes are counted, not
    # logged line by line
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "urllib3": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    # the OTLP exporters log every failed export (an ERROR every few seconds while a collector
    # is away); the agent logs one line per failure streak and counts each failure instead
    "opentelemetry.exporter": logging.CRITICAL,
}
"""Library loggers set above the agent's own level unless ``--log-level debug`` asks for
everything (their lines then pass the redacting filter like every other)."""

ALWAYS_QUIET = frozenset({"apscheduler", "opentelemetry.exporter"})
"""Quiet even at ``--log-level debug``: their lines repeat what the agent counts."""


def setup_logging(level: str) -> KnownSecrets:
    """Log to stderr at ``level``, every record redacted (:class:`RedactingFilter`, whatever
    logger it comes from); the secrets the filter searches for, for the caller to extend."""
    root = logging.getLogger()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level.upper())
    secrets = KnownSecrets()
    redacting = RedactingFilter(secrets)
    for handler in root.handlers:
        handler.addFilter(redacting)
    debug = level.upper() == "DEBUG"
    for name, floor in QUIET_LOGGERS.items():
        quiet = not debug or name in ALWAYS_QUIET
        logging.getLogger(name).setLevel(floor if quiet else logging.NOTSET)
    return secrets


def trace_url_template(value: str | None) -> str | None:
    """``--trace-url-template``: an http(s) URL with one ``{trace_id}``, or not given."""
    if value is None:
        return None
    parts = urlsplit(value.replace("{trace_id}", "0"))
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or value.count("{trace_id}") != 1
    ):
        raise typer.BadParameter(
            f"{redact_url(value)!r} is not an http:// or https:// URL with {{trace_id}} once "
            "(e.g. http://127.0.0.1:16686/trace/{trace_id})",
            param_hint="'--trace-url-template'",
        )
    return value
