"""gRPC health probes with grpcio: one ``grpc.health.v1.Health/Check`` on a fresh channel, no
retry. Every failure is an Observation.

Each probe opens its own channel with a private subchannel pool (grpcio otherwise shares
connections between channels to the same address), so every probe makes a new connection as the
HTTP probes do. Answers are bounded: a health answer is a few bytes, larger messages than
:data:`MAX_MESSAGE_BYTES` are refused by grpcio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import grpc
from grpc_health.v1 import health_pb2

from agent.durations import format_duration
from agent.model import TlsSettings
from agent.probe_kinds.grpc import GrpcCheck
from agent.probes.details import one_line
from agent.probes.result import Observation, Outcome, Reason
from agent.probes.tls_context import FileState, TlsSetupError, file_state

Clock = Callable[[], float]
MAX_MESSAGE_BYTES = 4096
MAX_PEM_BYTES = 1024 * 1024  # a tls file larger than this is refused
CHECK_METHOD = "/grpc.health.v1.Health/Check"
_OPTIONS = (
    ("grpc.enable_retries", 0),
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
)
# Words of grpcio's UNAVAILABLE details that say which step failed
_DNS_WORDS = ("DNS resolution failed", "name resolution", "Domain name not found")
_TLS_WORDS = ("handshake", "SSL", "ssl", "TLS", "certificate", "verification", "Verification")


class GrpcProber:
    """Probes ``GrpcCheck``s on the running event loop; holds no channel between probes. The
    channel credentials of each ``tls`` block are read once and again when a file changes."""

    def __init__(self, *, clock: Clock = time.perf_counter) -> None:
        self._clock = clock
        self._credentials: dict[TlsSettings, tuple[grpc.ChannelCredentials, FileState]] = {}

    async def observe(
        self, check: GrpcCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """``headers`` (a ``traceparent``) go with the call as metadata."""
        clock = self._clock
        start = clock()
        metadata = (*check.metadata, *((k.lower(), v) for k, v in (headers or {}).items()))
        secrets = tuple(value for _, value in check.metadata)

        def failure(reason: Reason, detail: str) -> Observation:
            detail = one_line(detail, secrets)
            return Observation(Outcome.FAILURE, reason, clock() - start, detail=detail)

        seconds = check.timeout.total_seconds()
        try:
            channel = self._channel(check)
        except TlsSetupError as exc:  # the same detail and reason as an HTTP probe's
            return failure(Reason.TLS, str(exc))
        try:
            async with asyncio.timeout(seconds + 1), channel:
                call = channel.unary_unary(
                    CHECK_METHOD,
                    request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                    response_deserializer=health_pb2.HealthCheckResponse.FromString,
                )
                request = health_pb2.HealthCheckRequest(service=check.service)
                response = await call(request, timeout=seconds, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            return failure(*_rpc_failure(check, exc))
        except TimeoutError:
            within = format_duration(check.timeout)
            return failure(Reason.TIMEOUT, f"no answer from {check.address} within {within}")
        except Exception as exc:  # a bad address or metadata is a failed probe, not a crash
            if type(exc).__module__.startswith("grpc."):  # its text is internal object reprs
                return failure(
                    Reason.ERROR, f"grpcio could not make the call ({type(exc).__name__})"
                )
            return failure(Reason.ERROR, f"{type(exc).__name__}: {exc}")
        duration = clock() - start
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            detail = one_line(f"{_service(check)} is {status}, not SERVING", secrets)
            return Observation(Outcome.FAILURE, Reason.STATUS, duration, detail=detail)
        return Observation(Outcome.SUCCESS, Reason.OK, duration)

    async def aclose(self) -> None:
        """Nothing to release; present for the Prober contract."""

    def _channel(self, check: GrpcCheck) -> grpc.aio.Channel:
        if check.tls is None:
            return grpc.aio.insecure_channel(check.address, options=_OPTIONS)
        options: tuple[tuple[str, int | str], ...] = _OPTIONS
        if check.tls.server_name is not None:
            options = (*options, ("grpc.ssl_target_name_override", check.tls.server_name))
        credentials = self._channel_credentials(check.tls)
        return grpc.aio.secure_channel(check.address, credentials, options=options)

    def _channel_credentials(self, tls: TlsSettings) -> grpc.ChannelCredentials:
        state = file_state(tls)
        cached = self._credentials.get(tls)
        if cached is not None and cached[1] == state:
            return cached[0]
        chain = _read("cert_file", tls.cert_file)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read("ca_file", tls.ca_file),
            private_key=chain if tls.key_file is None else _read("key_file", tls.key_file),
            certificate_chain=chain,
        )
        self._credentials[tls] = (credentials, state)
        return credentials


def _read(field: str, path: str | None) -> bytes | None:
    """The PEM file of a ``tls`` field (a key may be in the certificate's file)."""
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_PEM_BYTES + 1)
    except FileNotFoundError:
        raise TlsSetupError(f"tls.{field}: no such file: {path}") from None
    except OSError as exc:
        raise TlsSetupError(f"tls.{field}: cannot use {path}: {exc.strerror}") from None
    if len(data) > MAX_PEM_BYTES or b"-----BEGIN" not in data:
        raise TlsSetupError(f"tls.{field}: cannot use {path}: not a PEM file of at most 1 MiB")
    return data


def _service(check: GrpcCheck) -> str:
    return f"service {check.service!r}" if check.service else "the server"


def _rpc_failure(check: GrpcCheck, exc: grpc.aio.AioRpcError) -> tuple[Reason, str]:
    code, details = exc.code(), exc.details() or ""
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        within = format_duration(check.timeout)
        return Reason.TIMEOUT, f"no answer from {check.address} within {within}"
    if code is grpc.StatusCode.UNAVAILABLE:
        reason = Reason.CONNECT
        if any(word in details for word in _DNS_WORDS):
            reason = Reason.DNS
        elif any(word in details for word in _TLS_WORDS):
            reason = Reason.TLS
        elif check.tls is not None and details.endswith("Socket closed"):
            # TLS 1.3: a server refusing the client certificate closes the connection after
            # the client's side of the handshake; grpcio sees no more than the close
            why = "closed during the TLS session set-up (an mTLS server refusing the client)"
            return Reason.TLS, f"cannot call {check.address}: {details}: {why}"
        return reason, f"cannot call {check.address}: {details}"
    if code is grpc.StatusCode.NOT_FOUND:
        return Reason.STATUS, f"{_service(check)} is unknown to {check.address} (NOT_FOUND)"
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return Reason.STATUS, f"{check.address} has no grpc.health.v1.Health (UNIMPLEMENTED)"
    return Reason.STATUS, f"{code.name}: {details}" if details else code.name
