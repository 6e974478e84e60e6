"""Transport blocks of ``slo-agent/v1``: ``tls`` and ``proxy``, declared once per node
(``spec.tls``, ``spec.proxy``: its probes and drills share them, and journey steps that go to
the node take them at run time, :mod:`agent.journeys.targets`) or per request (``http.tls``,
``http.proxy``; the ``tls`` kind's own fields, ``grpc.tls``). A request's ``tls`` fields
override the node's field by field; its ``proxy`` replaces the node's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.model import TlsSettings
from agent.spec.problems import validation_error


class TlsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    ca_file: str | None = Field(
        None, min_length=1, description="PEM CA bundle; replaces the default trust store"
    )
    cert_file: str | None = Field(
        None, min_length=1, description="PEM client certificate (mTLS); needs key_file"
    )
    key_file: str | None = Field(None, min_length=1, description="PEM key of cert_file")
    server_name: str | None = Field(
        None, min_length=1, description="SNI and the name the certificate must match"
    )
    min_version: Literal["TLS1.2", "TLS1.3"] | None = None
    verify: bool | None = Field(None, description="verify the server's certificate; default true")

    @model_validator(mode="after")
    def _pair(self) -> TlsSpec:
        if self.key_file is not None and self.cert_file is None:
            raise validation_error("tls", [(("cert_file",), "is required with key_file")])
        return self


def tls_settings(request: TlsSpec | None, node: TlsSpec | None) -> TlsSettings | None:
    """The request's fields over the node's; None when neither declares one."""
    if request is None and node is None:
        return None
    merged: dict[str, object] = {}
    for spec in (node, request):
        if spec is not None:
            merged |= {name: getattr(spec, name) for name in spec.model_fields_set}
    merged = {name: value for name, value in merged.items() if value is not None}
    return TlsSettings(**merged)  # type: ignore[arg-type]  # names and types are TlsSettings'


def declared_tls(spec: BaseModel) -> TlsSpec | None:
    """The ``tls`` block's fields that ``spec`` (a probe kind's model with some of them, e.g. the
    ``tls`` kind) declares, as a block; None when it declares none."""
    fields = {
        name: getattr(spec, name)
        for name in spec.model_fields_set
        if name in TlsSpec.model_fields and getattr(spec, name) is not None
    }
    return TlsSpec.model_validate(fields) if fields else None


class Transport:
    """A node's ``tls`` and ``proxy``, the defaults of every request it declares."""

    def __init__(self, tls: TlsSpec | None = None, proxy: str | None = None) -> None:
        self.tls = tls
        self.proxy = proxy
