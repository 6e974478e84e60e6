"""Limits of the agent's own HTTP server: what one client can make it hold.

uvicorn on its own buffers request headers without end (with httptools), keeps a connection that
never sends a request for ever, and accepts connections until the process runs out of file
descriptors, after which every probe fails ``connect``. :class:`ServerLimits` bounds all three;
:mod:`agent.api.protocol` enforces them:

- a request head (request line and headers) larger than ``max_head_bytes`` gets ``431`` and the
  connection is closed;
- a connection must deliver a complete request head within ``idle_timeout`` seconds of opening,
  and again of each response: idle and slow-header (drip) connections are closed;
- beyond ``max_connections`` open connections a new one gets ``503`` and is closed at once, so it
  holds its file descriptor for one loop turn only. The cap is also at most a quarter of the
  process's open-file limit (:func:`connection_cap`): the rest stays for probes and the store.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

MAX_CONNECTIONS = 100
IDLE_TIMEOUT = 10.0  # seconds
MAX_HEAD_BYTES = 16 * 1024  # request line and headers; what h11 allows by default
FD_SHARE = 4  # the server may hold at most 1/FD_SHARE of the open-file limit


@dataclass(frozen=True, slots=True)
class ServerLimits:
    max_connections: int = MAX_CONNECTIONS
    idle_timeout: float = IDLE_TIMEOUT
    max_head_bytes: int = MAX_HEAD_BYTES

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {self.max_connections}")
        if not self.idle_timeout > 0:
            raise ValueError(f"idle_timeout must be longer than 0 s, got {self.idle_timeout}")
        if self.max_head_bytes < 1024:
            raise ValueError(f"max_head_bytes must be at least 1024, got {self.max_head_bytes}")

    @property
    def keep_alive_seconds(self) -> int:
        """uvicorn's own keep-alive timeout (whole seconds) matching ``idle_timeout``."""
        return max(1, math.ceil(self.idle_timeout))


def connection_cap(wanted: int, open_files: int | None = None) -> int:
    """``wanted``, lowered to a quarter of the soft open-file limit (``open_files``, read from
    the process when not given) so the server can never take the descriptors probes need."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if open_files == resource.RLIM_INFINITY or open_files <= 0:
        return wanted
    return max(1, min(wanted, open_files // FD_SHARE))


DEFAULT_LIMITS = ServerLimits()
