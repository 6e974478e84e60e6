"""A libcurl easy handle reused request after request by :mod:`agent.probes.curl_transport`,
with the per-request options set straight through libcurl.

curl_cffi's ``Curl.setopt`` is general: it looks the option's type up, wraps every callback in
a new cffi handle, and appends header and ``RESOLVE`` entries to lists it frees only in
``clean_handles_and_buffers``; ``Curl.getinfo`` allocates and converts per call. For a probe
that sets seven options and reads four values per request that was ~45 µs of Python, a
twentieth of an HTTPS probe's CPU. Here the response callbacks are set once per handle (they
hand each line and chunk to whichever :class:`Sink` the request installed), the lists are
built and freed by the handle, and integers are set and read through buffers allocated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from curl_cffi import Curl, CurlInfo, CurlOpt
from curl_cffi._wrapper import ffi, lib
from curl_cffi.curl import CURL_WRITEFUNC_ERROR

__all__ = ["Handle", "Sink"]

# what a request sets that the next one must not inherit: lists (freed after the request) and
# the method; ``RESOLVE`` is read when the transfer starts, the others during it
_PER_REQUEST = (CurlOpt.HTTPHEADER, CurlOpt.RESOLVE, CurlOpt.CONNECT_TO, CurlOpt.CUSTOMREQUEST)


class Sink(Protocol):
    """Where a request's response goes: curl's header lines and body chunks, as they come."""

    def on_header(self, line: bytes) -> int: ...

    def on_body(self, data: bytes) -> int: ...


class _Idle:
    """The sink between requests: nothing is expected, so anything is refused."""

    def on_header(self, line: bytes) -> int:
        return CURL_WRITEFUNC_ERROR

    def on_body(self, data: bytes) -> int:
        return CURL_WRITEFUNC_ERROR


_IDLE = _Idle()


class Handle:
    """One easy handle: ``curl`` with its callbacks set once, and the lists of the request
    under way (freed by :meth:`clear`)."""

    __slots__ = ("_lists", "_long", "_offset", "curl", "failure", "raw", "sink")

    def __init__(self, curl: Curl) -> None:
        self.curl = curl
        self.raw: Any = curl._curl
        self.sink: Sink = _IDLE
        self.failure: BaseException | None = None  # what a sink raised: the transfer's end
        self._lists: list[Any] = []
        self._long: Any = ffi.new("long *")
        self._offset: Any = ffi.new("int64_t *")
        curl.setopt(CurlOpt.HEADERFUNCTION, self._header)
        curl.setopt(CurlOpt.WRITEFUNCTION, self._body)

    def _header(self, line: bytes) -> int:
        try:
            return self.sink.on_header(line)
        except Exception as exc:  # a bug: the transfer ends with it (never curl_cffi's store)
            self.failure = exc
            return CURL_WRITEFUNC_ERROR

    def _body(self, data: bytes) -> int:
        try:
            return self.sink.on_body(data)
        except Exception as exc:
            self.failure = exc
            return CURL_WRITEFUNC_ERROR

    # --- options of one request ------------------------------------------------------------

    def set_text(self, option: CurlOpt, value: bytes) -> None:
        """A string option (curl keeps a copy)."""
        self._check(lib._curl_easy_setopt(self.raw, option, value), option)

    def set_long(self, option: CurlOpt, value: int) -> None:
        self._long[0] = value
        self._check(lib._curl_easy_setopt(self.raw, option, self._long), option)

    def set_offset(self, option: CurlOpt, value: int) -> None:
        """A ``curl_off_t`` option (``*_LARGE``)."""
        self._offset[0] = value
        self._check(lib._curl_easy_setopt(self.raw, option, self._offset), option)

    def set_list(self, option: CurlOpt, entries: Sequence[bytes]) -> None:
        """A list option; the list lives until :meth:`clear`."""
        items: Any = ffi.NULL
        for entry in entries:
            items = lib.curl_slist_append(items, entry)
        if items != ffi.NULL:
            self._lists.append(items)
        self._check(lib._curl_easy_setopt(self.raw, option, items), option)

    def clear(self) -> None:
        """Unset the request's lists and method, and free the lists (call once the transfer
        left the multi handle), so that none is read once freed or used by the next request;
        the next request installs its own sink."""
        raw = self.raw
        for option in _PER_REQUEST:
            lib._curl_easy_setopt(raw, option, ffi.NULL)
        for items in self._lists:
            lib.curl_slist_free_all(items)
        self._lists.clear()
        self.sink = _IDLE
        self.failure = None

    def close(self) -> None:
        self.clear()
        self.curl.close()

    # --- what the transfer measured --------------------------------------------------------

    def info_long(self, info: CurlInfo) -> int:
        """A ``long`` ``CURLINFO_*`` (``OS_ERRNO``, ``SSL_VERIFYRESULT``); 0 when curl has none."""
        self._long[0] = 0
        lib.curl_easy_getinfo(self.raw, info, self._long)
        return int(self._long[0])

    def info_offset(self, info: CurlInfo) -> int:
        """A ``curl_off_t`` ``CURLINFO_*`` (``*_TIME_T``: microseconds); 0 when curl has none."""
        self._offset[0] = 0
        lib.curl_easy_getinfo(self.raw, info, self._offset)
        return int(self._offset[0])

    def _check(self, code: int, option: CurlOpt) -> None:
        if code != 0:
            self.curl._check_error(code, "setopt", option)
