"""Real servers for the benchmarks: an nginx target and prometheus-blackbox-exporter.

With a :class:`TestCa`, nginx also serves TLS on a second port (a certificate for 127.0.0.1 from
a throwaway CA made by ``trustme``) and blackbox_exporter gets a module trusting that CA, so
both probers verify the same chain and hostname. Both run as subprocesses on 127.0.0.1 with free
ports and a temporary directory, and are stopped by PID. ``ensure_installed`` installs the
Debian packages when their commands are missing.
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


@dataclass
class TestCa:
    """A throwaway CA (trustme, ECDSA P-256 as trustme makes by default) and a server
    certificate for 127.0.0.1 it signed, as PEM files in a temporary directory."""

    _dir: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bench-ca-")
    )

    def __post_init__(self) -> None:
        import trustme

        ca = trustme.CA()
        server = ca.issue_cert("127.0.0.1")
        d = Path(self._dir.name)
        ca.cert_pem.write_to_path(str(d / "ca.pem"))
        server.cert_chain_pems[0].write_to_path(str(d / "server.pem"))
        for extra in server.cert_chain_pems[1:]:
            extra.write_to_path(str(d / "server.pem"), append=True)
        server.private_key_pem.write_to_path(str(d / "server.key"))

    @property
    def ca_file(self) -> str:
        return str(Path(self._dir.name) / "ca.pem")

    @property
    def cert_file(self) -> str:
        return str(Path(self._dir.name) / "server.pem")

    @property
    def key_file(self) -> str:
        return str(Path(self._dir.name) / "server.key")

    def cleanup(self) -> None:
        self._dir.cleanup()


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
    """nginx with one worker answering ``GET /health`` with ``{"status":"ok"}``; with ``ca``,
    also over TLS (nginx's defaults: TLS 1.2 and 1.3, session tickets on, no session cache)."""

    port: int = 0
    workers: int = 1
    ca: TestCa | None = None
    tls_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _dir: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bench-nginx-")
    )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    @property
    def tls_url(self) -> str:
        assert self.ca is not None, "nginx serves TLS only with a CA"
        return f"https://127.0.0.1:{self.tls_port}/health"

    def start(self) -> Nginx:
        self.port = self.port or free_port()
        d = Path(self._dir.name)
        tls_server = ""
        if self.ca is not None:
            self.tls_port = self.tls_port or free_port()
            tls_server = f"""
    server {{
        listen 127.0.0.1:{self.tls_port} ssl backlog=4096;
        ssl_certificate {self.ca.cert_file};
        ssl_certificate_key {self.ca.key_file};
        location /health {{
            default_type application/json;
            return 200 '{HEALTH_BODY}';
        }}
    }}"""
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
    }}{tls_server}
}}
"""
        )
        self.proc = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(d)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        if self.ca is not None:
            wait_for_port(self.tls_port)
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
    """prometheus-blackbox-exporter with module ``http_2xx`` (no keep-alive, as it always does);
    with ``ca``, module ``https_2xx`` too, trusting that CA (verification and hostname on)."""

    port: int = 0
    ca: TestCa | None = None
    proc: subprocess.Popen[bytes] | None = None
    _dir: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="bench-blackbox-")
    )

    def probe_url(self, target: str) -> str:
        module = "https_2xx" if target.startswith("https:") else "http_2xx"
        return f"http://127.0.0.1:{self.port}/probe?module={module}&target={target}"

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
        if self.ca is not None:
            with config.open("a") as f:
                f.write(
                    "  https_2xx:\n"
                    "    prober: http\n"
                    "    timeout: 5s\n"
                    "    http:\n"
                    "      preferred_ip_protocol: ip4\n"
                    "      valid_status_codes: [200]\n"
                    "      fail_if_not_ssl: true\n"
                    "      tls_config:\n"
                    f"        ca_file: {self.ca.ca_file}\n"
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
