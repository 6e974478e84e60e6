"""Credentials that never change (``basic``, ``api_key``, ``bearer: {token}``): the header a
request carries, and every secret value of any ``auth`` known at load time (for redaction).
Pure: no I/O (the run-time ones are in :mod:`agent.probes.auth`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from agent.model import ApiKeyAuth, BasicAuth, BearerAuth, HttpAuth


@dataclass(frozen=True, slots=True)
class Credential:
    """A header to send; ``refreshable`` when a 401 may be cured by a new token."""

    name: str
    value: str
    refreshable: bool = False


def static_header(auth: HttpAuth) -> Credential | None:
    """The header of credentials that never change; None for those read at run time."""
    if isinstance(auth, BasicAuth):
        pair = f"{auth.user}:{auth.password}".encode()
        return Credential("Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))
    if isinstance(auth, ApiKeyAuth):
        return Credential(auth.header, auth.value)
    if isinstance(auth, BearerAuth) and auth.token is not None:
        return Credential("Authorization", f"Bearer {auth.token}")
    return None


def static_secrets(auth: HttpAuth) -> tuple[str, ...]:
    """The secret values of ``auth`` known at load time, for redaction."""
    if isinstance(auth, BasicAuth):
        header = static_header(auth)
        assert header is not None
        return (auth.password, header.value, header.value.partition(" ")[2])
    if isinstance(auth, ApiKeyAuth):
        return (auth.value,)
    if isinstance(auth, BearerAuth):
        return () if auth.token is None else (auth.token,)
    return (auth.client_secret,)
