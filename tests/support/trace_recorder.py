"""An httpx ``trace`` extension for tests: it keeps every event."""

from __future__ import annotations

from typing import Any


class Recorder:
    """An httpx ``trace`` extension that keeps the event names and info dicts."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        self.events.append((name, info))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]
