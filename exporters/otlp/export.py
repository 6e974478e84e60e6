"""Counting and bounding span export.

:class:`BoundedExport` wraps a ``BatchSpanProcessor``, whose export runs in the SDK's worker
thread, so a slow or unreachable collector never delays a probe. It admits at most
``max_queue_size`` spans that the exporter has not taken yet and drops (and counts) the rest, so
memory stays bounded however long the collector is away. :class:`CountingExporter` counts every
export: spans exported, failed export requests (``slo_agent_export_failures_total{exporter=
"otlp"}``) and spans lost (``slo_agent_spans_dropped_total{reason}``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from agent.runtime.telemetry import ExportTelemetry

__all__ = ["EXPORTER", "BoundedExport", "CountingExporter"]

log = logging.getLogger(__name__)

EXPORTER = "otlp"  # the ``exporter`` label of export failures


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
