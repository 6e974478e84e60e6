"""Which forward proxy a probe goes through: the check's own (``proxy:`` of the probe or its
node), else the standard environment variables, read once when the prober is made.

``http_proxy``/``HTTP_PROXY`` for ``http://`` targets, ``https_proxy``/``HTTPS_PROXY`` for
``https://`` ones, ``all_proxy``/``ALL_PROXY`` for both when those are unset (the lower-case
spelling wins, as in curl and httpx). A value without a scheme is an ``http://`` proxy.
``no_proxy``/``NO_PROXY`` lists the targets reached directly, comma-separated: ``*`` (all),
a host name (itself and its subdomains; a leading ``.`` changes nothing), an IP address or a
CIDR block, each optionally with ``:port``. It applies to the environment's proxies only: a
proxy written in the spec is used for every target of its probes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import httpx

__all__ = ["ProxyEnvironment"]


def _first(env: Mapping[str, str], name: str) -> str:
    return (env.get(name.lower()) or env.get(name.upper()) or "").strip()


class ProxyEnvironment:
    """The proxies of an environment, and the targets they are bypassed for."""

    def __init__(self, env: Mapping[str, str]) -> None:
        fallback = _first(env, "all_proxy")
        self._proxies = {
            "http": _with_scheme(_first(env, "http_proxy") or fallback),
            "https": _with_scheme(_first(env, "https_proxy") or fallback),
        }
        entries = _first(env, "no_proxy").split(",")
        self._bypass = tuple(entry.strip().lower() for entry in entries if entry.strip())

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL for a request to ``url``, or None to connect directly."""
        proxy = self._proxies.get(url.scheme)
        if not proxy or self._bypassed(url):
            return None
        return proxy

    def _bypassed(self, url: httpx.URL) -> bool:
        host = url.host.lower().rstrip(".")
        port = url.port or (443 if url.scheme == "https" else 80)
        for entry in self._bypass:
            if entry == "*":
                return True
            pattern, entry_port = _split_port(entry)
            if entry_port is not None and entry_port != port:
                continue
            if _matches(host, pattern):
                return True
        return False


def _with_scheme(value: str) -> str:
    return value if not value or "://" in value else f"http://{value}"


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:port`` and ``[v6]:port`` into their parts; a bare IPv6 address has no port."""
    if entry.startswith("["):
        address, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return address, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def _matches(host: str, pattern: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        domain = pattern.lstrip(".").rstrip(".")
        return bool(domain) and (host == domain or host.endswith("." + domain))
    try:
        return address in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return False
