"""Tracing seam: the agent talks to :class:`agent.tracing.api.Tracer`; the OpenTelemetry
implementation is wired in by the composition root, and tracing can be off (``NO_TRACING``)."""
