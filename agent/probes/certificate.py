"""The peer certificate of a TLS connection: its notAfter, read once per handshake.

``ssl.SSLObject.getpeercert()`` parses only a certificate the handshake verified (it returns
``{}`` without verification), so the expiry is read from the DER bytes, which every handshake
has, with ``cryptography``: one code path whether or not the probe verifies. A probe pays for
it only when it did a TLS handshake; plain HTTP and TCP probes never reach this module.

``cryptography`` (~16 MB of RSS) is imported on the first read, not when the agent starts, so an
agent without TLS probes never loads it. A target presents the same certificate handshake after
handshake: the notAfter is kept per DER bytes (:data:`_CACHE_SIZE` certificates, the oldest
read first forgotten), so the parse runs once per certificate rather than once per probe; the
bytes themselves still come from every handshake, so a rotated certificate is read at once.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

DAY = 86400.0
EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED: SSLCertVerificationError.verify_code

_CACHE_SIZE = 1024  # certificates whose notAfter is kept (a few hundred bytes each, and the DER)
_not_after_of: dict[bytes, float | None] = {}

_UNVERIFIED = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE


def not_after(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> float | None:
    """The peer certificate's notAfter in unix seconds; None without a certificate."""
    if ssl_object is None:
        return None
    try:
        der = ssl_object.getpeercert(binary_form=True)
    except (ValueError, ssl.SSLError):  # the handshake has not completed
        return None
    if not der:
        return None
    try:
        return _not_after_of[der]
    except KeyError:
        pass
    expiry = _parse_not_after(der)
    if len(_not_after_of) >= _CACHE_SIZE:
        del _not_after_of[next(iter(_not_after_of))]
    _not_after_of[der] = expiry
    return expiry


def _parse_not_after(der: bytes) -> float | None:
    from cryptography import x509  # on first use: see the module's docstring

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()
    except ValueError:  # bytes that are no certificate: no expiry to report
        return None


def of_transport(transport: Any) -> float | None:
    """:func:`not_after` of an asyncio transport or an httpcore network stream."""
    get_extra_info = getattr(transport, "get_extra_info", None)
    if get_extra_info is None:
        return None
    return not_after(get_extra_info("ssl_object"))


def days_text(seconds: float) -> str:
    """Whole days, rounded down: ``1 day``, ``12 days``."""
    days = int(seconds // DAY)
    return f"{days} day" if days == 1 else f"{days} days"


def expired_detail(expiry: float, now: float) -> str:
    """``TLS certificate expired 3 days ago (2026-12-02 00:00:00 UTC)``-style detail."""
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    ago = now - expiry
    if ago < DAY:
        return f"TLS certificate expired less than a day ago ({when})"
    return f"TLS certificate expired {days_text(ago)} ago ({when})"


def expired(exc: BaseException) -> bool:
    """Whether ``exc`` is a verification failure because a certificate has expired."""
    return (
        isinstance(exc, ssl.SSLCertVerificationError)
        and getattr(exc, "verify_code", None) == EXPIRED  # unset when not from a handshake
    )


async def read_unverified(
    host: str, port: int, server_name: str, deadline: float | None
) -> float | None:
    """The notAfter of the certificate ``host:port`` presents, read on a new connection
    without verifying it, before ``deadline`` (event-loop time); None when that fails too.
    Only after a handshake rejected an expired certificate, to say when it expired."""
    loop = asyncio.get_running_loop()
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout_at(deadline):
            transport, protocol = await loop.create_connection(asyncio.Protocol, host, port)
            transport = await loop.start_tls(
                transport, protocol, _UNVERIFIED, server_hostname=server_name
            )
            return of_transport(transport)
    except (OSError, ssl.SSLError, TimeoutError):
        return None
    finally:
        if transport is not None:
            transport.close()
