"""The agent's version, from the installed package's metadata (``pyproject.toml``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "slo-agent"


def agent_version() -> str:
    """``"0.1.0"``; ``"unknown"`` when run from a source tree that was never installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
