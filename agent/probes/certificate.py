"""The peer certificate of a TLS connection: its notAfter, read once per handshake.

``ssl.SSLObject.getpeercert()`` parses only a certificate the handshake verified (it returns
``{}`` without verification), so the expiry is read from the DER bytes, which every handshake
has, with ``cryptography``: one code path whether or not the probe verifies. A probe pays for
it only when it did a TLS handshake; plain HTTP and TCP probes never reach this module.
"""

from __future__ import annotations

import ssl
from typing import Any

from cryptography import x509

DAY = 86400.0


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
