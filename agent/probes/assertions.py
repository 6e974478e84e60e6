"""Checks on a response body: substring, regular expression, JSON-path equality and conditions.

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
from dataclasses import dataclass
from typing import Any

import jsonpath

from agent.contract import ValueConditions
from agent.json_values import clip, json_equal, show
from agent.model import HttpCheck
from agent.text_pattern import TextPattern

JsonQuery = jsonpath.JSONPath | jsonpath.CompoundJSONPath


def compile_json_path(path: str) -> JsonQuery:
    """Parse ``path`` once; raise ValueError naming the path when it is not a JSON path."""
    try:
        return jsonpath.compile(path)
    except (jsonpath.JSONPathError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path}: not a valid JSON path: {reason}") from None


@dataclass(frozen=True, slots=True)
class JsonExpectation:
    """The value (or, for a non-singular path, the list of values) ``path`` must select, or the
    conditions it must meet (:class:`agent.contract.ValueConditions`)."""

    path: str
    query: JsonQuery
    singular: bool
    expected: Any
    conditions: ValueConditions | None = None

    @classmethod
    def compile(
        cls, path: str, expected: Any, conditions: ValueConditions | None = None
    ) -> JsonExpectation:
        query = compile_json_path(path)
        singular = isinstance(query, jsonpath.JSONPath) and query.singular_query()
        return cls(path, query, singular, expected, conditions)

    def failure(self, document: Any) -> str | None:
        """None when ``document`` satisfies the expectation, else what went wrong."""
        matches = self._select(document)
        if self.conditions is not None:
            if self.singular:
                found, value = bool(matches), matches[0] if matches else None
            else:  # the list of matches; "exists" asks whether it has any
                found, value = bool(matches) or self.conditions.exists is None, matches
            problem = self.conditions.failure(found, value)
            return None if problem is None else f"{self.path}: {problem}"
        if self.singular:
            if not matches:
                return f"{self.path}: expected {show(self.expected)}, got nothing"
            actual: Any = matches[0]
        else:
            actual = matches
        if json_equal(actual, self.expected):
            return None
        return f"{self.path}: expected {show(self.expected)}, got {show(actual)}"

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
        if (
            check.body_contains is None
            and check.body_regex is None
            and not check.json_equals
            and not check.json_conditions
        ):
            return None
        expectations = tuple(
            JsonExpectation.compile(path, expected) for path, expected in check.json_equals.items()
        ) + tuple(
            JsonExpectation.compile(path, None, conditions)
            for path, conditions in check.json_conditions.items()
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
                failures.append(f"body does not contain {show(self.contains)}")
            if self.regex is not None and not self.regex.search(text):
                failures.append(f"body does not match /{clip(self.regex.pattern)}/")
        if self.json:
            try:
                document = json.loads(body)
            except ValueError as exc:
                failures.append(f"body is not JSON ({clip(str(exc))})")
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


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
