"""Tracing from the standard OpenTelemetry environment variables, exported over OTLP.

Tracing is on when an OTLP endpoint is configured (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT``) and neither ``OTEL_SDK_DISABLED=true`` nor
``OTEL_TRACES_EXPORTER=none`` says otherwise; :func:`tracing_config` returns None when it is off.

Spans go through a ``BatchSpanProcessor`` whose export runs in the SDK's worker thread, so a
slow or unreachable collector never delays a probe. In front of it, :class:`BoundedExport`
admits at most ``max_queue_size`` spans that the exporter has not yet taken and drops (and
counts) the rest, so memory stays bounded however long the collector is away. Every export is
counted: spans exported, failed batches (``slo_agent_export_failures_total{exporter="otlp"}``)
and spans lost (``slo_agent_spans_dropped_total{reason}``).
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from agent.errors import UserError
from agent.runtime.telemetry import ExportTelemetry
from agent.tracing.otel import OtelTracer

__all__ = [
    "BoundedExport",
    "CountingExporter",
    "OtlpTracing",
    "TracingConfig",
    "start_tracing",
    "tracing_config",
]

log = logging.getLogger(__name__)

EXPORTER = "otlp"  # the ``exporter`` label of export failures
ExportProtocol = Literal["http/protobuf", "grpc"]


@dataclass(frozen=True, slots=True)
class TracingConfig:
    """Where and how spans are exported; read from the environment by :func:`tracing_config`."""

    endpoint: str  # http/protobuf: the full URL (…/v1/traces); grpc: the collector's address
    protocol: ExportProtocol = "http/protobuf"
    service_name: str = "slo-agent"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold API keys
    timeout: float = 10.0  # seconds one export may take, retries included
    compression: Literal["none", "gzip"] = "none"
    insecure: bool | None = None  # grpc without a URL scheme: plaintext when True
    resource: Mapping[str, str] = field(default_factory=dict)  # OTEL_RESOURCE_ATTRIBUTES
    sampler: sampling.Sampler = sampling.ALWAYS_ON
    max_queue_size: int = 2048  # spans waiting for export; more are dropped and counted
    max_export_batch_size: int = 512
    schedule_delay: float = 5.0  # seconds between exports when the queue is not filling up


def tracing_config(env: Mapping[str, str]) -> TracingConfig | None:
    """The tracing configuration in ``env``, or None when tracing is off.

    Raises ``UserError`` for a value that cannot be used (the message never shows header values).
    """
    if _get(env, "OTEL_SDK_DISABLED").lower() == "true":
        return None
    exporters = {name.strip().lower() for name in _get(env, "OTEL_TRACES_EXPORTER").split(",")}
    exporters.discard("")
    if "none" in exporters:
        return None
    if exporters - {"otlp"}:
        unsupported = ", ".join(sorted(exporters - {"otlp"}))
        raise UserError(f"OTEL_TRACES_EXPORTER={unsupported} is not supported (use otlp or none)")
    traces_endpoint = _get(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base_endpoint = _get(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
    if not (traces_endpoint or base_endpoint):
        return None
    protocol_var, protocol = _signal(env, "PROTOCOL")
    protocol = protocol.lower() or "http/protobuf"
    if protocol not in ("http/protobuf", "grpc"):
        raise UserError(f"{protocol_var}={protocol} is not supported (use http/protobuf or grpc)")
    if traces_endpoint:
        _check_endpoint("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces_endpoint, protocol)
        endpoint = traces_endpoint  # the signal-specific URL is used as is
    else:
        _check_endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", base_endpoint, protocol)
        endpoint = base_endpoint
        if protocol != "grpc":
            endpoint = base_endpoint.rstrip("/") + "/v1/traces"
    compression_var, compression = _signal(env, "COMPRESSION")
    compression = compression.lower() or "none"
    if compression not in ("none", "gzip"):
        raise UserError(f"{compression_var}={compression} is not supported (use gzip or none)")
    insecure_var, insecure = _signal(env, "INSECURE")
    service = _get(env, "OTEL_SERVICE_NAME")
    resource = _key_values(env, "OTEL_RESOURCE_ATTRIBUTES", show_values=True)
    queue = _positive_int(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048)
    return TracingConfig(
        endpoint=endpoint,
        protocol="grpc" if protocol == "grpc" else "http/protobuf",
        service_name=service or resource.get("service.name", "slo-agent"),
        headers=_key_values(env, _signal(env, "HEADERS")[0], show_values=False),
        timeout=_milliseconds(env, _signal(env, "TIMEOUT")[0], 10_000) / 1000,
        compression="gzip" if compression == "gzip" else "none",
        insecure=_boolean(insecure_var, insecure),
        resource=resource,
        sampler=_sampler(env),
        max_queue_size=queue,
        max_export_batch_size=min(_positive_int(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512), queue),
        schedule_delay=_milliseconds(env, "OTEL_BSP_SCHEDULE_DELAY", 5000) / 1000,
    )


# --- counting and bounding -------------------------------------------------------------------


class CountingExporter(SpanExporter):
    """Wraps an exporter: counts what it exported and what failed, logs once per failure streak.

    ``on_taken(n)`` is called with the size of each batch as the batch leaves the queue.
    """

    def __init__(
        self,
        inner: SpanExporter,
        telemetry: ExportTelemetry,
        *,
        target: str,
        on_taken: Callable[[int], None] | None = None,
    ) -> None:
        self._inner = inner
        self._telemetry = telemetry
        self._target = target  # where spans go, for log lines
        self._on_taken = on_taken
        self._failing = False
        self._shutdown_lock = threading.Lock()
        self._shut_down = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        count = len(spans)
        if self._on_taken is not None:
            self._on_taken(count)
        try:
            result = self._inner.export(spans)
        except Exception:  # an exporter that raises is a failed export, not a dead thread
            log.exception("trace exporter raised while exporting %d spans", count)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self._telemetry.count_spans_exported(count)
            if self._failing:
                log.info("trace export to %s recovered", self._target)
            self._failing = False
        else:
            self._telemetry.count_export_failure(EXPORTER)
            self._telemetry.count_spans_dropped("export_failed", count)
            if not self._failing:
                log.warning(
                    "trace export to %s failed; dropping spans until it recovers (probing goes on)",
                    self._target,
                )
            self._failing = True
        return result

    def shutdown(self) -> None:
        """Stop the wrapped exporter (once): exports in progress stop retrying."""
        with self._shutdown_lock:
            if self._shut_down:
                return
            self._shut_down = True
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class BoundedExport(SpanProcessor):
    """A ``BatchSpanProcessor`` that never holds more than ``max_queue_size`` spans.

    ``queued`` counts the spans handed to the batch processor that its exporter has not taken
    yet; a span that would push it past ``max_queue_size`` is dropped here and counted
    (``reason="queue_full"``). Spans still queued when shutdown ends count as ``shutdown``.
    """

    def __init__(
        self,
        exporter: SpanExporter,
        telemetry: ExportTelemetry,
        *,
        target: str,
        max_queue_size: int = 2048,
        max_export_batch_size: int = 512,
        schedule_delay: float = 5.0,
    ) -> None:
        self.max_queue_size = max_queue_size
        self._telemetry = telemetry
        self._lock = threading.Lock()
        self._queued = 0
        self._dropping = False
        self._closed = False
        self._exporter = CountingExporter(exporter, telemetry, target=target, on_taken=self._taken)
        self._batch = BatchSpanProcessor(
            self._exporter,
            max_queue_size=max_queue_size,
            schedule_delay_millis=schedule_delay * 1000,
            max_export_batch_size=min(max_export_batch_size, max_queue_size),
        )

    @property
    def queued(self) -> int:
        """Spans waiting for the exporter (never more than ``max_queue_size``)."""
        return self._queued

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None or not context.trace_flags.sampled:
            return
        with self._lock:
            closed = self._closed
            full = self._queued >= self.max_queue_size
            if not (closed or full):
                self._queued += 1
            dropping, self._dropping = self._dropping, full
        if closed:
            self._telemetry.count_spans_dropped("shutdown", 1)
        elif full:
            self._telemetry.count_spans_dropped("queue_full", 1)
            if not dropping:
                log.warning(
                    "trace export queue full (%d spans): dropping new spans", self.max_queue_size
                )
        else:
            self._batch.on_end(span)

    def shutdown(self) -> None:
        """Export what is queued (bounded by the exporter's timeout per batch), then stop."""
        with self._lock:
            self._closed = True
        self._batch.shutdown()  # type: ignore[no-untyped-call]
        with self._lock:
            left, self._queued = self._queued, 0
        if left:
            self._telemetry.count_spans_dropped("shutdown", left)

    def abort(self) -> None:
        """Make exports in progress stop retrying and later ones fail at once."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._batch.force_flush(timeout_millis)

    def _taken(self, spans: int) -> None:
        with self._lock:
            self._queued = max(0, self._queued - spans)


# --- the running pipeline -------------------------------------------------------------------


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
    target = f"{_shown_endpoint(config.endpoint)} ({config.protocol})"
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
        import grpc  # type: ignore[import-untyped]
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


# --- reading the environment ----------------------------------------------------------------


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _signal(env: Mapping[str, str], suffix: str) -> tuple[str, str]:
    """``OTEL_EXPORTER_OTLP_TRACES_<suffix>`` if set, else ``OTEL_EXPORTER_OTLP_<suffix>``:
    the variable that decided and its value."""
    specific = f"OTEL_EXPORTER_OTLP_TRACES_{suffix}"
    if _get(env, specific):
        return specific, _get(env, specific)
    general = f"OTEL_EXPORTER_OTLP_{suffix}"
    return general, _get(env, general)


def _check_endpoint(name: str, endpoint: str, protocol: str) -> None:
    grpc = protocol == "grpc"
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UserError(f"{name} is not a valid URL: {_shown_endpoint(endpoint)}") from None
    if parts.scheme in ("http", "https") and parts.hostname:
        return
    if grpc and not parts.scheme.startswith("http") and ":" in endpoint:
        return  # host:port, the gRPC address form
    raise UserError(
        f"{name} must be an http:// or https:// URL"
        + (" (or host:port for grpc)" if grpc else "")
        + f", got {_shown_endpoint(endpoint)}"
    )


def _shown_endpoint(endpoint: str) -> str:
    """``endpoint`` without userinfo or query, safe for logs and error messages."""
    if "//" not in endpoint:
        return endpoint  # host:port
    try:
        parts = urlsplit(endpoint)
    except ValueError:
        return "<unparsable URL>"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _key_values(env: Mapping[str, str], name: str, *, show_values: bool) -> dict[str, str]:
    """``key1=value1,key2=value2`` (values percent-encoded), as OTEL_*_HEADERS and
    OTEL_RESOURCE_ATTRIBUTES spell them."""
    out: dict[str, str] = {}
    for number, item in enumerate(_get(env, name).split(","), 1):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        key = unquote(key).strip()
        if not (equals and key):
            shown = repr(item.strip()) if show_values else f"item {number}"  # may be a secret
            raise UserError(f"{name}: {shown} is not key=value")
        out[key] = unquote(value).strip()
    return out


def _milliseconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"{name}={raw} is not a positive number of milliseconds")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise UserError(f"{name}={raw} is not a positive whole number")
    return int(raw)


def _boolean(name: str, raw: str) -> bool | None:
    if not raw:
        return None
    if raw.lower() not in ("true", "false"):
        raise UserError(f"{name}={raw} is not true or false")
    return raw.lower() == "true"


def _sampler(env: Mapping[str, str]) -> sampling.Sampler:
    name = _get(env, "OTEL_TRACES_SAMPLER").lower() or "parentbased_always_on"
    if name in ("always_on", "parentbased_always_on"):
        return sampling.ALWAYS_ON  # every span the agent starts is a root
    if name in ("always_off", "parentbased_always_off"):
        return sampling.ALWAYS_OFF
    if name in ("traceidratio", "parentbased_traceidratio"):
        raw = _get(env, "OTEL_TRACES_SAMPLER_ARG") or "1.0"
        try:
            ratio = float(raw)
        except ValueError:
            ratio = math.nan
        if not 0.0 <= ratio <= 1.0:
            raise UserError(f"OTEL_TRACES_SAMPLER_ARG={raw} is not a ratio between 0 and 1")
        return sampling.TraceIdRatioBased(ratio)
    raise UserError(
        f"OTEL_TRACES_SAMPLER={name} is not supported (use always_on, always_off, "
        "traceidratio or their parentbased_ forms)"
    )


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "0"
