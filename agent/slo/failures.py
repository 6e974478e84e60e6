"""The last failure of each probe, as the status API, the status page and ``report`` show it.
Plain data: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass

NO_REASON = (
    "-"  # a drill failure stored before the store kept reasons (layout 8), as report shows it
)


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


@dataclass(frozen=True, slots=True)
class StepFailure:
    """A journey step's latest failed run (on its node, and on its fallback when it ran);
    ``failing`` when the step's latest run failed."""

    journey: str
    step: str
    node: str  # the step's node
    started_at: float  # unix seconds: when the failed journey run started
    reason: str  # the failure reason on the step's node
    detail: str  # one line; the fallback's failure appended when it ran and failed too
    trace_id: str | None  # the journey run's trace (the step is one of its spans)
    failing: bool

    @property
    def text(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


@dataclass(frozen=True, slots=True)
class DrillFailure:
    """A fallback drill's latest failed run; ``failing`` when its latest run failed. One read
    back from the store at a start has no detail (its detail says so) and, when it was stored
    before layout 8, no reason (None, shown ``-`` as ``report`` shows it)."""

    node: str
    fallback: str  # the fallback node the drill forces the route onto
    started_at: float
    reason: str | None
    detail: str
    failing: bool

    @property
    def shown_reason(self) -> str:
        return self.reason or NO_REASON

    @property
    def text(self) -> str:
        return f"{self.shown_reason}: {self.detail}" if self.detail else self.shown_reason
