"""A real Prometheus server for tests (Debian package ``prometheus``; ``make tools`` installs it).

Started on 127.0.0.1 with a free port and a scratch data directory under the test's
``tmp_path``, stopped by its PID (terminate, then kill after a timeout)::

    with PrometheusServer(tmp_path, scrape_targets=["127.0.0.1:9464"], rule_files=[rules]) as prom:
        prom.query("up")
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.net import free_port
from tests.support.processes import stop_process
from tests.support.service import Service

START_TIMEOUT = 30.0  # seconds until /-/ready must answer 200
STOP_TIMEOUT = 10.0  # seconds between terminate and kill
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


class _ExitedEarly(Exception):
    """The process ended before it was ready (most likely its port was taken meanwhile)."""


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pytest.fail("prometheus is not installed: run `make tools` (scripts/ensure-debs.sh)")
    return path


def prometheus_config(
    *,
    scrape_targets: Sequence[str],
    rule_files: Sequence[Path],
    alertmanager_urls: Sequence[str],
    scrape_interval: str,
    evaluation_interval: str,
) -> dict[str, Any]:
    """The ``prometheus.yml`` for one test server, as data."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": evaluation_interval,
        },
        "rule_files": [str(path) for path in rule_files],
    }
    if scrape_targets:
        config["scrape_configs"] = [
            {"job_name": "slo-agent", "static_configs": [{"targets": list(scrape_targets)}]}
        ]
    if alertmanager_urls:
        config["alerting"] = {
            "alertmanagers": [
                {
                    "scheme": httpx.URL(url).scheme,
                    "static_configs": [{"targets": [_host_port(url)]}],
                }
                for url in alertmanager_urls
            ]
        }
    return config


def _host_port(url: str) -> str:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.host}:{port}"


class PrometheusServer(Service):
    """One Prometheus process; a context manager that always stops what it started."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        scrape_targets: Sequence[str] = (),
        rule_files: Sequence[Path] = (),
        alertmanager_urls: Sequence[str] = (),
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
    ) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="prometheus-", dir=tmp_path))
        self.config_path = self.directory / "prometheus.yml"
        self.config = prometheus_config(
            scrape_targets=scrape_targets,
            rule_files=rule_files,
            alertmanager_urls=alertmanager_urls,
            scrape_interval=scrape_interval,
            evaluation_interval=evaluation_interval,
        )
        self.port = 0
        self.url = ""
        self.pid = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.directory / "prometheus.log"

    def start(self) -> None:
        """Start on a free port; retried when the port is taken before Prometheus binds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except _ExitedEarly:
                self.stop()
                if attempt == START_ATTEMPTS:
                    raise RuntimeError(f"prometheus did not start:\n{self.log()}") from None
            except BaseException:
                self.stop()
                raise

    def _start_once(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    prometheus_binary(),
                    f"--config.file={self.config_path}",
                    f"--storage.tsdb.path={self.directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--web.enable-lifecycle",
                    "--log.level=warn",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pid = self._process.pid
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise _ExitedEarly
                try:
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"prometheus not ready after {START_TIMEOUT}s:\n{self.log()}")

    def log(self) -> str:
        """What the server wrote so far (for failure messages)."""
        try:
            return self._log_path.read_text(errors="replace")
        except OSError:
            return ""

    def query_raw(self, expr: str) -> httpx.Response:
        """``GET /api/v1/query?query=expr``, whatever the answer."""
        return httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10.0)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` (a scalar comes back as one sample without labels);
        raises ``RuntimeError`` on an error status."""
        response = self.query_raw(expr)
        body = response.json()
        if response.status_code != 200 or body.get("status") != "success":
            raise RuntimeError(f"query {expr!r} failed ({response.status_code}): {body}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        if data["resultType"] != "vector":
            raise RuntimeError(f"query {expr!r} returned a {data['resultType']}, not a vector")
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """``GET /api/v1/alerts``: the alerts the rule manager holds (pending and firing)."""
        response = httpx.get(f"{self.url}/api/v1/alerts", timeout=10.0)
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()["data"]["alerts"]
        return alerts

    def reload(self) -> None:
        """Re-read the configuration and rule files (``POST /-/reload``)."""
        response = httpx.post(f"{self.url}/-/reload", timeout=10.0)
        response.raise_for_status()

    def stop(self) -> None:
        """Terminate (then kill) the process; idempotent."""
        process, self._process = self._process, None
        stop_process(process, STOP_TIMEOUT)
