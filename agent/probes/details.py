"""One-line failure details for probe observations: the message of an exception and its
causes, secrets redacted, at most :data:`MAX_DETAIL` characters."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable

from agent.redaction import redact_text

MAX_DETAIL = 240


def causes(exc: BaseException) -> Iterable[BaseException]:
    """``exc``, then what caused it, and so on (the first of a group's exceptions)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__


def root_cause(exc: BaseException) -> BaseException:
    """The innermost exception with an errno (``Connection refused``), else the innermost one
    whose message says more than the wrapper's (httpx's wrappers often have none)."""
    found = exc
    for cause in causes(exc):
        if isinstance(cause, OSError) and cause.errno:
            return cause
        if not str(found) or isinstance(found, BaseExceptionGroup):
            found = cause
    return found


def message(exc: BaseException) -> str:
    """What went wrong, as the operating system words it when there is an errno."""
    if isinstance(exc, socket.gaierror) and exc.strerror:
        return exc.strerror
    if isinstance(exc, OSError) and exc.errno and exc.errno > 0:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def one_line(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` on one line, every secret spelling and URL credential redacted
    (:func:`agent.redaction.redact_text`), at most MAX_DETAIL characters."""
    text = " ".join(redact_text(text, secrets).split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def secret_spellings(values: Iterable[str]) -> tuple[str, ...]:
    """Header values as str, as repr() of str and of bytes would show them, longest first."""
    spellings: set[str] = set()
    for value in values:
        if not value:
            continue
        spellings.add(value)
        spellings.add(repr(value)[1:-1])
        spellings.add(repr(value.encode("utf-8", "replace"))[2:-1])
    return tuple(sorted(spellings, key=len, reverse=True))
