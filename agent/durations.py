"""Durations as users write them in specs and flags: ``500ms``, ``30s``, ``5m``, ``28d``.

A duration is one or more ``<integer><unit>`` parts (``1h30m``); units are ``ms``, ``s``,
``m``, ``h``, ``d``, ``w``; in all at most :data:`MAX_DURATION` (ten years: longer is a typo,
and far longer does not fit a timedelta). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

_UNITS: dict[str, timedelta] = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:ms|s|m|h|d|w))+")

MAX_DURATION = timedelta(days=3650)
_MAX_MS = MAX_DURATION // timedelta(milliseconds=1)
_MAX_DIGITS = len(str(_MAX_MS))

DURATION_HELP = "a duration such as 500ms, 30s, 5m, 1h30m, 28d (units ms, s, m, h, d, w)"


def parse_duration(text: str) -> timedelta:
    """Parse ``text`` into a timedelta; raise ValueError naming what is allowed."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not {DURATION_HELP}")
    return _parse(text)


# Both are called for every window of every SLO at every evaluation: thousands of times a
# second at scale, on a handful of distinct values.
@lru_cache(maxsize=4096)
def _parse(text: str) -> timedelta:
    if not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f"{text[:100]!r} is not {DURATION_HELP}")
    total_ms = 0
    for number, unit in _PART.findall(text.strip()):
        digits = number.lstrip("0")
        if len(digits) > _MAX_DIGITS:  # int() of thousands of digits is refused, and slow
            raise _too_long(text)
        total_ms += int(digits or "0") * (_UNITS[unit] // timedelta(milliseconds=1))
    if total_ms > _MAX_MS:
        raise _too_long(text)
    return timedelta(milliseconds=total_ms)


class DurationTooLong(ValueError):
    """A well-formed duration longer than MAX_DURATION."""


def _too_long(text: str) -> DurationTooLong:
    longest = format_duration(MAX_DURATION)
    return DurationTooLong(f"{text[:100]!r} is longer than {longest}, the longest duration")


@lru_cache(maxsize=4096)
def format_duration(value: timedelta) -> str:
    """The shortest spelling of ``value`` that ``parse_duration`` reads back exactly."""
    ms = round(value.total_seconds() * 1000)
    if ms == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
