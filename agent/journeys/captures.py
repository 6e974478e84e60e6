"""Values captured from a step's JSON response, and their substitution into later requests.

A step's check keeps ``${variable}`` placeholders (and ``$${`` escapes) in its URL, body and
header values, as the spec wrote them (environment variables in headers were expanded at load
time). :func:`fill` turns such a check into the request of one run. A captured value is the
first match of its JSON path: a string as it is, any other JSON value as its JSON text. In the
URL it is percent-encoded (all but letters, digits, ``-._~`` and ``/``). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from agent.model import HttpCheck
from agent.probes.assertions import JsonQuery, compile_json_path
from agent.spec.variables import expand

_MAX_SHOWN = 80


@dataclass(frozen=True, slots=True)
class Capture:
    """A variable and the compiled JSON path that fills it."""

    name: str
    path: str
    query: JsonQuery

    @classmethod
    def compile(cls, name: str, path: str) -> Capture:
        """Raise ValueError naming the path when it is not a JSON path."""
        return cls(name, path, compile_json_path(path))


def compile_captures(capture: Mapping[str, str]) -> tuple[Capture, ...]:
    return tuple(Capture.compile(name, path) for name, path in capture.items())


def capture_values(
    captures: tuple[Capture, ...], body: bytes | None
) -> tuple[dict[str, str], str | None]:
    """Variable -> value from a JSON response ``body``; or, when something cannot be captured,
    what went wrong (a one-line detail for a failed step)."""
    if not captures:
        return {}, None
    try:
        document = json.loads(body or b"")
    except ValueError as exc:
        return {}, f"cannot capture {captures[0].name}: body is not JSON ({_clip(str(exc))})"
    values: dict[str, str] = {}
    for capture in captures:
        matches = [] if isinstance(document, str) else capture.query.findall(document)
        if not matches:
            return values, f"cannot capture {capture.name}: {capture.path} selected nothing"
        value = matches[0]
        values[capture.name] = value if isinstance(value, str) else json.dumps(value)
    return values, None


def is_template(check: HttpCheck) -> bool:
    """Whether ``check`` has placeholders or escapes to fill in before it is sent."""
    texts = [check.url, *check.headers.values()]
    if check.body is not None:
        texts.append(check.body.decode("utf-8", "replace"))
    return any("${" in text for text in texts)


def fill(check: HttpCheck, values: Mapping[str, str]) -> HttpCheck:
    """The request of one run: ``check`` with every ``${variable}`` replaced from ``values``.

    Raises KeyError(variable) for a variable without a value (the loader makes sure a step only
    uses what earlier steps capture, so this means an earlier step did not run).
    """
    in_url = {name: quote(value, safe="/") for name, value in values.items()}
    body = None if check.body is None else expand(check.body.decode("utf-8"), values).encode()
    return dataclasses.replace(
        check,
        url=expand(check.url, in_url),
        headers={name: expand(value, values) for name, value in check.headers.items()},
        body=body,
    )


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
