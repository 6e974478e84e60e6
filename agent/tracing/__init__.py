"""Tracing seam: the agent talks to :class:`agent.tracing.api.Tracer`; the OpenTelemetry
implementation is wired in by the composition root, and tracing can be off (``NO_TRACING``).

``api`` is the protocol (no OpenTelemetry import); ``otel`` makes the spans on an injected
tracer provider; ``config`` reads the ``OTEL_*`` environment; ``export`` bounds and counts the
export; ``setup`` builds the provider and shuts it down.
"""
