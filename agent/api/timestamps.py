"""How the HTTP API writes a point in time: one way everywhere.

Every timestamp in a JSON answer is an RFC 3339 string in UTC with a ``Z`` suffix and
millisecond precision (``"2026-12-05T02:58:51.250Z"``), in a field whose name ends in ``_at``
(or ``since``); every duration is a number of seconds in a field whose name ends in
``_seconds``. A few fields kept from earlier versions (Unix seconds) are marked deprecated in
the OpenAPI document (``/api/v1/openapi.json``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import WithJsonSchema

Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""A timestamp field of a response shape: an RFC 3339 string (``format: date-time``)."""


def rfc3339(unix: float) -> str:
    """``1700000000.25`` -> ``"2023-11-14T22:13:20.250Z"``."""
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def rfc3339_or_none(unix: float | None) -> str | None:
    return None if unix is None else rfc3339(unix)
