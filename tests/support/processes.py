"""Stopping the server processes tests start: by their PID, never by name."""

from __future__ import annotations

import os
import subprocess


def stop_process(
    process: subprocess.Popen[bytes] | subprocess.Popen[str] | None, timeout: float = 10.0
) -> None:
    """Terminate ``process``, kill it if it is still there after ``timeout`` s; reap it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` now (VmRSS in /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def open_fds(pid: int) -> int:
    """How many file descriptors process ``pid`` holds now."""
    return len(os.listdir(f"/proc/{pid}/fd"))
