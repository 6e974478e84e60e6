"""Tracing settings from the standard OpenTelemetry environment variables.

Tracing is on when an OTLP endpoint is configured (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT``) and neither ``OTEL_SDK_DISABLED=true`` nor
``OTEL_TRACES_EXPORTER=none`` says otherwise: :func:`tracing_config` returns None when it is
off. ``TRACES_`` variables win over the general ones. Timeouts and delays are milliseconds, as
the OpenTelemetry specification says. A value that cannot be used is a ``UserError`` naming the
variable; header values (API keys) never appear in messages or ``repr``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from opentelemetry.sdk.trace import sampling

from agent.errors import UserError

__all__ = ["ExportProtocol", "TracingConfig", "shown_endpoint", "tracing_config"]

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
        raise UserError(f"{name} is not a valid URL: {shown_endpoint(endpoint)}") from None
    if parts.scheme in ("http", "https") and parts.hostname:
        return
    if grpc and not parts.scheme.startswith("http") and ":" in endpoint:
        return  # host:port, the gRPC address form
    raise UserError(
        f"{name} must be an http:// or https:// URL"
        + (" (or host:port for grpc)" if grpc else "")
        + f", got {shown_endpoint(endpoint)}"
    )


def shown_endpoint(endpoint: str) -> str:
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
