"""The last failure of each probe, as the status API, the status page and ``report`` show it.
Plain data: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    """A probe's latest failed run; ``failing`` when its latest run (of any outcome) failed."""

    node: str
    probe: str
    started_at: float  # unix seconds: when the failed run started
    reason: str  # a failure reason: ``timeout``, ``assertion``...
    detail: str  # one line for humans, secrets redacted, bounded
    trace_id: str | None  # the run's trace, when probes are traced
    failing: bool

    @property
    def text(self) -> str:
        """``assertion: $.amount: expected > 0, got -3``."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason
