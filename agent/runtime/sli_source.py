"""What the runtime needs of an SLI source outside the agent (the user's own Prometheus).

The composition root passes a concrete one (:class:`agent.sources.prometheus.PrometheusSliSource`)
to the :class:`~agent.runtime.agent.Agent`, which awaits its counts before each evaluation.
"""

from __future__ import annotations

from typing import Protocol

from agent.model import SpecSet
from agent.slo.events import Counts


class SliSource(Protocol):
    @property
    def name(self) -> str:
        """Short name for logs and the status API (``"prometheus"``)."""
        ...

    @property
    def url(self) -> str:
        """Where it reads from, without credentials."""
        ...

    @property
    def last_error(self) -> str | None:
        """``None`` while it answers, else what went wrong in the latest read."""
        ...

    async def counts(self, specs: SpecSet, now: float) -> dict[str, dict[str, Counts]]:
        """``series_key(node, slo) -> window label -> Counts`` for the SLOs it measures.

        A window it could not read is left out (no data); it does not raise for its
        backend's failures."""
        ...
