"""Contract conditions on a response: what a JSON value or a header must be, beyond equality.

Plain data compiled once from the spec (:func:`value_conditions`, :func:`header_check`) that
judges values with no I/O. The spec writes them as a mapping of operators, e.g.
``{gt: 0}``, ``{length: {ge: 1}}``, ``{type: string, regex: "^ch_"}``; every operator of a
mapping must hold. A failure is the one-line detail a user sees, without the JSON path or header
name (the caller puts it in front): ``expected > 0, got -3``.

Operators on a JSON value (:data:`VALUE_OPERATORS`):

* ``exists: true|false`` - the path selects something (``null`` counts) / nothing;
* ``eq``, ``ne`` - JSON equality with any value; ``gt``, ``ge``, ``lt``, ``le`` - with a number
  (the value must be a number: ``"3"`` is not greater than 0);
* ``regex`` - an RE2 pattern found in the value, which must be a string;
* ``length`` - of a string (characters), array or object (keys): a count, or comparisons such as
  ``{ge: 1, le: 50}``;
* ``type`` - one of :data:`JSON_TYPES` (``integer``: a number without a fraction).

Operators on a header (:data:`HEADER_OPERATORS`): ``exists``, ``eq`` (the whole value, exact),
``regex`` (RE2, found in the value). Header names are case-insensitive; repeated headers are
judged on their values joined with ``, `` as HTTP defines. Values of credential headers
(``secret``, :data:`agent.redaction.SECRET_HEADERS`) are never shown.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.json_values import clip, json_equal, show
from agent.text_pattern import TextPattern

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
COMPARISONS: Mapping[str, str] = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "ge": ">=",
    "lt": "<",
    "le": "<=",
}
VALUE_OPERATORS = ("exists", *COMPARISONS, "regex", "length", "type")
HEADER_OPERATORS = ("exists", "eq", "regex")

_ORDER: Mapping[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def is_conditions(value: object) -> bool:
    """Whether a spec value is a mapping of operators (else it is an expected value)."""
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(key, str) and key in VALUE_OPERATORS for key in value)
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type(value: object) -> str:
    """The JSON type name of a parsed JSON value (``integer`` for whole numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str  # a key of COMPARISONS
    value: Any  # a number for gt/ge/lt/le, any JSON value for eq/ne

    def holds(self, actual: Any) -> bool:
        if self.op == "eq":
            return json_equal(actual, self.value)
        if self.op == "ne":
            return not json_equal(actual, self.value)
        return _is_number(actual) and _ORDER[self.op](actual, self.value)

    def text(self) -> str:
        return f"{COMPARISONS[self.op]} {show(self.value)}"


@dataclass(frozen=True, slots=True)
class ValueConditions:
    """What one JSON value must be; every field set must hold."""

    exists: bool | None = None
    type: str | None = None
    compare: tuple[Comparison, ...] = ()
    regex: TextPattern | None = None
    length: tuple[Comparison, ...] = ()

    def failure(self, found: bool, actual: Any) -> str | None:
        """None when a value (``found``) or its absence satisfies every condition, else why."""
        if self.exists is False:
            return None if not found else f"expected nothing, got {show(actual)}"
        if not found:
            return f"expected {self._first_wanted()}, got nothing"
        if self.type is not None and not _of_type(actual, self.type):
            return f"expected type {self.type}, got {show(actual)}"
        for comparison in self.compare:
            if not comparison.holds(actual):
                wanted = show(comparison.value) if comparison.op == "eq" else comparison.text()
                return f"expected {wanted}, got {show(actual)}"
        if self.regex is not None and not (isinstance(actual, str) and self.regex.search(actual)):
            return f"expected to match /{clip(self.regex.pattern)}/, got {show(actual)}"
        if self.length:
            size = len(actual) if isinstance(actual, str | Sequence | Mapping) else None
            for comparison in self.length:
                if size is None:
                    return f"expected length {comparison.text()}, got {show(actual)}"
                if not comparison.holds(size):
                    return f"expected length {comparison.text()}, got length {size}"
        return None

    def _first_wanted(self) -> str:
        if self.type is not None:
            return f"type {self.type}"
        if self.compare:
            first = self.compare[0]
            return show(first.value) if first.op == "eq" else first.text()
        if self.regex is not None:
            return f"to match /{clip(self.regex.pattern)}/"
        if self.length:
            return f"length {self.length[0].text()}"
        return "a value"


def _of_type(value: Any, name: str) -> bool:
    actual = json_type(value)
    return actual == name or (name == "number" and actual == "integer")


def value_conditions(spec: Mapping[str, Any]) -> ValueConditions:
    """Compile a mapping of :data:`VALUE_OPERATORS`; ValueError with one line saying what is
    wrong and what is allowed."""
    unknown = [key for key in spec if key not in VALUE_OPERATORS]
    if unknown or not spec:
        raise ValueError(f"conditions are {', '.join(VALUE_OPERATORS)}")
    exists = _exists(spec)
    kind = spec.get("type")
    if kind is not None and kind not in JSON_TYPES:
        raise ValueError(f"type must be one of {', '.join(JSON_TYPES)}, got {show(kind)}")
    compare = tuple(_comparison(op, spec[op], "") for op in COMPARISONS if op in spec)
    pattern = spec.get("regex")
    regex = None if pattern is None else _pattern(pattern)
    length = _length(spec["length"]) if "length" in spec else ()
    return ValueConditions(exists, kind, compare, regex, length)


def _comparison(op: str, value: Any, what: str) -> Comparison:
    if what:  # a length: a count
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            count = "a count (a whole number, 0 or more)"
            raise ValueError(f"{what}{op} must be {count}, got {show(value)}")
    elif op in _ORDER and not (_is_number(value) and math.isfinite(value)):
        raise ValueError(f"{op} must be a number, got {show(value)}")
    return Comparison(op, value)


def _length(spec: Any) -> tuple[Comparison, ...]:
    if _is_number(spec):
        spec = {"eq": spec}
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(
            f"length must be a count or a mapping of {', '.join(COMPARISONS)}, got {show(spec)}"
        )
    for op in spec:
        if op not in COMPARISONS:
            known = ", ".join(COMPARISONS)
            raise ValueError(f"unknown length condition {show(op)}; they are {known}")
    return tuple(_comparison(op, spec[op], "length.") for op in COMPARISONS if op in spec)


def _pattern(pattern: Any) -> TextPattern:
    if not isinstance(pattern, str):
        raise ValueError(f"regex must be a string, got {show(pattern)}")
    try:
        return TextPattern.compile(pattern)
    except ValueError as exc:
        raise ValueError(f"regex: {exc}") from None


@dataclass(frozen=True, slots=True)
class HeaderCheck:
    """What one response header must be."""

    name: str  # as the spec spells it; matched case-insensitively
    exists: bool | None = None
    equals: str | None = None
    regex: TextPattern | None = None
    secret: bool = False  # a credential header: its values are never shown

    def failure(self, value: str | None) -> str | None:
        """None when ``value`` (None: no such header) satisfies the check, else the detail."""
        # "(credential)" also keeps "Cookie: expected" from reading as a secret to redact
        label = f"header {self.name} (credential)" if self.secret else f"header {self.name}"
        if self.exists is False:
            return None if value is None else f"{label}: expected no such header, got one"
        if value is None:
            return f"{label}: expected {self._wanted()}, got nothing"
        if self.equals is not None and value != self.equals:
            return f"{label}: expected {self._wanted()}, got {self._shown(value)}"
        if self.regex is not None and not self.regex.search(value):
            return f"{label}: expected {self._wanted()}, got {self._shown(value)}"
        return None

    def _wanted(self) -> str:
        if self.equals is not None:
            return self._shown(self.equals)
        if self.regex is not None:
            return f"to match /{clip(self.regex.pattern)}/"
        return "the header"

    def _shown(self, value: str) -> str:
        if self.secret:
            return "a value not shown"
        return clip(value) or '""'


def header_check(name: str, spec: str | Mapping[str, Any], secret: bool = False) -> HeaderCheck:
    """Compile a header expectation: a string (the exact value) or a mapping of
    :data:`HEADER_OPERATORS`; ValueError saying what is allowed."""
    if isinstance(spec, str):
        return HeaderCheck(name, equals=spec, secret=secret)
    known = ", ".join(HEADER_OPERATORS)
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(
            f"must be the expected value (a string, quoted) or a mapping of {known}, "
            f"got {show(spec)}"
        )
    for op in spec:
        if op not in HEADER_OPERATORS:
            raise ValueError(f"unknown condition {show(op)}; header conditions are {known}")
    exists = _exists(spec)
    equals = spec.get("eq")
    if equals is not None and not isinstance(equals, str):
        raise ValueError(f"eq must be a string (quote it), got {show(equals)}")
    pattern = spec.get("regex")
    regex = None if pattern is None else _pattern(pattern)
    return HeaderCheck(name, exists, equals, regex, secret)


def _exists(spec: Mapping[str, Any]) -> bool | None:
    """The ``exists`` condition of ``spec`` (None if absent), checked."""
    exists = spec.get("exists")
    if exists is not None and not isinstance(exists, bool):
        raise ValueError(f"exists must be true or false, got {show(exists)}")
    if exists is False and len(spec) > 1:
        raise ValueError("exists: false cannot be combined with other conditions")
    return exists
