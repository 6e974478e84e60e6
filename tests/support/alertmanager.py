"""A real Alertmanager (Debian package ``prometheus-alertmanager``; ``make tools`` installs it).

    with AlertmanagerServer(tmp_path) as alertmanager:
        ...  # push to alertmanager.url
        alertmanager.alerts()  # GET /api/v2/alerts

It listens on a free 127.0.0.1 port with clustering off, keeps its data and log under
``tmp_path``, routes everything to a receiver that sends nothing, and is stopped by its PID
(terminate, then kill after a timeout).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.net import free_port
from tests.support.processes import stop_process
from tests.support.service import Service

CONFIG = """\
route:
  receiver: nowhere
  group_by: [alertname, node, slo]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: nowhere
"""

_START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


def alertmanager_binary() -> str:
    for name in ("prometheus-alertmanager", "alertmanager"):
        path = shutil.which(name)
        if path is not None:
            return path
    pytest.fail("Alertmanager is not installed: run `make tools` (scripts/ensure-debs.sh)")


class AlertmanagerServer(Service):
    """An Alertmanager process on 127.0.0.1; a context manager (``with``)."""

    def __init__(
        self, tmp_path: Path, *, config: str = CONFIG, ready_timeout: float = 20.0
    ) -> None:
        self.directory = tmp_path / "alertmanager"
        self.config = config
        self.ready_timeout = ready_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> AlertmanagerServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        config_file = self.directory / "alertmanager.yml"
        config_file.write_text(self.config)
        for attempt in range(1, _START_ATTEMPTS + 1):
            if self._start_once(config_file):
                return self
            self.stop()
            if attempt == _START_ATTEMPTS:
                pytest.fail(f"Alertmanager did not become ready; its log:\n{self.log()}")
        return self

    def _start_once(self, config_file: Path) -> bool:
        self.port = free_port()
        address = f"127.0.0.1:{self.port}"
        with (self.directory / "alertmanager.log").open("ab") as log:
            self._process = subprocess.Popen(
                [
                    alertmanager_binary(),
                    f"--config.file={config_file}",
                    f"--storage.path={self.directory / 'data'}",
                    f"--web.listen-address={address}",
                    f"--web.external-url=http://{address}",
                    "--cluster.listen-address=",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    return False  # exited: most likely the port was taken meanwhile
                try:
                    if client.get(f"{self.url}/-/ready").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Terminate the process (kill it after 10 s); idempotent."""
        process, self._process = self._process, None
        stop_process(process)

    # --- for tests ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("Alertmanager is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("Alertmanager is not running")
        return self._process.pid

    def alerts(self, active: bool | None = None) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts`` (resolved alerts are never listed); ``active`` filters."""
        params = {} if active is None else {"active": "true" if active else "false"}
        response = httpx.get(f"{self.url}/api/v2/alerts", params=params, timeout=10.0)
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts

    def log(self) -> str:
        path = self.directory / "alertmanager.log"
        return path.read_text(errors="replace") if path.exists() else ""
