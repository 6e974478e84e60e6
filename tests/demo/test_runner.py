"""``slo-agent demo`` as a newcomer runs it: a real process, real servers, a real page alert."""

from __future__ import annotations

import socket
import subprocess
import sys


def test_demo_pages_on_the_partner_outage_and_stops_cleanly() -> None:
    # port 0: the agent takes a free port after the ecosystem took its own (a port picked
    # beforehand could be handed to one of the ecosystem's servers in between)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "demo",
            "--start-at",
            "55s",
            "--duration",
            "30s",
            "--listen",
            "127.0.0.1:0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    page_line = next(line.strip() for line in out.splitlines() if "Status page:" in line)
    url = page_line.removeprefix("Status page:").strip().rstrip("/")
    port = int(url.rsplit(":", 1)[1])
    assert port != 0
    assert f"{url}/api/v1/status" in out
    # the acme-pay outage starts at 1:00 of the schedule and must page within seconds
    page = next(line for line in out.splitlines() if "PAGE" in line)
    assert "acme-pay/availability" in page
    assert "page 5m/1m burning" in page
    assert "stopping: ecosystem and agent shut down, store flushed." in out
    # everything it started is gone: the agent's port is free again
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
