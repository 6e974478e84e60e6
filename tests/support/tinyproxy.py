"""A real forward proxy for tests: Debian's tinyproxy, in the foreground on a free 127.0.0.1
port with a config and a log of its own, stopped by PID.

Its log names every request it relays (``Request (file descriptor N): GET http://...`` and
``CONNECT 127.0.0.1:PORT`` for tunnels), so a test can prove a probe went through it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.net import free_port, wait_for_port
from tests.support.service import Service


def tinyproxy_binary() -> str:
    path = shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/bin:/usr/sbin")
    if path is None:
        pytest.fail("tinyproxy is not installed: run `make tools` (scripts/ensure-debs.sh)")
    return path


class Tinyproxy(Service):
    def __init__(self, directory: Path, *, basic_auth: tuple[str, str] | None = None) -> None:
        self.directory = directory
        self.port = 0
        self.log = directory / "tinyproxy.log"
        self.basic_auth = basic_auth
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Tinyproxy:
        self.port = free_port()
        lines = [
            f"Port {self.port}",
            "Listen 127.0.0.1",
            "Allow 127.0.0.1",
            "DisableViaHeader Yes",
            "LogLevel Info",
            f'LogFile "{self.log}"',
            "Timeout 10",
            "MaxClients 20",
        ]
        # no User/Group: it runs as the test's user (with a warning), so it can write its log
        if self.basic_auth is not None:
            lines.append(f"BasicAuth {self.basic_auth[0]} {self.basic_auth[1]}")
        config = self.directory / "tinyproxy.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._process = subprocess.Popen(
            [tinyproxy_binary(), "-d", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def relayed(self, needle: str, timeout: float = 5.0) -> list[str]:
        """The log lines naming a relayed request that contain ``needle`` (waits up to
        ``timeout`` for the first, as tinyproxy writes its log after relaying)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [
                line
                for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                if ("Request (file descriptor" in line or "CONNECT" in line) and needle in line
            ]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)
