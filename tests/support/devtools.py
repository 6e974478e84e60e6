"""Element boxes of a page laid out by headless Chromium, through the DevTools protocol.

The status pages allow no script (their CSP is ``default-src 'none'``), so a layout check
cannot run inside them; the DevTools protocol evaluates outside the page's policy. One
browser per call, in its own process group with a scratch profile, on a loopback debugging
port it picks itself (``DevToolsActivePort``); stopped by its id like
:class:`tests.support.browser.Chromium`. The WebSocket client is the few lines the protocol
needs (RFC 6455 text frames, masked from the client)::

    value = await evaluate(tmp_path, "http://127.0.0.1:9464/", (390, 844), EXPRESSION)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import struct
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.browser import FLAGS, RUN_TIMEOUT, _stop_detached, chromium_binary

MAX_MESSAGE = 16 * 1024 * 1024


class _Socket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer, self._next = reader, writer, 0

    @classmethod
    async def connect(cls, url: str) -> _Socket:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            pytest.fail(f"DevTools refused the WebSocket: {head[:200]!r}")
        return cls(reader, writer)

    async def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        n = len(payload)
        head = b"\x81" + (
            bytes([0x80 | n])
            if n < 126
            else bytes([0x80 | 126]) + struct.pack(">H", n)
            if n < 65536
            else bytes([0x80 | 127]) + struct.pack(">Q", n)
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._writer.write(head + mask + masked)
        await self._writer.drain()

    async def receive(self) -> str:
        data = b""
        while True:
            first, second = await self._reader.readexactly(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", await self._reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", await self._reader.readexactly(8))
            if len(data) + n > MAX_MESSAGE:
                pytest.fail("DevTools message over 16 MiB")
            data += await self._reader.readexactly(n)
            if first & 0x80:
                return data.decode()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        await self.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await self.receive())
            if message.get("id") == ident:
                if "error" in message:
                    pytest.fail(f"DevTools {method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()


async def _port(profile: Path) -> int:
    marker = profile / "DevToolsActivePort"
    for _ in range(int(RUN_TIMEOUT * 10)):
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        await asyncio.sleep(0.1)
    pytest.fail("chromium wrote no DevToolsActivePort")


async def evaluate(scratch: Path, url: str, window: tuple[int, int], expression: str) -> Any:
    """Load ``url`` at ``window`` (width, height, a phone's below 700 px) and return the JSON
    value of ``expression`` evaluated in it once it has loaded (profile under ``scratch``)."""
    width, height = window
    with tempfile.TemporaryDirectory(dir=scratch, prefix="chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium_binary(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "HOME": profile},
        )
        try:
            return await asyncio.wait_for(
                _evaluate(Path(profile), url, window, expression), RUN_TIMEOUT
            )
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            await asyncio.to_thread(_stop_detached, profile)


async def _evaluate(profile: Path, url: str, window: tuple[int, int], expression: str) -> Any:
    port = await _port(profile)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        pages = (await client.get("/json/list")).json()
    target = next(p for p in pages if p.get("type") == "page")
    socket = await _Socket.connect(target["webSocketDebuggerUrl"])
    try:
        width, height = window
        await socket.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 700,
        )
        await socket.call("Page.navigate", url=url)
        for _ in range(int(RUN_TIMEOUT * 10)):
            state = await socket.call(
                "Runtime.evaluate",
                expression="[document.readyState, location.href]",
                returnByValue=True,
            )
            ready, at = state["result"].get("value") or ("", "")
            if ready == "complete" and at == url:
                break
            await asyncio.sleep(0.1)
        found = await socket.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in found:
            pytest.fail(f"layout expression failed: {found['exceptionDetails']}")
        return found["result"].get("value")
    finally:
        await socket.close()
