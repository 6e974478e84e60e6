"""A dnsmasq DNS server on 127.0.0.1 (Debian ``dnsmasq-base``) for the ``dns`` probe kind's
tests: its own records only (no resolv.conf, no hosts file, nothing forwarded except what a
test names), in the foreground, stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pytest

from tests.support.net import free_port
from tests.support.processes import stop_process

_START_ATTEMPTS = 3  # a free port can be taken by someone else before dnsmasq binds it


def dnsmasq_binary() -> str:
    path = shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")
    if path is None:
        pytest.fail("dnsmasq is not installed: run `make tools` (scripts/ensure-debs.sh)")
    return path


class Dnsmasq:
    """``with Dnsmasq(tmp_path, records) as dns:`` serves ``records`` (dnsmasq options such as
    ``--address=/partner.test/127.0.0.1``) on ``127.0.0.1:dns.port`` (UDP and TCP)."""

    def __init__(self, directory: Path, records: Sequence[str]) -> None:
        self.directory = directory
        self.records = tuple(records)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dnsmasq:
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(_START_ATTEMPTS):
            if self._start_once():
                return self
            self.stop()
        pytest.fail(f"dnsmasq did not start; its log:\n{self.log()}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_once(self) -> bool:
        self.port = free_port()
        with (self.directory / "dnsmasq.log").open("ab") as log:
            self._process = subprocess.Popen(
                [
                    dnsmasq_binary(),
                    "--keep-in-foreground",
                    f"--port={self.port}",
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--no-resolv",
                    "--no-hosts",
                    "--no-poll",
                    f"--pid-file={self.directory / 'dnsmasq.pid'}",
                    "--log-queries",
                    "--log-facility=-",
                    *self.records,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def queries(self) -> int:
        """How many queries dnsmasq logged so far."""
        return sum(1 for line in self.log().splitlines() if "query[" in line)

    def log(self) -> str:
        path = self.directory / "dnsmasq.log"
        return path.read_text(errors="replace") if path.exists() else ""
