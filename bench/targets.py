"""Real servers for the benchmarks: an nginx target and prometheus-blackbox-exporter.

Both run as subprocesses on 127.0.0.1 with free ports and a temporary directory, and are stopped
by PID. ``ensure_installed`` installs the Debian packages when their commands are missing.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.support.net import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
HEALTH_BODY = '{"status":"ok"}'


def ensure_installed() -> None:
    """Install nginx and prometheus-blackbox-exporter from Debian if they are missing."""
    script = REPO / "scripts" / "ensure-debs.sh"
    packages = ["nginx=nginx", "prometheus-blackbox-exporter=prometheus-blackbox-exporter"]
    subprocess.run(["bash", str(script), *packages], check=True)


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@dataclass
class Nginx:
    """nginx with one worker answering ``GET /health`` with ``{"status":"ok"}``."""

    port: int = 0
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None
    _dir: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bench-nginx-")
    )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    def start(self) -> Nginx:
        self.port = self.port or free_port()
        d = Path(self._dir.name)
        conf = d / "nginx.conf"
        conf.write_text(
            f"""daemon off;
master_process on;
worker_processes {self.workers};
worker_rlimit_nofile 65536;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{self.port} backlog=4096;
        location /health {{
            default_type application/json;
            return 200 '{HEALTH_BODY}';
        }}
        location /nginx_status {{ stub_status; }}
    }}
}}
"""
        )
        self.proc = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(d)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def worker_pids(self) -> list[int]:
        """PIDs of the master and its workers (the workers do the serving)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [self.proc.pid, *(int(p) for p in children.read_text().split())]

    def counters(self) -> tuple[int, int]:
        """(connections accepted, requests served) so far, from stub_status; the status
        request itself is counted in both."""
        url = f"http://127.0.0.1:{self.port}/nginx_status"
        with urllib.request.urlopen(url, timeout=5) as resp:
            lines = resp.read().decode().splitlines()
        # "Active connections: N", "server accepts handled requests", " A H R", ...
        accepted, _handled, served = (int(x) for x in lines[2].split())
        return accepted, served

    def stop(self) -> None:
        _stop(self.proc)
        self._dir.cleanup()

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class BlackboxExporter:
    """prometheus-blackbox-exporter with module ``http_2xx`` (no keep-alive, as it always does)."""

    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _dir: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bench-blackbox-")
    )

    def probe_url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.port}/probe?module=http_2xx&target={target}"

    def start(self) -> BlackboxExporter:
        self.port = self.port or free_port()
        config = Path(self._dir.name) / "blackbox.yml"
        config.write_text(
            "modules:\n"
            "  http_2xx:\n"
            "    prober: http\n"
            "    timeout: 5s\n"
            "    http:\n"
            "      preferred_ip_protocol: ip4\n"
            "      valid_status_codes: [200]\n"
        )
        self.proc = subprocess.Popen(
            [
                BLACKBOX,
                f"--config.file={config}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the config loads right after the port opens
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("blackbox exporter not ready")

    def stop(self) -> None:
        _stop(self.proc)
        self._dir.cleanup()

    def __enter__(self) -> BlackboxExporter:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
