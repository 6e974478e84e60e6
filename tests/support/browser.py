"""Headless Chromium for tests (Debian package ``chromium``; ``make tools`` installs it).

Each call starts one browser in its own process group with a scratch profile (also its HOME),
lets it load one page and print the DOM or write a screenshot, and waits for it with a timeout;
whatever is left of the group is killed by its id, and so is any process started with that
profile outside the group (the crash handler), so nothing outlives the call::

    browser = Chromium(tmp_path)
    dom = await browser.dump_dom("http://127.0.0.1:9464/")
    await browser.screenshot("http://127.0.0.1:9464/", tmp_path / "page.png")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import psutil
import pytest

RUN_TIMEOUT = 60.0  # seconds one page load, dump or screenshot may take
STOP_TIMEOUT = 10.0  # seconds killed processes get to go away
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_binary() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is not installed: run `make tools` (scripts/ensure-debs.sh)")
    return path


def _stop_detached(profile: str) -> None:
    """Kill what this browser left running outside its process group: Chromium's crash
    handler starts in a session of its own, found by the profile it was given."""
    mine = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(profile in arg for arg in p.info["cmdline"] or ())
    ]
    for process in mine:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    _, alive = psutil.wait_procs(mine, timeout=STOP_TIMEOUT)
    assert not alive, f"chromium processes survived a kill: {alive}"


def _clear(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)


class Chromium:
    def __init__(self, scratch: Path, window: tuple[int, int] = (1280, 1400)) -> None:
        self._scratch = scratch
        self._window = window
        self._binary = chromium_binary()

    async def dump_dom(self, url: str) -> str:
        """The DOM of ``url`` after it loaded, serialised as HTML."""
        return (await self._run("--dump-dom", url)).decode("utf-8", "replace")

    async def screenshot(self, url: str, path: Path) -> None:
        """A PNG of ``url`` at the window size, written to ``path``."""
        await asyncio.to_thread(_clear, path)
        await self._run(f"--screenshot={path}", url)
        if not await asyncio.to_thread(path.exists):
            pytest.fail(f"chromium wrote no screenshot to {path}")

    async def _run(self, *args: str) -> bytes:
        width, height = self._window
        with tempfile.TemporaryDirectory(dir=self._scratch, prefix="chromium-") as profile:
            process = await asyncio.create_subprocess_exec(
                self._binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group: children can be stopped too
                env={**os.environ, "HOME": profile},
            )
            try:
                out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
            except TimeoutError:
                pytest.fail(f"chromium did not finish within {RUN_TIMEOUT:.0f}s: {args}")
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                if process.returncode is None:
                    await process.wait()
                await asyncio.to_thread(_stop_detached, profile)
        if process.returncode != 0:
            pytest.fail(f"chromium exited with {process.returncode}: {err.decode()[-2000:]}")
        return out
