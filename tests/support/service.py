"""What every server the tests start has in common: ``start``, ``stop``, and ``with``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """``with service:`` starts it and stops it on the way out, error or not."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
