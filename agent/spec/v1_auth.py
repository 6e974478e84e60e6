"""Spec version ``slo-agent/v1``: the ``auth`` block of an HTTP request, declared per node
(``spec.auth``: shared by the node's probes and drills, and by journey steps that go to the
node) or per request (``http.auth``, which wins).

Exactly one of ``basic``, ``bearer``, ``api_key`` or ``oauth2``. Secret fields are templates
expanded from the environment at load time (``${NAME}``), like header values; nothing here puts
a value into a message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent import model
from agent.spec.problems import Loc, validation_error
from agent.spec.scalars import HeaderName, HeaderValue, Url
from agent.spec.variables import HeaderExpander


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class BasicAuthSpec(_Spec):
    user: HeaderValue = Field(description="${NAME} is read from the environment")
    password: HeaderValue = Field(description="${NAME} is read from the environment")


class BearerAuthSpec(_Spec):
    token: HeaderValue | None = Field(None, description="the token, usually ${NAME}")
    file: str | None = Field(
        None, min_length=1, description="a file holding the token, re-read when it changes"
    )

    @model_validator(mode="after")
    def _one_source(self) -> BearerAuthSpec:
        if (self.token is None) == (self.file is None):
            got = "both" if self.token is not None else "neither"
            message = f"needs exactly one of token or file, got {got}"
            raise validation_error("bearer", [((), message)])
        return self


class ApiKeyAuthSpec(_Spec):
    header: HeaderName = Field(description="the header carrying the key, e.g. X-Api-Key")
    value: HeaderValue = Field(description="${NAME} is read from the environment")


class OAuth2AuthSpec(_Spec):
    token_url: Url
    client_id: HeaderValue
    client_secret: HeaderValue = Field(description="${NAME} is read from the environment")
    scopes: list[str] = Field(default_factory=list)
    client_auth: Literal["client_secret_basic", "client_secret_post"] = Field(
        "client_secret_basic",
        description="client_secret_basic: HTTP Basic; client_secret_post: in the form",
    )
    audience: str | None = Field(None, min_length=1, description="sent as audience when set")


_KINDS = ("basic", "bearer", "api_key", "oauth2")


class AuthSpec(_Spec):
    """How an HTTP request authenticates: exactly one of the four."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": [kind]} for kind in _KINDS]}
    )

    basic: BasicAuthSpec | None = None
    bearer: BearerAuthSpec | None = None
    api_key: ApiKeyAuthSpec | None = None
    oauth2: OAuth2AuthSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthSpec:
        given = [kind for kind in _KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            message = f"needs exactly one of {', '.join(_KINDS)}, got {got}"
            raise validation_error("auth", [((), message)])
        return self


def to_auth(spec: AuthSpec, loc: Loc, expander: HeaderExpander) -> model.HttpAuth:
    """The model of ``spec`` (found at ``loc``), secrets expanded; a missing variable is
    recorded in ``expander.missing``."""
    if spec.basic is not None:
        at = (*loc, "basic")
        return model.BasicAuth(
            user=expander.value((*at, "user"), spec.basic.user),
            password=expander.value((*at, "password"), spec.basic.password),
        )
    if spec.bearer is not None:
        token = spec.bearer.token
        if token is None:
            return model.BearerAuth(file=spec.bearer.file)
        return model.BearerAuth(token=expander.value((*loc, "bearer", "token"), token))
    if spec.api_key is not None:
        value = expander.value((*loc, "api_key", "value"), spec.api_key.value)
        return model.ApiKeyAuth(header=spec.api_key.header, value=value)
    assert spec.oauth2 is not None  # the model validator guarantees exactly one
    at = (*loc, "oauth2")
    return model.OAuth2Auth(
        token_url=spec.oauth2.token_url,
        client_id=expander.value((*at, "client_id"), spec.oauth2.client_id),
        client_secret=expander.value((*at, "client_secret"), spec.oauth2.client_secret),
        scopes=tuple(spec.oauth2.scopes),
        client_auth=spec.oauth2.client_auth,
        audience=spec.oauth2.audience,
    )
