"""Tracing configuration from the standard OTEL_* environment variables."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import sampling

from agent.errors import UserError
from exporters.otlp.setup import TracingConfig, tracing_config

BASE = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"OTEL_SERVICE_NAME": "shop-agent"},
        {**BASE, "OTEL_SDK_DISABLED": "true"},
        {**BASE, "OTEL_SDK_DISABLED": "TRUE"},
        {**BASE, "OTEL_TRACES_EXPORTER": "none"},
        {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces",
            "OTEL_TRACES_EXPORTER": "none",
        },
    ],
    ids=[
        "nothing",
        "service only",
        "sdk disabled",
        "sdk disabled upper",
        "exporter none",
        "traces none",
    ],
)
def test_tracing_is_off_without_an_endpoint_or_when_disabled(env: dict[str, str]) -> None:
    assert tracing_config(env) is None


def test_defaults_with_a_base_endpoint() -> None:
    config = tracing_config(BASE)

    assert config == TracingConfig(endpoint="http://collector:4318/v1/traces")
    assert config.protocol == "http/protobuf"
    assert config.service_name == "slo-agent"
    assert config.timeout == 10.0
    assert config.max_queue_size == 2048


def test_the_traces_endpoint_is_used_as_is_and_wins() -> None:
    config = tracing_config(
        {**BASE, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example/otlp/v1/spans"}
    )

    assert config is not None
    assert config.endpoint == "https://traces.example/otlp/v1/spans"


def test_every_setting_is_read() -> None:
    config = tracing_config(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
            "OTEL_SERVICE_NAME": "edge-agent",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=shop,authorization=Bearer%20abc",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-tenant=traces",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.name=ignored",
            "OTEL_BSP_MAX_QUEUE_SIZE": "100",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500",
            "OTEL_BSP_SCHEDULE_DELAY": "250",
            "OTEL_TRACES_SAMPLER": "traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.25",
        }
    )

    assert config is not None
    assert config.endpoint == "http://collector:4318/v1/traces"
    assert config.service_name == "edge-agent"
    assert dict(config.headers) == {"x-tenant": "traces"}  # the signal-specific variable wins
    assert config.timeout == 2.5  # milliseconds, as the specification says
    assert config.compression == "gzip"
    assert config.resource == {"deployment.environment": "prod", "service.name": "ignored"}
    assert (config.max_queue_size, config.max_export_batch_size) == (100, 100)
    assert config.schedule_delay == 0.25
    assert isinstance(config.sampler, sampling.TraceIdRatioBased)
    assert config.sampler.rate == 0.25


def test_headers_are_percent_decoded_and_kept_out_of_repr() -> None:
    config = tracing_config(
        {**BASE, "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20s3cret, x-b = 1"}
    )

    assert config is not None
    assert dict(config.headers) == {"authorization": "Bearer s3cret", "x-b": "1"}
    assert "s3cret" not in repr(config)


def test_service_name_falls_back_to_resource_attributes() -> None:
    config = tracing_config({**BASE, "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-resource"})

    assert config is not None
    assert config.service_name == "from-resource"


@pytest.mark.parametrize(
    ("env", "endpoint", "insecure"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "http://collector:4317", None),
        (
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector:4317",
                "OTEL_EXPORTER_OTLP_INSECURE": "true",
            },
            "collector:4317",
            True,
        ),
    ],
)
def test_grpc_takes_the_endpoint_without_a_path(
    env: dict[str, str], endpoint: str, insecure: bool | None
) -> None:
    config = tracing_config({**env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"})

    assert config is not None
    assert (config.protocol, config.endpoint, config.insecure) == ("grpc", endpoint, insecure)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**BASE, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_PROTOCOL=http/json is not supported (use http/protobuf or grpc)",
        ),
        (
            {**BASE, "OTEL_TRACES_EXPORTER": "zipkin"},
            "OTEL_TRACES_EXPORTER=zipkin is not supported (use otlp or none)",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
            "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, got collector:4318",
        ),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://u:pw@c:99999/v1/traces"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not a valid URL: http://c:99999/v1/traces",
        ),
        (
            {**BASE, "OTEL_EXPORTER_OTLP_TIMEOUT": "10s"},
            "OTEL_EXPORTER_OTLP_TIMEOUT=10s is not a positive number of milliseconds",
        ),
        (
            {**BASE, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "zstd"},
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=zstd is not supported (use gzip or none)",
        ),
        (
            {**BASE, "OTEL_BSP_MAX_QUEUE_SIZE": "0"},
            "OTEL_BSP_MAX_QUEUE_SIZE=0 is not a positive whole number",
        ),
        (
            {**BASE, "OTEL_TRACES_SAMPLER": "jaeger_remote"},
            "OTEL_TRACES_SAMPLER=jaeger_remote is not supported (use always_on, always_off, "
            "traceidratio or their parentbased_ forms)",
        ),
        (
            {**BASE, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG=2 is not a ratio between 0 and 1",
        ),
        (
            {**BASE, "OTEL_EXPORTER_OTLP_HEADERS": "a=1,api-key s3cret"},
            "OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value",
        ),
        (
            {**BASE, "OTEL_RESOURCE_ATTRIBUTES": "team"},
            "OTEL_RESOURCE_ATTRIBUTES: 'team' is not key=value",
        ),
    ],
)
def test_unusable_values_fail_loudly(env: dict[str, str], message: str) -> None:
    with pytest.raises(UserError) as raised:
        tracing_config(env)

    assert str(raised.value) == message
    assert "pw@" not in str(raised.value)
