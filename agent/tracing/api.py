"""What the agent needs of a tracer. No OpenTelemetry import here: the runtime depends on this
small protocol, the OpenTelemetry SDK implementation lives beside it and is wired in by the
composition root, and ``NO_TRACING`` turns it all off."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from typing import Protocol

from agent.model import Check, HttpCheck, Journey, JourneyStep, Node
from agent.probes.result import Observation


class SpanHandle(Protocol):
    @property
    def traceparent(self) -> str | None:
        """W3C ``traceparent`` header value to send with the request; None when not tracing."""
        ...

    @property
    def trace_id(self) -> str | None:
        """32 hex digits of the trace id (for exemplars and blame examples); None when off."""
        ...

    def record(self, observation: Observation) -> None:
        """Set the outcome on the span: status code, reason, error status on failure."""
        ...


class Tracer(Protocol):
    def probe_span(self, node: Node, probe: str, check: Check) -> ContextManager[SpanHandle]:
        """A CLIENT span for one single-node probe run."""
        ...

    def journey_span(self, journey: Journey) -> ContextManager[SpanHandle]:
        """The root span of one journey run; step spans opened inside it are its children."""
        ...

    def step_span(
        self, journey: Journey, step: JourneyStep, node: Node, check: HttpCheck, *, fallback: bool
    ) -> ContextManager[SpanHandle]:
        """A CLIENT span for one journey step (``fallback=True`` when retried on the fallback)."""
        ...


class _NoSpan:
    traceparent: str | None = None
    trace_id: str | None = None

    def record(self, observation: Observation) -> None:
        return None


class _NoTracing:
    @contextlib.contextmanager
    def _span(self) -> Iterator[SpanHandle]:
        yield _NoSpan()

    def probe_span(self, node: Node, probe: str, check: Check) -> ContextManager[SpanHandle]:
        return self._span()

    def journey_span(self, journey: Journey) -> ContextManager[SpanHandle]:
        return self._span()

    def step_span(
        self, journey: Journey, step: JourneyStep, node: Node, check: HttpCheck, *, fallback: bool
    ) -> ContextManager[SpanHandle]:
        return self._span()


NO_TRACING: Tracer = _NoTracing()
