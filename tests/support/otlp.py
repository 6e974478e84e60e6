"""Real OTLP trace receivers on 127.0.0.1 for tests: HTTP (``POST /v1/traces``) and gRPC.

Both decode ``ExportTraceServiceRequest`` protobufs with ``opentelemetry-proto`` and keep every
span as a :class:`ReceivedSpan`. They serve from their own threads, so the SDK's export thread
can reach them while a test's event loop waits.

    with OtlpHttpReceiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        ...
        spans = receiver.wait_for_spans(3)

``receiver.status = 500`` makes the HTTP receiver refuse exports (a failing collector).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.support.service import Service

_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # "" for a root span
    name: str
    kind: str  # "CLIENT", "INTERNAL", ... (SPAN_KIND_ removed)
    attributes: dict[str, Any]
    status: str  # "UNSET", "OK" or "ERROR"
    status_message: str
    resource: dict[str, Any]
    scope: str
    start_ns: int
    end_ns: int


def _value(value: AnyValue) -> Any:
    field = value.WhichOneof("value")
    if field is None:
        return None
    if field == "array_value":
        return [_value(v) for v in value.array_value.values]
    if field == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, field)


def decode(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        status=Status.StatusCode.Name(span.status.code).removeprefix(
                            "STATUS_CODE_"
                        ),
                        status_message=span.status.message,
                        resource=resource,
                        scope=scope_spans.scope.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                    )
                )
    return spans


class _Spans:
    """Spans received so far, with a condition to wait on."""

    def __init__(self) -> None:
        self._spans: list[ReceivedSpan] = []
        self._changed = threading.Condition()
        self.requests = 0  # export requests received, accepted or not
        self.encodings: list[str] = []  # Content-Encoding (or gRPC compression) per request

    def add(self, spans: list[ReceivedSpan], encoding: str) -> None:
        with self._changed:
            self.requests += 1
            self.encodings.append(encoding)
            self._spans.extend(spans)
            self._changed.notify_all()

    def count_request(self, encoding: str) -> None:
        with self._changed:
            self.requests += 1
            self.encodings.append(encoding)
            self._changed.notify_all()

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._changed:
            return list(self._spans)

    def wait_for(
        self, condition: Callable[[list[ReceivedSpan]], bool], timeout: float
    ) -> list[ReceivedSpan]:
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self._spans), timeout):
                raise AssertionError(
                    f"receiver: condition not met within {timeout}s "
                    f"({len(self._spans)} spans received)"
                )
            return list(self._spans)


class _Receiver(Service):
    """What both receivers share: the received spans and waiting for them."""

    def __init__(self) -> None:
        self.received = _Spans()

    @property
    def spans(self) -> list[ReceivedSpan]:
        return self.received.spans

    @property
    def requests(self) -> int:
        return self.received.requests

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """Block until at least ``count`` spans arrived (AssertionError after ``timeout``)."""
        return self.received.wait_for(lambda spans: len(spans) >= count, timeout)

    def wait_for(
        self, condition: Callable[[list[ReceivedSpan]], bool], timeout: float = 10.0
    ) -> list[ReceivedSpan]:
        return self.received.wait_for(condition, timeout)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        self.received.wait_for(lambda _: self.received.requests >= count, timeout)


class OtlpHttpReceiver(_Receiver):
    """OTLP/HTTP with protobuf bodies (gzip, deflate or none) on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200  # what export requests are answered with
        self.headers: list[dict[str, str]] = []  # request headers per export request
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """The base URL, as ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def traces_url(self) -> str:
        return f"{self.endpoint}/v1/traces"

    def start(self) -> OtlpHttpReceiver:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="otlp-http"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, _MAX_BODY))
                if self.path != "/v1/traces":
                    self._answer(404, b"")
                    return
                receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if receiver.status != 200:
                    receiver.received.count_request(encoding)
                    self._answer(receiver.status, b"")
                    return
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.received.add(decode(request), encoding)
                self._answer(200, ExportTraceServiceResponse().SerializeToString())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # keep test output clean

        return Handler


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, received: _Spans) -> None:
        self._received = received

    def Export(
        self, request: ExportTraceServiceRequest, context: Any
    ) -> ExportTraceServiceResponse:
        metadata = dict(context.invocation_metadata())
        self._received.add(decode(request), str(metadata.get("grpc-encoding", "")))
        return ExportTraceServiceResponse()


class OtlpGrpcReceiver(_Receiver):
    """The OTLP gRPC ``TraceService`` on a free 127.0.0.1 port (plaintext)."""

    def __init__(self) -> None:
        super().__init__()
        self._server: Any = None
        self._port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> OtlpGrpcReceiver:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            _TraceService(self.received), server
        )
        self._port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait(timeout=10)
