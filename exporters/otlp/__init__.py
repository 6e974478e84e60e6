"""OpenTelemetry tracing over OTLP: the SDK implementation of ``agent.tracing.api.Tracer``,
its configuration from the standard ``OTEL_*`` variables, and bounded, counted export."""
