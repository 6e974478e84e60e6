"""The credentials of HTTP probes (``auth``): static ones, bearer tokens read from a file, and
OAuth2 client-credentials tokens.

* ``basic``, ``api_key`` and ``bearer: {token}`` never change: :func:`static_header` gives the
  header once, for the check's cached plan.
* ``bearer: {file}`` is the token in a file (a Kubernetes secret mount): each run ``stat``s the
  file and reads it again only when its inode, size or modification time changed (a secret
  rotation swaps a symlink, so the inode changes). An unreadable or empty file is reason
  ``auth``.
* ``oauth2`` gets a token from ``token_url`` (``grant_type=client_credentials``, with ``scope``
  and ``audience`` when set; the client authenticated with HTTP Basic, or with ``client_id`` and
  ``client_secret`` in the form for ``client_auth: client_secret_post``, RFC 6749 section
  2.3.1) and caches it until shortly before it expires (``expires_in`` minus a tenth of it, at
  most a minute; an hour when the endpoint gives no ``expires_in``): one token request per token
  lifetime, however many probes and runs share the credentials, since concurrent runs wait for
  the one request under way. :meth:`Credentials.refresh` drops a cached token the target refused
  (401); the prober then sends the request once more with a new one. A token endpoint that fails
  (cannot connect, times out, answers other than 2xx, no ``access_token``) is reason ``auth``.

Every token obtained at run time is handed to ``on_secret`` (the log filter's known secrets)
before it is used, under its source's slot (the token file, the OAuth2 client), so a rotated token
replaces its predecessor there instead of piling up; no message here quotes a credential.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from agent.model import BearerAuth, HttpAuth, OAuth2Auth
from agent.probes.details import message, one_line, root_cause
from agent.probes.static_auth import Credential, static_header

MAX_TOKEN_BYTES = 64 * 1024  # a token file or token endpoint answer larger than this is refused
DEFAULT_TOKEN_LIFETIME = 3600.0  # seconds, when the token endpoint gives no expires_in
MAX_EARLY_REFRESH = 60.0  # seconds before expiry at most that a cached token is replaced

# (slot, values): the credential of one source (a token file, an OAuth2 client) is now values,
# replacing what that source gave before (agent.redaction.KnownSecrets.rotate)
SecretSink = Callable[[Hashable, Iterable[str]], None]


@dataclass(slots=True)
class _FileToken:
    identity: tuple[int, int, int, int]  # device, inode, size, mtime in ns
    token: str


@dataclass(slots=True)
class _OAuthToken:
    token: str
    refresh_at: float  # monotonic seconds


class Credentials:
    """Run-time credentials of every HTTP check of one prober, cached as described above."""

    def __init__(
        self,
        client: Callable[[], httpx.AsyncClient],
        *,
        clock: Callable[[], float],
        on_secret: SecretSink | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._on_secret = on_secret
        self._files: dict[str, _FileToken] = {}
        self._tokens: dict[OAuth2Auth, _OAuthToken] = {}
        self._locks: dict[OAuth2Auth, asyncio.Lock] = {}
        self.token_requests = 0  # requests sent to token endpoints, for tests and benchmarks
        self.file_reads = 0  # token files read, for tests and benchmarks

    async def header(self, auth: HttpAuth, wait: float) -> Credential | str:
        """The header for one run, or why it could not be obtained (a one-line detail);
        a token endpoint gets ``wait`` seconds to answer."""
        if isinstance(auth, OAuth2Auth):
            return await self._oauth2(auth, wait)
        if isinstance(auth, BearerAuth) and auth.file is not None:
            return self._file(auth.file)
        header = static_header(auth)
        assert header is not None
        return header

    def refresh(self, auth: HttpAuth, refused: Credential) -> None:
        """Forget the token the target refused, so the next :meth:`header` fetches a new one."""
        if isinstance(auth, OAuth2Auth):
            cached = self._tokens.get(auth)
            if cached is not None and refused.value == f"Bearer {cached.token}":
                del self._tokens[auth]

    # --- bearer token file ------------------------------------------------------------------

    def _file(self, path: str) -> Credential | str:
        try:
            stat = os.stat(path)
            identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
            cached = self._files.get(path)
            if cached is None or cached.identity != identity:
                if stat.st_size > MAX_TOKEN_BYTES:
                    return f"bearer token file {path} is larger than {MAX_TOKEN_BYTES} bytes"
                with open(path, "rb") as file:
                    data = file.read(MAX_TOKEN_BYTES + 1)
                self.file_reads += 1
                token = data.decode("utf-8").strip()
                if not token or len(data) > MAX_TOKEN_BYTES:
                    limit = MAX_TOKEN_BYTES
                    return f"bearer token file {path} is empty or larger than {limit} bytes"
                self._publish(("bearer-file", path), token)
                cached = self._files[path] = _FileToken(identity, token)
        except (OSError, UnicodeDecodeError) as exc:
            self._files.pop(path, None)
            return one_line(f"cannot read bearer token file {path}: {message(exc)}")
        return Credential("Authorization", f"Bearer {cached.token}")

    # --- OAuth2 client credentials ----------------------------------------------------------

    async def _oauth2(self, auth: OAuth2Auth, wait: float) -> Credential | str:
        """The cached token, or a new one; only a token from the cache is ``refreshable``
        (a token the endpoint has just issued and the target refuses is not cured by another)."""
        cached = self._tokens.get(auth)
        if cached is not None and self._clock() < cached.refresh_at:
            return Credential("Authorization", f"Bearer {cached.token}", refreshable=True)
        lock = self._locks.setdefault(auth, asyncio.Lock())
        async with lock:  # concurrent runs share the one request under way
            cached = self._tokens.get(auth)
            if cached is None or self._clock() >= cached.refresh_at:
                got = await self._fetch(auth, wait)
                if isinstance(got, str):
                    return got
                cached = self._tokens[auth] = got
        return Credential("Authorization", f"Bearer {cached.token}")

    async def _fetch(self, auth: OAuth2Auth, wait: float) -> _OAuthToken | str:
        form = {"grant_type": "client_credentials"}
        if auth.scopes:
            form["scope"] = " ".join(auth.scopes)
        if auth.audience is not None:
            form["audience"] = auth.audience
        pair = f"{auth.client_id}:{auth.client_secret}".encode()
        basic = "Basic " + base64.b64encode(pair).decode("ascii")
        secrets = (auth.client_secret, basic, basic[6:])
        headers = {"Accept": "application/json"}
        if auth.client_auth == "client_secret_post":  # RFC 6749 section 2.3.1, in the body
            form |= {"client_id": auth.client_id, "client_secret": auth.client_secret}
        else:
            headers["Authorization"] = basic
        self.token_requests += 1
        try:
            async with asyncio.timeout(wait):
                status, body = await self._post(auth.token_url, form, headers)
        except (TimeoutError, httpx.TimeoutException):
            return f"token endpoint did not answer within {wait:g}s"
        except Exception as exc:  # the token endpoint failing is data, whatever the exception
            return one_line(f"token endpoint: {message(root_cause(exc))}", secrets)
        if not 200 <= status < 300:
            code = _error_code(body)
            answered = f"token endpoint answered {status}"
            return answered if code is None else one_line(f"{answered} ({code})", secrets)
        token, lifetime = _token_from(body)
        if token is None:
            return "token endpoint answered without an access_token"
        self._publish(("oauth2", auth), token)
        early = min(MAX_EARLY_REFRESH, lifetime / 10)
        return _OAuthToken(token, self._clock() + lifetime - early)

    async def _post(
        self, url: str, form: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """The status and at most ``MAX_TOKEN_BYTES + 1`` bytes of the body of the request."""
        async with self._client().stream("POST", url, data=form, headers=headers) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_TOKEN_BYTES:
                    break
            return response.status_code, bytes(body)

    def _publish(self, slot: Hashable, token: str) -> None:
        if self._on_secret is not None:
            self._on_secret(slot, (token, f"Bearer {token}"))


_ERROR_CODE = re.compile(r"[a-z_]{1,64}")  # RFC 6749 section 5.2: invalid_client, ...


def _error_code(body: bytes) -> str | None:
    """The ``error`` of a token endpoint's JSON error answer, when it is a plain code."""
    try:
        document: Any = json.loads(body[:MAX_TOKEN_BYTES])
    except ValueError:
        return None
    code = document.get("error") if isinstance(document, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def _token_from(body: bytes) -> tuple[str | None, float]:
    """``access_token`` and its lifetime in seconds from a token endpoint's JSON answer."""
    if len(body) > MAX_TOKEN_BYTES:
        return None, 0.0
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None, 0.0
    if not isinstance(document, dict):
        return None, 0.0
    token = document.get("access_token")
    expires_in = document.get("expires_in", DEFAULT_TOKEN_LIFETIME)
    if not isinstance(token, str) or not token:
        return None, 0.0
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
        expires_in = DEFAULT_TOKEN_LIFETIME
    return token, float(expires_in)
