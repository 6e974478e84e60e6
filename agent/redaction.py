"""Credentials out of everything the agent says: the one redaction of URLs, headers and text.

Every log line, error message, API field, span attribute and alert annotation that carries a
URL or a header passes through here:

* :func:`redact_url`: userinfo becomes ``REDACTED:REDACTED`` and the values of secret-looking
  query parameters (:data:`SECRET_QUERY_KEYS`: ``token``, ``api_key``, ``sig``, ...) become
  ``REDACTED``.
* :func:`redact_headers`: the values of :data:`SECRET_HEADERS` (``Authorization``, ``Cookie``,
  ``X-Api-Key``, ...) and of any header whose value is a known secret become ``REDACTED``.
* :func:`redact_text`: free text (an exception message, a library's log line) with every URL in
  it redacted, ``Authorization: ...``/``Bearer ...`` values removed and every known secret
  spelling replaced.
* :class:`RedactingFilter`: a ``logging.Filter`` on the root handlers that rewrites every record
  (message, arguments and traceback) with :func:`redact_text`, at every level and from every
  library; the known secrets come from :class:`KnownSecrets` (probe header values, which may
  come from ``${ENV}``, and the credentials in configured URLs).
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from agent.model import HttpCheck, SpecSet
from agent.probes.static_auth import static_secrets

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_KEYS",
    "KnownSecrets",
    "RedactingFilter",
    "redact_headers",
    "redact_text",
    "redact_url",
    "spec_secrets",
    "url_secrets",
]

REDACTED = "REDACTED"

SECRET_QUERY_KEYS = frozenset(
    {
        "access_token",
        "api-key",
        "api_key",
        "apikey",
        "auth",
        "awsaccesskeyid",
        "client_secret",
        "code",
        "credential",
        "id_token",
        "key",
        "pass",
        "passwd",
        "password",
        "refresh_token",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
        "x-goog-credential",
        "x-goog-signature",
    }
)
"""Query parameters (any case) whose values are credentials."""

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "proxy-authorization",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
    }
)
"""Headers (any case) whose values are credentials."""

MIN_SECRET_LENGTH = 4
"""Known secret values shorter than this are not searched for in free text (too many false
hits); they are still redacted wherever they appear as a header value or in a URL."""

# scheme://anything up to whitespace or a quote/bracket that commonly closes a URL in text
_URL_IN_TEXT = re.compile(r"""\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>`]+""")
# "Authorization: Bearer x", "authorization=x", "'x-api-key': 'x'" in free text
_HEADER_IN_TEXT = re.compile(
    r"""(?i)(\b(?:proxy-)?authorization|\bcookie|\bx-api-key|\bx-auth-token)(['"]?\s*[:=]\s*['"]?)"""
    r"""((?:bearer|basic|token)\s+)?[^\s'",}]+"""
)
_BEARER_IN_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def _redact_url_match(match: re.Match[str]) -> str:
    # punctuation that ends a sentence or a clause after a URL is not part of it
    url = match.group(0)
    core = url.rstrip(".,;:!?)]}")
    return redact_url(core) + url[len(core) :]


def redact_url(url: str) -> str:
    """``url`` without credentials (userinfo and secret query values become ``REDACTED``).

    A text that does not parse as a URL is returned with anything up to an ``@`` removed, so
    even a malformed URL with userinfo never shows it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_userinfo_loosely(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}:{REDACTED}@{netloc.rpartition('@')[2]}"
    query = _redact_query(parts.query)
    fragment = _redact_query(parts.fragment) if "=" in parts.fragment else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _redact_query(query: str) -> str:
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        if equals and unquote(name).strip().lower() in SECRET_QUERY_KEYS:
            pair = f"{name}={REDACTED}"
        pairs.append(pair)
    return "&".join(pairs)


def _redact_userinfo_loosely(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = f"{REDACTED}:{REDACTED}@" + rest.split("@", 1)[1]
    return scheme + sep + rest


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """``headers`` with the values of secret headers, and of headers holding any of
    ``secrets`` (e.g. values expanded from ``${ENV}``), replaced by ``REDACTED``."""
    known = {value for value in secrets if value}
    return {
        name: REDACTED
        if name.lower() in SECRET_HEADERS or value in known or any(s in value for s in known)
        else redact_text(value)
        for name, value in headers.items()
    }


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL redacted, header credentials removed and every one of
    ``secrets`` (longest first) replaced by ``REDACTED``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _URL_IN_TEXT.sub(_redact_url_match, text)
    text = _HEADER_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _BEARER_IN_TEXT.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


# --- known secrets ----------------------------------------------------------------------------


def url_secrets(url: str) -> set[str]:
    """The credentials in ``url``: its userinfo (user:password, and the password) and the
    values of its secret query parameters, as written and percent-decoded."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        found.add(userinfo)
        password = userinfo.partition(":")[2]
        if password:
            found.update({password, unquote(password)})
    for text in (parts.query, parts.fragment):
        for pair in text.split("&"):
            name, equals, value = pair.partition("=")
            if equals and value and unquote(name).strip().lower() in SECRET_QUERY_KEYS:
                found.update({value, unquote(value)})
    return found


def _check_secrets(check: HttpCheck) -> set[str]:
    found = url_secrets(check.url)
    if check.proxy is not None:  # a proxy's userinfo
        found |= url_secrets(check.proxy)
    for value in check.headers.values():
        if value:
            found.update({value, repr(value)[1:-1], value.partition(" ")[2]})
    if check.auth is not None:
        found.update(static_secrets(check.auth))  # run-time tokens: agent.probes.auth
    found.discard("")
    return found


def spec_secrets(specs: SpecSet) -> set[str]:
    """Every value in ``specs`` that may be a credential: each request header's value (header
    values may be ``${ENV}`` expansions), and the credentials in each probe and proxy URL."""
    checks: list[HttpCheck] = []
    for node in specs.nodes:
        checks.extend(p.check for p in node.probes if isinstance(p.check, HttpCheck))
        checks.extend(f.drill.check for f in node.fallbacks if f.drill is not None)
    for journey in specs.journeys:
        for step in journey.steps:
            checks.append(step.check)
            if step.fallback is not None:
                checks.append(step.fallback.check)
    found: set[str] = set()
    for check in checks:
        found |= _check_secrets(check)
    for node in specs.nodes:  # journey steps take these at run time (agent.journeys.targets)
        if node.proxy is not None:
            found |= url_secrets(node.proxy)
        if node.auth is not None:
            found.update(static_secrets(node.auth))
    found.discard("")
    return found


MAX_RUNTIME_SLOTS = 1024
"""Credentials obtained at run time (:meth:`KnownSecrets.rotate`) are kept for this many slots
(one per token file or OAuth2 client) at most; the least recently rotated goes first."""


class KnownSecrets:
    """The secret values the log filter searches for: fixed ones (configured URLs' credentials),
    those of the current spec set, re-read when the spec set changes (a reload), and those
    obtained at run time (tokens), one slot per credential source.

    A slot holds its source's current and previous token: a rotated token replaces the one before
    the previous (which may still be in a line being logged), so the values searched for stay
    bounded (two per slot, at most :data:`MAX_RUNTIME_SLOTS` slots) however often tokens rotate.
    """

    def __init__(self, max_slots: int = MAX_RUNTIME_SLOTS) -> None:
        self._fixed: frozenset[str] = frozenset()
        self._max_slots = max_slots
        # slot -> (current values, previous values)
        self._runtime: OrderedDict[Hashable, tuple[frozenset[str], frozenset[str]]] = OrderedDict()
        self._specs: Callable[[], SpecSet] | None = None
        self._seen: SpecSet | None = None
        self._values: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add_urls(self, urls: Iterable[str]) -> None:
        with self._lock:
            self._fixed = self._fixed.union(*(url_secrets(url) for url in urls))
            self._rebuild(spec_secrets(self._seen) if self._seen is not None else set())

    def add_values(self, values: Iterable[str]) -> None:
        """Search also for each of ``values`` (e.g. header values from the environment)."""
        with self._lock:
            found = {part for v in values for part in (v, v.partition(" ")[2]) if part}
            self._fixed = self._fixed.union(found)
            self._rebuild(spec_secrets(self._seen) if self._seen is not None else set())

    def rotate(self, slot: Hashable, values: Iterable[str]) -> None:
        """The credential of ``slot`` (e.g. a token file's path) is now ``values``; its value
        before the previous one is forgotten."""
        current = frozenset(values)
        with self._lock:
            entry = self._runtime.pop(slot, None)
            if entry is not None and entry[0] == current:
                previous = entry[1]
            else:
                previous = frozenset() if entry is None else entry[0]
            self._runtime[slot] = (current, previous)
            while len(self._runtime) > self._max_slots:
                self._runtime.popitem(last=False)
            self._rebuild(spec_secrets(self._seen) if self._seen is not None else set())

    def follow(self, specs: Callable[[], SpecSet]) -> None:
        """Search also for the secrets of ``specs()``, the current spec set."""
        with self._lock:
            self._specs = specs
            self._seen = None

    def values(self) -> tuple[str, ...]:
        """Every known secret spelling, longest first."""
        source = self._specs
        if source is None:
            return self._values
        current = source()
        if current is not self._seen:
            with self._lock:
                self._seen = current
                self._rebuild(spec_secrets(current))
        return self._values

    def _rebuild(self, from_specs: set[str]) -> None:
        runtime = {v for current, previous in self._runtime.values() for v in current | previous}
        values = {v for v in self._fixed | from_specs | runtime if len(v) >= MIN_SECRET_LENGTH}
        self._values = tuple(sorted(values, key=len, reverse=True))


class RedactingFilter(logging.Filter):
    """Rewrites every record it sees with :func:`redact_text`: the formatted message (its
    arguments merged in) and the traceback. Never drops a record."""

    def __init__(self, secrets: KnownSecrets | None = None) -> None:
        super().__init__()
        self.secrets = secrets or KnownSecrets()

    def filter(self, record: logging.LogRecord) -> bool:
        known = self.secrets.values()
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: show the template, never the arguments
            message = str(record.msg)
        record.msg = redact_text(message, known)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            # formatters use exc_text when it is set; exc_info stays for whoever inspects it
            record.exc_text = redact_text(text, known)
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text, known)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, known)
        return True
