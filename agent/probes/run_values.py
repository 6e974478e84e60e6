"""Per-run template values in HTTP requests: ``${run.uuid}`` (a fresh random UUID each run, for
idempotency keys) and ``${run.time}`` (the run's start, RFC 3339 in UTC with milliseconds), in
the URL, header values and body. The spec loader leaves them as written
(:data:`agent.spec.variables.RUN_VALUES`); the prober fills them in just before sending.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from agent.model import HttpCheck

UUID = "${run.uuid}"
TIME = "${run.time}"


def has_run_values(check: HttpCheck) -> bool:
    """Whether ``check`` has run values to fill in (the answer is the same for every run)."""
    texts = [check.url, *check.headers.values()]
    if check.body is not None:
        texts.append(check.body.decode("utf-8", "replace"))
    return any(UUID in text or TIME in text for text in texts)


def rfc3339(unix_seconds: float) -> str:
    """``2026-12-05T00:15:41.123Z``."""
    moment = datetime.fromtimestamp(unix_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def with_run_values(check: HttpCheck, run_uuid: uuid.UUID, started: float) -> HttpCheck:
    """The request of one run: ``check`` with its run values filled in."""
    values = {UUID: str(run_uuid), TIME: rfc3339(started)}

    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace(name, value)
        return text

    body = check.body
    if body is not None:
        body = fill(body.decode("utf-8")).encode("utf-8")
    return dataclasses.replace(
        check,
        url=fill(check.url),
        headers={name: fill(value) for name, value in check.headers.items()},
        body=body,
    )
