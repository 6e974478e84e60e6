"""Stopping the server processes tests start: by their PID, never by name."""

from __future__ import annotations

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
