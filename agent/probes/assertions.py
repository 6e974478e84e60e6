"""Checks on a response body: substring, regular expression and JSON-path equality.

An :class:`BodyAssertions` is compiled once per check (JSON paths parsed, nothing else to
prepare) and then judges bodies with no I/O. A failure is a one-line detail for humans, e.g.
``$.status: expected "ok", got "degraded"``.

JSON-path semantics: a *singular* path (names and indexes only, such as ``$.items[0].state``)
selects one value, which must equal the expected value; a path that may select several values
(wildcards, filters, ``..``) selects the list of every match, which must equal the expected
list. Equality is JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpath

from agent.model import HttpCheck
from agent.text_pattern import TextPattern

JsonQuery = jsonpath.JSONPath | jsonpath.CompoundJSONPath

_MAX_VALUE_TEXT = 80  # characters of an expected or actual value shown in a failure
_MAX_VALUE_DEPTH = 32  # nesting levels shown; deeper values show as "…"


def compile_json_path(path: str) -> JsonQuery:
    """Parse ``path`` once; raise ValueError naming the path when it is not a JSON path."""
    try:
        return jsonpath.compile(path)
    except (jsonpath.JSONPathError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: not a valid JSON path: {reason}") from None


@dataclass(frozen=True, slots=True)
class JsonExpectation:
    """The value (or, for a non-singular path, the list of values) ``path`` must select."""

    path: str
    query: JsonQuery
    singular: bool
    expected: Any

    @classmethod
    def compile(cls, path: str, expected: Any) -> JsonExpectation:
        query = compile_json_path(path)
        singular = isinstance(query, jsonpath.JSONPath) and query.singular_query()
        return cls(path=path, query=query, singular=singular, expected=expected)

    def failure(self, document: Any) -> str | None:
        """None when ``document`` satisfies the expectation, else what went wrong."""
        matches = self._select(document)
        if self.singular:
            if not matches:
                return f"{self.path}: expected {_show(self.expected)}, got nothing"
            actual: Any = matches[0]
        else:
            actual = matches
        if json_equal(actual, self.expected):
            return None
        return f"{self.path}: expected {_show(self.expected)}, got {_show(actual)}"

    def _select(self, document: Any) -> list[object]:
        if isinstance(document, str):
            # the library would parse a str argument as JSON text again: a top-level JSON
            # string only has the root itself to select
            return [document] if str(self.query) == "$" else []
        return self.query.findall(document)


@dataclass(frozen=True, slots=True)
class BodyAssertions:
    contains: str | None
    regex: TextPattern | None
    json: tuple[JsonExpectation, ...]

    @classmethod
    def from_check(cls, check: HttpCheck) -> BodyAssertions | None:
        """The check's body assertions, or None when it makes none.

        Raises ValueError when a JSON path does not parse.
        """
        if check.body_contains is None and check.body_regex is None and not check.json_equals:
            return None
        expectations = tuple(
            JsonExpectation.compile(path, expected) for path, expected in check.json_equals.items()
        )
        return cls(contains=check.body_contains, regex=check.body_regex, json=expectations)

    def failure(self, body: bytes, charset: str | None = None) -> str | None:
        """None when ``body`` passes every assertion, else the first failure.

        ``charset`` comes from the response's Content-Type; UTF-8 when absent or unknown.
        """
        failures: list[str] = []
        if self.contains is not None or self.regex is not None:
            text = _decode(body, charset)
            if self.contains is not None and self.contains not in text:
                failures.append(f"body does not contain {_show(self.contains)}")
            if self.regex is not None and not self.regex.search(text):
                failures.append(f"body does not match /{_clip(self.regex.pattern)}/")
        if self.json:
            try:
                document = json.loads(body)
            except ValueError as exc:
                failures.append(f"body is not JSON ({_clip(str(exc))})")
            except RecursionError:
                failures.append("body is not JSON we can read (nested too deeply)")
            else:
                for expectation in self.json:
                    try:
                        problem = expectation.failure(document)
                    except RecursionError:
                        problem = f"{expectation.path}: the body is nested too deeply to compare"
                    if problem is not None:
                        failures.append(problem)
        if not failures:
            return None
        if len(failures) == 1:
            return failures[0]
        return f"{failures[0]} (and {len(failures) - 1} more)"


def json_equal(actual: Any, expected: Any) -> bool:
    """Equality of JSON values: booleans never equal numbers, ints equal equal floats."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, str) or isinstance(expected, str):
        return isinstance(actual, str) and isinstance(expected, str) and actual == expected
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        return actual.keys() == expected.keys() and all(
            json_equal(actual[key], expected[key]) for key in actual
        )
    if isinstance(actual, Sequence) and isinstance(expected, Sequence):
        return len(actual) == len(expected) and all(
            json_equal(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return actual is None and expected is None


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _show(value: Any) -> str:
    """``value`` as compact JSON, cut at _MAX_VALUE_TEXT characters.

    Only what is shown is rendered: the walk stops once the text is long enough, so a value
    of any size (a YAML alias bomb shares one list billions of times) costs a few hundred
    steps, never a rendering of the whole.
    """
    parts: list[str] = []
    _render(value, parts, [_MAX_VALUE_TEXT + 1], 0)
    return _clip("".join(parts))


def _render(value: Any, parts: list[str], room: list[int], depth: int) -> None:
    """Append ``value``'s JSON text to ``parts`` until ``room[0]`` characters are used."""
    if room[0] <= 0:
        return
    if depth > _MAX_VALUE_DEPTH:
        _emit("…", parts, room)
    elif isinstance(value, str):
        _emit(json.dumps(value[: room[0]], ensure_ascii=False), parts, room)
    elif value is None or isinstance(value, bool | float):
        _emit(json.dumps(value), parts, room)
    elif isinstance(value, int):
        _emit(_integer(value), parts, room)
    elif isinstance(value, Mapping):
        _emit("{", parts, room)
        for index, (key, item) in enumerate(value.items()):
            if room[0] <= 0:
                return
            _emit(", " if index else "", parts, room)
            _emit(json.dumps(str(key)[: room[0]], ensure_ascii=False) + ": ", parts, room)
            _render(item, parts, room, depth + 1)
        _emit("}", parts, room)
    elif isinstance(value, Sequence):
        _emit("[", parts, room)
        for index, item in enumerate(value):
            if room[0] <= 0:
                return
            _emit(", " if index else "", parts, room)
            _render(item, parts, room, depth + 1)
        _emit("]", parts, room)
    else:
        _emit(str(value)[: room[0]], parts, room)


def _emit(text: str, parts: list[str], room: list[int]) -> None:
    parts.append(text)
    room[0] -= len(text)


def _integer(value: int) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (4300 by default)
        return f"<integer of {value.bit_length()} bits>"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 1] + "…"
