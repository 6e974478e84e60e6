from __future__ import annotations

import re
from typing import Any

import pytest

from agent.model import HttpCheck
from agent.probes.assertions import BodyAssertions, compile_json_path, json_equal


def assertions(**check: Any) -> BodyAssertions:
    compiled = BodyAssertions.from_check(HttpCheck(url="http://node.example/", **check))
    assert compiled is not None
    return compiled


def test_a_check_without_body_assertions_compiles_to_none() -> None:
    assert BodyAssertions.from_check(HttpCheck(url="http://node.example/")) is None


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        ("ok", "ok", True),
        ("ok", "OK", False),
        (1, 1.0, True),
        (True, 1, False),
        (1, True, False),
        (False, False, True),
        (None, None, True),
        (None, "null", False),
        ("1", 1, False),
        ([1, "a"], (1, "a"), True),
        ([1, 2], [2, 1], False),
        ({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": True}, {"a": 1}, False),
        ([], {}, False),
    ],
)
def test_json_equality(actual: Any, expected: Any, equal: bool) -> None:
    assert json_equal(actual, expected) is equal


@pytest.mark.parametrize(
    ("json_equals", "body", "failure"),
    [
        ({"$.status": "ok"}, b'{"status": "ok"}', None),
        ({"$.status": "ok"}, b'{"status": "degraded"}', '$.status: expected "ok", got "degraded"'),
        ({"$.status": "ok"}, b"{}", '$.status: expected "ok", got nothing'),
        ({"$.count": 3}, b'{"count": 3.0}', None),
        ({"$.live": True}, b'{"live": 1}', "$.live: expected true, got 1"),
        ({"$.items[1].id": 7}, b'{"items": [{"id": 6}, {"id": 7}]}', None),
        ({"$.items[*].id": [6, 7]}, b'{"items": [{"id": 6}, {"id": 7}]}', None),
        (
            {"$.items[*].id": [6, 7]},
            b'{"items": [{"id": 6}]}',
            "$.items[*].id: expected [6, 7], got [6]",
        ),
        ({"$": "up"}, b'"up"', None),
        ({"$.status": "up"}, b'"up"', '$.status: expected "up", got nothing'),
        (
            {"$.a": 1, "$.b": 2, "$.c": 3},
            b'{"a": 0, "b": 0, "c": 3}',
            "$.a: expected 1, got 0 (and 1 more)",
        ),
    ],
)
def test_json_expectations(json_equals: dict[str, Any], body: bytes, failure: str | None) -> None:
    assert assertions(json_equals=json_equals).failure(body) == failure


@pytest.mark.parametrize("body", [b"", b"<html>", b'{"status": "ok"', b"\xff\xfe\x00"])
def test_a_body_that_is_not_json_fails_json_expectations(body: bytes) -> None:
    failure = assertions(json_equals={"$.status": "ok"}).failure(body)

    assert failure is not None
    assert failure.startswith("body is not JSON (")


def test_long_values_are_clipped_to_one_line() -> None:
    body = b'{"status": "' + b"line\\n" * 100 + b'"}'

    failure = assertions(json_equals={"$.status": "ok"}).failure(body)

    assert failure is not None
    assert "\n" not in failure
    assert len(failure) < 120
    assert failure.endswith("…")


def test_contains_and_regex_read_the_declared_charset() -> None:
    body = "Zustand: gemäß Plan".encode("latin-1")
    compiled = assertions(body_contains="gemäß", body_regex=re.compile(r"Zustand: \w+"))

    assert compiled.failure(body, "iso-8859-1") is None
    assert compiled.failure(body, "no-such-charset") == 'body does not contain "gemäß"'


def test_contains_regex_and_json_fail_in_that_order() -> None:
    compiled = assertions(
        body_contains="ready", body_regex=re.compile("^v2"), json_equals={"$.ok": True}
    )

    assert compiled.failure(b'{"ok": false}') == 'body does not contain "ready" (and 2 more)'


def test_an_invalid_json_path_names_itself() -> None:
    with pytest.raises(ValueError, match=r"^\$\[\?: not a valid JSON path: "):
        compile_json_path("$[?")
