"""Which transport sends direct fresh-connection ``https://`` probes (``slo-agent run
--https-engine``): libcurl with BoringSSL through curl_cffi (``curl``, the default when it can
be imported: ~60 % of the TLS handshake's CPU), or asyncio with CPython's ``ssl`` on OpenSSL
(``python``, :class:`~agent.probes.transport.FreshConnectionTransport`), the escape hatch for
the differences README.md lists. Plain ``http://``, kept-alive and proxied probes use the same
transports either way. Importing this module does not import curl_cffi."""

from __future__ import annotations

import importlib.util
from enum import StrEnum

# curl_cffi is a dependency; without it HTTPS probes use FreshConnectionTransport. It is imported
# with the first HTTPS client (~0.3 s, ~8 MB), so an agent without HTTPS probes never loads it.
CURL_AVAILABLE = importlib.util.find_spec("curl_cffi") is not None


class HttpsEngine(StrEnum):
    CURL = "curl"
    PYTHON = "python"

    @property
    def described(self) -> str:
        """What sends the probes, for the log."""
        if self is HttpsEngine.CURL:
            return "libcurl with BoringSSL (curl_cffi)"
        return "asyncio with Python's ssl module (OpenSSL)"


ENGINES = tuple(engine.value for engine in HttpsEngine)


def default_engine() -> HttpsEngine:
    """``curl`` when curl_cffi can be imported, else ``python``."""
    return HttpsEngine.CURL if CURL_AVAILABLE else HttpsEngine.PYTHON


def parse_engine(value: str) -> HttpsEngine:
    """The engine named ``value``; ValueError (one line: what is allowed, or why ``curl``
    cannot be used here) otherwise."""
    if value not in ENGINES:
        allowed = " or ".join(ENGINES)
        raise ValueError(f"{value!r} is not an HTTPS engine: use {allowed}")
    engine = HttpsEngine(value)
    if engine is HttpsEngine.CURL and not CURL_AVAILABLE:
        raise ValueError("curl needs the curl_cffi package, which cannot be imported: use python")
    return engine
