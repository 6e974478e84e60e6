"""Loopback partners that demand credentials, as :class:`~tests.support.targets.Behaviour`s.

:class:`OAuth2Server` is a fake OAuth2 authorization server: no packaged token server is worth
installing for this (they need a database and a web framework), and the client-credentials grant
is small enough to serve honestly here. Its token endpoint checks the grant type and the client's
Basic credentials, counts every request, issues a new opaque token with ``expires_in`` per request,
and its resource route answers 401 to a token that is unknown, revoked or past its lifetime (on
the same clock as the prober's, so tests move time without sleeping).

:func:`mount_secret` writes a token file the way the kubelet updates a secret volume.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from tests.support.targets import Exchange, Reply, json_reply


@dataclass
class OAuth2Server:
    client_id: str
    client_secret: str
    clock: Callable[[], float]
    expires_in: int = 30
    token_requests: int = 0
    refused: int = 0  # resource requests answered 401
    scopes_seen: list[str] = field(default_factory=list)
    audiences_seen: list[str] = field(default_factory=list)
    # how the client must authenticate: "basic" (Authorization header) or "post" (in the form)
    client_auth: str = "basic"
    token_prefix: str = "token-"  # each token is this and the request count
    _expiry: dict[str, float] = field(default_factory=dict)

    def revoke_all(self) -> None:
        self._expiry.clear()

    @property
    def token_endpoint(self) -> TokenEndpoint:
        return TokenEndpoint(self)

    @property
    def resource(self) -> Resource:
        return Resource(self)


@dataclass(frozen=True)
class TokenEndpoint:
    server: OAuth2Server

    async def serve(self, exchange: Exchange) -> bool:
        server = self.server
        server.token_requests += 1
        request = exchange.request
        form = parse_qs(request.body.decode())
        pair = f"{server.client_id}:{server.client_secret}".encode()
        expected = "Basic " + base64.b64encode(pair).decode()
        if request.method != "POST" or form.get("grant_type") != ["client_credentials"]:
            return await json_reply({"error": "unsupported_grant_type"}, 400).serve(exchange)
        if server.client_auth == "post":
            sent = (form.get("client_id"), form.get("client_secret"))
            valid = sent == ([server.client_id], [server.client_secret])
            valid = valid and request.header("authorization") is None
        else:
            valid = request.header("authorization") == expected and "client_secret" not in form
        if not valid:
            return await json_reply({"error": "invalid_client"}, 401).serve(exchange)
        server.scopes_seen.extend(form.get("scope", []))
        server.audiences_seen.extend(form.get("audience", []))
        token = f"{server.token_prefix}{server.token_requests}"
        server._expiry[token] = server.clock() + server.expires_in
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": server.expires_in}
        return await json_reply(answer).serve(exchange)


@dataclass(frozen=True)
class Resource:
    server: OAuth2Server

    async def serve(self, exchange: Exchange) -> bool:
        value = exchange.request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        expiry = self.server._expiry.get(token)
        if scheme != "Bearer" or expiry is None or self.server.clock() >= expiry:
            self.server.refused += 1
            return await Reply(401, headers={"WWW-Authenticate": "Bearer"}).serve(exchange)
        return await json_reply({"status": "ok"}).serve(exchange)


@dataclass(frozen=True)
class RequireHeader:
    """200 when header ``name`` holds exactly ``value()`` (read per request), else 401."""

    name: str
    value: Callable[[], str]

    async def serve(self, exchange: Exchange) -> bool:
        ok = exchange.request.header(self.name) == self.value()
        return await Reply(200 if ok else 401).serve(exchange)


def mount_secret(directory: Path, token: str, generation: int) -> None:
    """Write ``token`` the way the kubelet updates a secret volume: a new timestamped directory,
    then an atomic swap of the ``..data`` symlink the ``token`` link points through."""
    data = directory / f"..2026_12_05_{generation}"
    data.mkdir()
    (data / "token").write_text(token + "\n")
    link = directory / "..data_tmp"
    link.symlink_to(data.name)
    os.replace(link, directory / "..data")
    token_link = directory / "token"
    if not token_link.is_symlink():
        token_link.symlink_to("..data/token")
