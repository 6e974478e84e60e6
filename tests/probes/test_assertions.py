from __future__ import annotations

import re
from typing import Any

import pytest

from agent.json_values import json_equal
from agent.model import HttpCheck
from agent.probes.assertions import BodyAssertions, compile_json_path
from agent.text_pattern import TextPattern


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
    compiled = assertions(body_contains="gemäß", body_regex=TextPattern.compile(r"Zustand: \pL+"))

    assert compiled.failure(body, "iso-8859-1") is None
    assert compiled.failure(body, "no-such-charset") == 'body does not contain "gemäß"'


def test_contains_regex_and_json_fail_in_that_order() -> None:
    compiled = assertions(
        body_contains="ready", body_regex=TextPattern.compile("^v2"), json_equals={"$.ok": True}
    )

    assert compiled.failure(b'{"ok": false}') == 'body does not contain "ready" (and 2 more)'


def test_an_invalid_json_path_names_itself() -> None:
    with pytest.raises(ValueError, match=r"^\$\[\?: not a valid JSON path: "):
        compile_json_path("$[?")


def _alias_bomb(levels: int) -> list[Any]:
    """What YAML anchors make: one list shared ``9 ** levels`` times (9**30 leaves here)."""
    value: list[Any] = ["lol"] * 9
    for _ in range(levels):
        value = [value] * 9
    return value


def test_a_huge_shared_expected_value_is_shown_without_rendering_it_whole() -> None:
    compiled = assertions(json_equals={"$.items": _alias_bomb(30)})

    failure = compiled.failure(b'{"items": [["lol"]]}')

    assert failure is not None
    expected, got = failure.removeprefix("$.items: expected ").split(", got ")
    assert expected.startswith("[[[[")
    assert expected.endswith("…")
    assert len(expected) == 80
    assert got == '[["lol"]]'


def test_values_nested_deeper_than_shown_and_huge_integers_render_briefly() -> None:
    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested]

    failure = assertions(json_equals={"$.a": nested, "$.b": 10**5000}).failure(b'{"a": 1}')

    assert failure == "$.a: expected " + "[" * 33 + "…" + "]" * 33 + ", got 1 (and 1 more)"
    assert assertions(json_equals={"$.b": 10**5000}).failure(b'{"b": 1}') == (
        "$.b: expected <integer of 16610 bits>, got 1"
    )


def test_a_body_nested_too_deeply_for_the_json_parser_is_an_assertion_failure() -> None:
    failure = assertions(json_equals={"$.a": 1}).failure(b"[" * 200_000 + b"]" * 200_000)

    assert failure == "body is not JSON we can read (nested too deeply)"


def test_a_catastrophic_regex_runs_in_linear_time() -> None:
    # (a+)+} backtracks 2**n times in Python's re: 2**100_000 would never finish
    compiled = assertions(body_regex=TextPattern.compile(r"(a+)+\}"))

    assert compiled.failure(b"a" * 100_000) == "body does not match /(a+)+\\}/"
    assert compiled.failure(b"a" * 100_000 + b"}") is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", r"invalid escape sequence: \1"),
        (r"(?=ready)", "invalid perl operator: (?="),
        (r"ready\Z", r"invalid escape sequence: \Z"),
        ("[", "missing ]: ["),
    ],
)
def test_a_pattern_re2_cannot_run_linearly_is_refused(pattern: str, reason: str) -> None:
    message = f"invalid regular expression (RE2 syntax: no backreferences or lookarounds): {reason}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        TextPattern.compile(pattern)
