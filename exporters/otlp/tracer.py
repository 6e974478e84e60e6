"""The :class:`~agent.tracing.api.Tracer` on the OpenTelemetry SDK.

Spans follow the OpenTelemetry HTTP client semantic conventions (``http.request.method``,
``url.full``, ``server.address``, ``server.port``, ``http.response.status_code``, ``error.type``)
plus what makes a span useful for SLOs: ``service.peer.name`` (the node), ``slo_agent.node.mode``,
``slo_agent.partner``, ``slo_agent.probe`` or ``slo_agent.journey`` / ``slo_agent.step``,
``slo_agent.fallback`` and ``slo_agent.reason``.

* A single-node probe is one CLIENT span, the root of its own trace.
* A journey run is one trace: an INTERNAL root span ``journey <name>`` and a CLIENT child span per
  step. Step spans find their parent through the OpenTelemetry context, which the journey span
  makes current for the task that runs the steps.

Credentials never reach a span: ``url.full`` goes through :func:`agent.redaction.redact_url`
(userinfo and the values of secret query parameters become ``REDACTED``), and no request header
is recorded at all. A journey step's URL with ``${capture}`` placeholders is recorded as
``url.template``, so values captured from responses (session ids, tokens) stay off spans too.

The tracer provider is passed in (never the global one); :mod:`exporters.otlp.setup` builds it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from agent.model import Check, HttpCheck, Journey, JourneyStep, Node
from agent.probe_kinds.registry import KINDS
from agent.probes.result import Observation, Reason
from agent.redaction import redact_text, redact_url
from agent.tracing.api import SpanHandle

__all__ = ["SCOPE", "OtelTracer"]

SCOPE = "slo-agent"
"""Instrumentation scope name of every span the agent makes."""

Attributes = dict[str, AttributeValue]

_KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CACHE_SIZE = 4096
_ROOT = Context()  # an empty context: a span started in it begins a new trace


class _Handle:
    """A :class:`SpanHandle` over one OpenTelemetry span."""

    __slots__ = ("_propagator", "_span")

    def __init__(self, span: trace.Span, propagator: TraceContextTextMapPropagator) -> None:
        self._span = span
        self._propagator = propagator

    @property
    def traceparent(self) -> str | None:
        if not self._span.get_span_context().is_valid:
            return None
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier, context=trace.set_span_in_context(self._span))
        return carrier.get("traceparent")

    @property
    def trace_id(self) -> str | None:
        """None when the span is not sampled: no trace would be found under that id."""
        context = self._span.get_span_context()
        if not (context.is_valid and context.trace_flags.sampled):
            return None
        return format(context.trace_id, "032x")

    def record(self, observation: Observation) -> None:
        span = self._span
        if not span.is_recording():
            return
        span.set_attribute("slo_agent.reason", observation.reason.value)
        if observation.status is not None:
            span.set_attribute("http.response.status_code", observation.status)
        if not observation.ok:
            status = observation.status
            error_type = (
                str(status)
                if observation.reason is Reason.STATUS and status is not None
                else observation.reason.value
            )
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR, redact_text(observation.detail or error_type)))


class OtelTracer:
    """Makes probe, journey and step spans on an injected ``TracerProvider``."""

    def __init__(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer(SCOPE, _version())
        self._propagator = TraceContextTextMapPropagator()
        self._targets: dict[tuple[str, str], tuple[str, Attributes]] = {}

    def probe_span(self, node: Node, probe: str, check: Check) -> ContextManager[SpanHandle]:
        if isinstance(check, HttpCheck):  # the request model journey steps share
            method, attributes = self._http_target(check)
            name = f"{method} {node.name}/{probe}"
        else:  # any other kind describes its own target
            span = KINDS.of(check).span
            verb, target = span(check) if span is not None else ("probe", {})
            attributes = dict(target)
            name = f"{verb} {node.name}/{probe}"
        attributes = {**attributes, **_node_attributes(node), "slo_agent.probe": probe}
        return self._span(name, SpanKind.CLIENT, attributes, _ROOT)

    def journey_span(self, journey: Journey) -> ContextManager[SpanHandle]:
        attributes: Attributes = {
            "slo_agent.journey": journey.name,
            "slo_agent.journey.steps": len(journey.steps),
        }
        return self._span(f"journey {journey.name}", SpanKind.INTERNAL, attributes, _ROOT)

    def step_span(
        self, journey: Journey, step: JourneyStep, node: Node, check: HttpCheck, *, fallback: bool
    ) -> ContextManager[SpanHandle]:
        method, attributes = self._http_target(check)
        attributes = {
            **attributes,
            **_node_attributes(node),
            "slo_agent.journey": journey.name,
            "slo_agent.step": step.name,
            "slo_agent.fallback": fallback,
        }
        # no explicit context: the current one holds the journey span, the step's parent
        return self._span(f"{method} {step.name}", SpanKind.CLIENT, attributes, None)

    @contextlib.contextmanager
    def _span(
        self, name: str, kind: SpanKind, attributes: Attributes, context: Context | None
    ) -> Iterator[SpanHandle]:
        # an exception escaping the block is recorded on the span and sets its status to ERROR
        with self._tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=attributes
        ) as span:
            yield _Handle(span, self._propagator)

    def _http_target(self, check: HttpCheck) -> tuple[str, Attributes]:
        """The span-name method and the request attributes of ``check`` (cached by method+URL:
        probes repeat the same few requests, and parsing a URL is the costly part)."""
        key = (check.method, check.url)
        cached = self._targets.get(key)
        if cached is None:
            cached = _http_attributes(check)
            if len(self._targets) >= _CACHE_SIZE:
                del self._targets[next(iter(self._targets))]
            self._targets[key] = cached
        return cached


def _node_attributes(node: Node) -> Attributes:
    attributes: Attributes = {
        "service.peer.name": node.name,
        "slo_agent.node.mode": node.mode.value,
    }
    if node.partner is not None:
        attributes["slo_agent.partner"] = node.partner.name
    return attributes


def _http_attributes(check: HttpCheck) -> tuple[str, Attributes]:
    method = check.method.upper()
    attributes: Attributes = {}
    if method in _KNOWN_METHODS:
        attributes["http.request.method"] = method
    else:
        attributes["http.request.method"] = "_OTHER"
        attributes["http.request.method_original"] = check.method
        method = "HTTP"
    try:
        parts = urlsplit(check.url)
        # a journey step's URL may still hold ${capture} placeholders: then it is a template
        attributes["url.template" if "${" in check.url else "url.full"] = redact_url(check.url)
        if parts.hostname:
            attributes["server.address"] = parts.hostname
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
        if port is not None:
            attributes["server.port"] = port
    except ValueError:  # an unparsable URL: the probe reports it; the span just lacks it
        pass
    return method, attributes


def _version() -> str:
    try:
        return importlib.metadata.version("slo-agent")
    except importlib.metadata.PackageNotFoundError:
        return "0"
