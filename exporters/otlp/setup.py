"""Tracing wired from the environment: a tracer provider exporting over OTLP (HTTP or gRPC).

:func:`tracing_config` (from :mod:`exporters.otlp.config`) reads the ``OTEL_*`` variables;
:func:`start_tracing` builds the provider — never the global one — with a
:class:`~exporters.otlp.export.BoundedExport` in front of the OTLP exporter, and returns an
:class:`OtlpTracing` holding the :class:`~exporters.otlp.tracer.OtelTracer` and the shutdown.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from agent.runtime.telemetry import ExportTelemetry
from exporters.otlp.config import TracingConfig, shown_endpoint, tracing_config
from exporters.otlp.export import BoundedExport
from exporters.otlp.tracer import OtelTracer

__all__ = ["OtlpTracing", "TracingConfig", "start_tracing", "tracing_config"]

log = logging.getLogger(__name__)


class OtlpTracing:
    """A tracer provider exporting over OTLP, its :class:`OtelTracer` and its shutdown."""

    def __init__(self, provider: TracerProvider, processor: BoundedExport, target: str) -> None:
        self.provider = provider
        self.processor = processor
        self.target = target  # where spans go, credentials removed (for logs)
        self.tracer = OtelTracer(provider)
        self.stopped = threading.Event()  # set once shutdown has finished, in time or not

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Export what is queued and stop, within about ``timeout`` seconds.

        True when everything queued was handed to the collector in time. Otherwise exports
        are told to stop retrying, what remains is dropped (and counted), and the export
        thread finishes in the background (within one exporter timeout at worst; ``stopped``
        is set then).
        """
        done = self.stopped

        def stop() -> None:
            try:
                self.provider.shutdown()
            finally:
                done.set()

        threading.Thread(target=stop, name="otel-shutdown", daemon=True).start()
        if done.wait(timeout):
            return True
        log.warning("trace export did not finish within %.1fs at shutdown; giving up", timeout)
        self.processor.abort()
        done.wait(min(timeout, 1.0))
        return False


def start_tracing(
    config: TracingConfig,
    telemetry: ExportTelemetry,
    *,
    exporter: SpanExporter | None = None,
) -> OtlpTracing:
    """A tracer provider for ``config`` exporting over OTLP (or through ``exporter``)."""
    resource = Resource(
        {
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": _version("opentelemetry-sdk"),
            "service.version": _version("slo-agent"),
            **config.resource,
            "service.name": config.service_name,
        }
    )
    provider = TracerProvider(resource=resource, sampler=config.sampler, shutdown_on_exit=False)
    target = f"{shown_endpoint(config.endpoint)} ({config.protocol})"
    processor = BoundedExport(
        exporter if exporter is not None else _otlp_exporter(config),
        telemetry,
        target=target,
        max_queue_size=config.max_queue_size,
        max_export_batch_size=config.max_export_batch_size,
        schedule_delay=config.schedule_delay,
    )
    provider.add_span_processor(processor)
    return OtlpTracing(provider, processor, target)


def _otlp_exporter(config: TracingConfig) -> SpanExporter:
    if config.protocol == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter(
            endpoint=config.endpoint,
            insecure=config.insecure,
            headers=dict(config.headers),
            timeout=config.timeout,
            compression=grpc.Compression.Gzip
            if config.compression == "gzip"
            else grpc.Compression.NoCompression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(
        endpoint=config.endpoint,
        headers=dict(config.headers),
        timeout=config.timeout,
        compression=Compression.Gzip if config.compression == "gzip" else Compression.NoCompression,
    )


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "0"
