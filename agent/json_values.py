"""JSON values from outside, compared and shown: equality as JSON defines it, and a short
rendering for a failure's detail that costs a few hundred steps whatever the value's size."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_MAX_VALUE_TEXT = 80  # characters of an expected or actual value shown in a failure
_MAX_VALUE_DEPTH = 32  # nesting levels shown; deeper values show as "…"


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


def show(value: Any) -> str:
    """``value`` as compact JSON, cut at _MAX_VALUE_TEXT characters.

    Only what is shown is rendered: the walk stops once the text is long enough, so a value
    of any size (a YAML alias bomb shares one list billions of times) costs a few hundred
    steps, never a rendering of the whole.
    """
    parts: list[str] = []
    _render(value, parts, [_MAX_VALUE_TEXT + 1], 0)
    return clip("".join(parts))


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


def clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 1] + "…"
