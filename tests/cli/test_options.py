"""Command-line values: listen addresses, URLs with credentials, and the logging set-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import typer

from agent.cli.options import QUIET_LOGGERS, listen_address, prometheus_url, setup_logging
from agent.redaction import RedactingFilter
from tests.support.cli import slo_agent


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (":0", ("127.0.0.1", 0)),
        ("[::1]:80", ("::1", 80)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_listen_addresses_that_work(value: str, expected: tuple[str, int]) -> None:
    assert listen_address(value) == expected


@pytest.mark.parametrize(
    "value", ["[::1:80", "::1:80", "[::1]]:80", "[127.0.0.1]:80", "host:99999", "host", "h:-1"]
)
def test_malformed_listen_addresses_are_refused(value: str) -> None:
    with pytest.raises(typer.BadParameter, match=r"HOST:PORT or \[IPV6\]:PORT"):
        listen_address(value)


def test_a_malformed_listen_address_is_a_usage_error() -> None:
    done = slo_agent("run", "--listen", "[::1:80")
    assert done.returncode == 2
    assert "'[::1:80' is not HOST:PORT or [IPV6]:PORT" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_a_bad_prometheus_url_is_shown_without_its_password() -> None:
    with pytest.raises(typer.BadParameter) as raised:
        prometheus_url("ftp://u:hunter2@prom:9090/")
    assert "hunter2" not in str(raised.value)
    assert "ftp://REDACTED:REDACTED@prom:9090/" in str(raised.value)


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    root.handlers.clear()
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("clean_logging")
def test_info_quiets_the_request_loggers_and_filters_every_handler() -> None:
    setup_logging("info")
    assert all(
        any(isinstance(f, RedactingFilter) for f in handler.filters)
        for handler in logging.getLogger().handlers
    )
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)  # no line per redirect hop
    assert not logging.getLogger("opentelemetry.exporter.otlp").isEnabledFor(logging.ERROR)


@pytest.mark.usefixtures("clean_logging")
def test_debug_lets_request_logs_through_the_filter_but_not_the_exporter_errors() -> None:
    setup_logging("debug")
    assert logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert not logging.getLogger("opentelemetry.exporter.otlp").isEnabledFor(logging.ERROR)
