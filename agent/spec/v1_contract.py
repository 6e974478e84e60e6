"""The v1 wire form of contract conditions under an HTTP check's ``expect`` (probes, journey
steps and drills alike), validated at load time; the semantics are :mod:`agent.contract`'s.

``expect.json`` maps a JSONPath to an expected value (JSON equality, as before) or to a mapping
whose keys are all condition operators (``{gt: 0}``, ``{type: string, regex: "^ch_"}``). To
compare with an object whose keys all happen to be operator names, write ``{eq: {...}}``.
``expect.headers`` maps a header name (any case) to its exact value or to a mapping of
``exists``, ``eq`` and ``regex``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from agent.contract import (
    COMPARISONS,
    HEADER_OPERATORS,
    JSON_TYPES,
    VALUE_OPERATORS,
    HeaderCheck,
    ValueConditions,
    header_check,
    is_conditions,
    value_conditions,
)
from agent.redaction import SECRET_HEADERS
from agent.spec.problems import spec_error

MAX_HEADER_CHECKS = 32  # header expectations per check


def _near_operator(key: object) -> str | None:
    if not isinstance(key, str) or key in VALUE_OPERATORS:
        return None
    close = difflib.get_close_matches(key, VALUE_OPERATORS, n=1, cutoff=0.8)
    return close[0] if close else None


def _json_expected(value: object) -> object:
    if is_conditions(value):
        assert isinstance(value, Mapping)
        try:
            value_conditions(value)
        except ValueError as exc:
            hint = " (to compare with an object, write {eq: {...}})" if "type" in value else ""
            raise spec_error(f"{exc}{hint}") from None
    elif isinstance(value, Mapping) and any(key in VALUE_OPERATORS for key in value):
        for key in value:
            near = _near_operator(key)
            if near is not None:
                raise spec_error(
                    f'unknown condition "{key}" (did you mean "{near}"?); conditions are '
                    f"{', '.join(VALUE_OPERATORS)}"
                )
    return value


_COMPARISON_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {op: {"type": "number"} for op in COMPARISONS},
}

JsonExpected = Annotated[
    Any,
    PlainValidator(_json_expected),
    WithJsonSchema(
        {
            "description": (
                "the expected value (JSON equality), or a mapping of conditions: "
                + ", ".join(VALUE_OPERATORS)
            ),
            "anyOf": [
                {},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "exists": {"type": "boolean"},
                        **{op: {} for op in ("eq", "ne")},
                        **{op: {"type": "number"} for op in ("gt", "ge", "lt", "le")},
                        "regex": {"type": "string", "format": "regex"},
                        "length": {"anyOf": [{"type": "integer"}, _COMPARISON_SCHEMA]},
                        "type": {"enum": list(JSON_TYPES)},
                    },
                },
            ],
        }
    ),
]


def _header_expected(value: object) -> object:
    try:
        header_check("-", value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise spec_error(str(exc)) from None
    return value


HeaderExpected = Annotated[
    str | dict[str, Any],
    PlainValidator(_header_expected),
    WithJsonSchema(
        {
            "description": "the exact value, or a mapping of " + ", ".join(HEADER_OPERATORS),
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "exists": {"type": "boolean"},
                        "eq": {"type": "string"},
                        "regex": {"type": "string", "format": "regex"},
                    },
                },
            ],
        }
    ),
]


def duplicate_header(names: Mapping[str, object]) -> str | None:
    """The second spelling of a header name already given in another case, if any."""
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            return name
        seen.add(name.lower())
    return None


def json_conditions(expected: Mapping[str, Any]) -> dict[str, ValueConditions]:
    """The entries of a validated ``expect.json`` that are conditions, compiled."""
    return {
        path: value_conditions(value) for path, value in expected.items() if is_conditions(value)
    }


def json_equals(expected: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a validated ``expect.json`` that are expected values."""
    return {path: value for path, value in expected.items() if not is_conditions(value)}


def header_checks(expected: Mapping[str, str | Mapping[str, Any]]) -> tuple[HeaderCheck, ...]:
    return tuple(
        header_check(name, value, name.lower() in SECRET_HEADERS)
        for name, value in expected.items()
    )
