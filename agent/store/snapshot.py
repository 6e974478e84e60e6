"""How the store's reads see unflushed data and the file together: a part of the unflushed data
is taken under the in-memory lock, then read with the file under the connection's lock (taken
first, so no flush moves data between the two in the meantime)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Protocol, TypeVar

from agent.store.buckets import Pending

P = TypeVar("P")
T = TypeVar("T")


class ReadWith(Protocol):
    """``read_with(take, read)``: ``take`` the unflushed part, then ``read(conn, part)``."""

    def __call__(
        self, take: Callable[[Pending], P], read: Callable[[sqlite3.Connection, P], T]
    ) -> T: ...
