"""Throttling: HTTP 429, or 503 with ``Retry-After``, is reason ``throttled``, and how long the
target asked the prober to wait (``Retry-After`` in seconds or as an HTTP date, RFC 9110
section 10.2.3). Pure: the current wall time is an argument.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_TEXT = 64  # a longer Retry-After value is ignored


def is_throttled(status: int, retry_after: str | None) -> bool:
    return status == 429 or (status == 503 and retry_after is not None)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The wait ``value`` asks for, from ``now`` (unix seconds); None when absent or invalid."""
    if value is None or len(value) > MAX_RETRY_AFTER_TEXT:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, when.timestamp() - now)
