"""The embedded store: per-minute SLI and probe buckets and recent raw probe results."""

from __future__ import annotations

from agent.store.buckets import ProbeCounts
from agent.store.sqlite import SqliteStore

__all__ = ["ProbeCounts", "SqliteStore"]
