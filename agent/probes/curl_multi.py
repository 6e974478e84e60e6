"""libcurl's multi-socket interface on the running asyncio loop, for
:mod:`agent.probes.curl_transport`: the loop watches the sockets curl names and runs its timer,
curl does the transfers (TCP, TLS, HTTP) in C when a socket is ready or the timer fires.

curl_cffi has the same in ``curl_cffi.aio.AsyncCurl``; this one does less per transfer, which
is a share of every HTTPS probe's CPU (bench/RESULTS.md, "HTTPS probes: the Python around
libcurl"):

* a socket is registered with the loop only for the directions that changed (curl_cffi
  removes both and adds again at each of curl's calls: about six failing ``epoll_ctl`` calls
  and as many Python calls a transfer);
* the integers curl reads and writes are allocated once, not per call;
* no polling task (curl_cffi calls curl every 0.1 s "to safeguard from missing signals"): the
  timer curl asks for is the only clock, as libcurl's documentation describes.

A transfer's end is a future per easy handle: its result None, or the ``CurlError`` of curl's
result code (the message from the handle's error buffer), or the exception a response callback
raised (:attr:`agent.probes.curl_handle.Handle.failure`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from curl_cffi._wrapper import ffi, lib
from curl_cffi.aio import (
    CURL_CSELECT_IN,
    CURL_CSELECT_OUT,
    CURL_POLL_IN,
    CURL_POLL_OUT,
    CURL_POLL_REMOVE,
    CURL_SOCKET_TIMEOUT,
    CURLMSG_DONE,
)
from curl_cffi.const import CurlMOpt

from agent.probes.curl_handle import Handle

__all__ = ["Multi"]

log = logging.getLogger(__name__)

_SOCKET_CALLBACK = "int(void *, int, int, void *, void *)"  # easy, socket, what, user, socketp
_TIMER_CALLBACK = "int(void *, long, void *)"  # multi, milliseconds, user


class Multi:
    """One multi handle on ``loop``; :meth:`add` starts a transfer, :meth:`remove` ends it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._multi: Any = lib.curl_multi_init()
        self._watching: dict[int, int] = {}  # socket -> CURL_POLL_IN/OUT bits the loop watches
        self._transfers: dict[Any, tuple[Handle, asyncio.Future[None]]] = {}  # by easy pointer
        self._timer: asyncio.TimerHandle | None = None
        self._running: Any = ffi.new("int *")
        self._queued: Any = ffi.new("int *")
        # kept referenced: curl calls them as long as the multi handle lives
        failed = self._callback_failed
        self._on_socket_c = ffi.callback(_SOCKET_CALLBACK, self._on_socket, -1, failed)
        self._on_timer_c = ffi.callback(_TIMER_CALLBACK, self._on_timer, -1, failed)
        self._set(CurlMOpt.SOCKETFUNCTION, ffi.cast("void *", self._on_socket_c))
        self._set(CurlMOpt.TIMERFUNCTION, ffi.cast("void *", self._on_timer_c))

    @property
    def sockets(self) -> set[int]:
        """The sockets of the transfers under way (curl's, open)."""
        return set(self._watching)

    def add(self, handle: Handle) -> asyncio.Future[None]:
        """Start ``handle``'s transfer; the future is done when it ends."""
        if self._multi is None:
            raise RuntimeError("the multi handle is closed")
        future: asyncio.Future[None] = self.loop.create_future()
        code = lib.curl_multi_add_handle(self._multi, handle.raw)
        if code != 0:
            raise RuntimeError(f"curl_multi_add_handle: {self._error(code)}")
        self._transfers[handle.raw] = (handle, future)
        return future

    def remove(self, handle: Handle) -> None:
        """End ``handle``'s transfer if it is under way (its future cancelled, its connection
        closed); nothing if it has ended."""
        entry = self._transfers.pop(handle.raw, None)
        if entry is None:
            return
        if self._multi is not None:
            lib.curl_multi_remove_handle(self._multi, handle.raw)
        if not entry[1].done():
            entry[1].cancel()

    async def close(self) -> None:
        """End every transfer and free the multi handle."""
        for handle, _ in list(self._transfers.values()):
            self.remove(handle)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for fd, bits in self._watching.items():
            if bits & CURL_POLL_IN:
                self.loop.remove_reader(fd)
            if bits & CURL_POLL_OUT:
                self.loop.remove_writer(fd)
        self._watching.clear()
        if self._multi is not None:
            lib.curl_multi_cleanup(self._multi)
            self._multi = None

    # --- curl's callbacks (from inside curl_multi_socket_action and curl_multi_add_handle) ----

    def _on_socket(self, easy: Any, fd: int, what: int, user: Any, socketp: Any) -> int:
        """Watch ``fd`` for what curl asks: only the directions that changed are (un)registered."""
        want = 0 if what == CURL_POLL_REMOVE else what & (CURL_POLL_IN | CURL_POLL_OUT)
        had = self._watching.get(fd, 0)
        changed = had ^ want
        if not changed:
            return 0
        loop = self.loop
        if changed & CURL_POLL_IN:
            if want & CURL_POLL_IN:
                loop.add_reader(fd, self._act, fd, CURL_CSELECT_IN)
            else:
                loop.remove_reader(fd)
        if changed & CURL_POLL_OUT:
            if want & CURL_POLL_OUT:
                loop.add_writer(fd, self._act, fd, CURL_CSELECT_OUT)
            else:
                loop.remove_writer(fd)
        if want:
            self._watching[fd] = want
        else:
            del self._watching[fd]
        return 0

    def _on_timer(self, multi: Any, milliseconds: int, user: Any) -> int:
        """Run curl's timer in ``milliseconds`` (-1: none); curl must not be called from here."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if milliseconds >= 0:
            self._timer = self.loop.call_later(
                milliseconds / 1e3, self._act, CURL_SOCKET_TIMEOUT, 0
            )
        return 0

    # --- driving curl -----------------------------------------------------------------------

    def _act(self, fd: int, events: int) -> None:
        """Let curl work on ``fd`` (or its timer), then settle the transfers that ended."""
        multi = self._multi
        if multi is None:
            return
        if fd == CURL_SOCKET_TIMEOUT:
            self._timer = None
        code = lib.curl_multi_socket_action(multi, fd, events, self._running)
        if code != 0:
            log.warning("curl_multi_socket_action: %s", self._error(code))
        while (message := lib.curl_multi_info_read(multi, self._queued)) != ffi.NULL:
            if message.msg != CURLMSG_DONE:
                continue
            entry = self._transfers.pop(message.easy_handle, None)
            result = message.data.result
            lib.curl_multi_remove_handle(multi, message.easy_handle)
            if entry is None:
                continue
            handle, future = entry
            if future.done():
                continue
            if handle.failure is not None:
                future.set_exception(handle.failure)
            elif result == 0:
                future.set_result(None)
            else:
                future.set_exception(handle.curl._get_error(result, "perform"))

    @staticmethod
    def _callback_failed(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        """A callback raised (a bug, or the loop closed under it): curl is told -1 and stops."""
        log.error("curl's socket or timer callback failed: %s: %s", kind.__name__, error)

    def _set(self, option: CurlMOpt, value: Any) -> None:
        code = lib.curl_multi_setopt(self._multi, option, value)
        if code != 0:
            raise RuntimeError(f"curl_multi_setopt({option.name}): {self._error(code)}")

    @staticmethod
    def _error(code: int) -> str:
        return str(ffi.string(lib.curl_multi_strerror(code)).decode())
